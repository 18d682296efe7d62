import { describe, expect, it } from "vitest";
import { answersAs, describeHosts, editDbUrl, hasSeveralHosts, readDbUrl, readDbUrlOrNull, sessionAttrsOf, sessionHost, socketHostInline, urlHosts, withOneHost } from "./pg-hosts";

const failover = "postgresql://app:p%40ss,w@db1:5433,[::1],db3/shop%20eu?target_session_attrs=read-write&sslmode=require&options=-c%20a%3D1,2";

describe("libpq's failover form", () => {
  it("is a comma in the host part only, not in the password or a parameter", () => {
    expect(hasSeveralHosts(failover)).toBe(true);
    expect(hasSeveralHosts("postgres://db1,db2/shop")).toBe(true);
    expect(hasSeveralHosts("postgresql://app:p%2Cw@db:5432/shop?options=-c%20a%3D1,2")).toBe(false);
    expect(hasSeveralHosts("postgresql://app:p,w@db:5432/shop")).toBe(false);
    expect(hasSeveralHosts("https://a,b/c")).toBe(false);
  });

  it("lists the hosts in order with libpq's default port", () => {
    expect(urlHosts(failover)).toEqual([
      { host: "db1", port: 5433 },
      { host: "[::1]", port: 5432 },
      { host: "db3", port: 5432 },
    ]);
    expect(urlHosts("postgresql://u@db:6432/x")).toEqual([{ host: "db", port: 6432 }]);
    expect(urlHosts("postgresql://u@db/x")).toEqual([{ host: "db", port: 5432 }]);
    expect(describeHosts(failover)).toBe("db1:5433,[::1]:5432,db3:5432");
    expect(() => urlHosts("postgresql://db1:x,db2/shop")).toThrow(TypeError);
    expect(() => readDbUrl("postgresql://db1:54a,db2/shop")).toThrow(TypeError);
  });

  it("names the host a session went to as the URL writes it, with its place in the list", () => {
    // pg.Client's host and port after connect: an IPv6 address without its brackets.
    expect(sessionHost(failover, { host: "::1", port: 5432 })).toEqual({ spec: "[::1]:5432", at: 2, of: 3 });
    expect(sessionHost(failover, { host: "db3", port: 5432 })).toEqual({ spec: "db3:5432", at: 3, of: 3 });
    // Same name, other port: not one of the URL's hosts.
    expect(sessionHost(failover, { host: "db1", port: 5432 })).toBeNull();
    expect(sessionHost("postgresql://u@db:6432/x", { host: "db", port: 6432 })).toEqual({ spec: "db:6432", at: 1, of: 1 });
  });

  it("reads and edits the user, password, database and parameters, every host kept", () => {
    const u = readDbUrl(failover);
    expect([u.username, decodeURIComponent(u.password), decodeURIComponent(u.pathname)]).toEqual(["app", "p@ss,w", "/shop eu"]);
    expect(u.searchParams.get("target_session_attrs")).toBe("read-write");
    expect(u.searchParams.get("options")).toBe("-c a=1,2");
    const edited = editDbUrl(failover, (e) => {
      e.password = "";
      e.pathname = "/postgres";
      e.searchParams.delete("options");
    });
    expect(edited).toBe("postgresql://app@db1:5433,[::1],db3/postgres?target_session_attrs=read-write&sslmode=require");
    // A plain URL is edited as WHATWG's parser does.
    expect(editDbUrl("postgresql://u:pw@db:5432/a", (e) => void (e.pathname = "/b"))).toBe("postgresql://u:pw@db:5432/b");
    expect(() => editDbUrl(failover, (e) => void (e.hostname = "elsewhere"))).toThrow(/not its hosts/);
  });

  it("names one host for one connection", () => {
    expect(withOneHost(failover, { host: "[::1]", port: 5432 })).toBe(
      "postgresql://app:p%40ss,w@[::1]:5432/shop%20eu?target_session_attrs=read-write&sslmode=require&options=-c%20a%3D1,2",
    );
    expect(new URL(withOneHost(failover, { host: "db3", port: 5432 })).host).toBe("db3:5432");
  });

  it("reads target_session_attrs as libpq does, and keeps the servers it asks for", () => {
    expect(sessionAttrsOf("postgresql://a,b/x", {})).toBe("any");
    expect(sessionAttrsOf("postgresql://a,b/x", { PGTARGETSESSIONATTRS: "primary" })).toBe("primary");
    expect(sessionAttrsOf("postgresql://a,b/x?target_session_attrs=standby", { PGTARGETSESSIONATTRS: "primary" })).toBe("standby");
    expect(() => sessionAttrsOf("postgresql://a,b/x?target_session_attrs=master", {})).toThrow(/not one libpq knows/);
    const primary = { inRecovery: false, readOnly: false };
    const standby = { inRecovery: true, readOnly: true };
    const readOnlyPrimary = { inRecovery: false, readOnly: true };
    expect([primary, standby, readOnlyPrimary].map((s) => answersAs("read-write", s))).toEqual([true, false, false]);
    expect([primary, standby, readOnlyPrimary].map((s) => answersAs("primary", s))).toEqual([true, false, true]);
    expect([primary, standby, readOnlyPrimary].map((s) => answersAs("read-only", s))).toEqual([false, true, true]);
    expect([primary, standby, readOnlyPrimary].map((s) => answersAs("standby", s))).toEqual([false, true, false]);
    expect([primary, standby, readOnlyPrimary].map((s) => answersAs("any", s))).toEqual([true, true, true]);
  });
});

describe("libpq's form with a user and the host in a parameter (decision 203)", () => {
  it("is written with the host in the host part, percent-encoded, the other parameters as written", () => {
    expect(socketHostInline("postgresql://app:pw@/shop?host=/var/run/postgresql")).toBe("postgresql://app:pw@%2Fvar%2Frun%2Fpostgresql/shop");
    expect(socketHostInline("postgresql://app:pw@/shop?sslmode=disable&host=%2Ftmp&port=5433&options=-c%20search_path%3Dx+y")).toBe(
      "postgresql://app:pw@%2Ftmp:5433/shop?sslmode=disable&options=-c%20search_path%3Dx+y",
    );
    expect(socketHostInline("postgres://app@/shop?host=db.internal")).toBe("postgres://app@db.internal/shop");
  });

  it("leaves every other URL as it is", () => {
    for (const u of [
      "postgresql://app:pw@db:5432/shop?host=/elsewhere",
      "postgresql:///shop?host=/var/run/postgresql",
      "postgresql://app:pw@/shop",
      "postgresql://app:pw@/shop?host=a,b",
      "postgresql://app@h1:5432,h2:5432/shop",
      "mysql://app:pw@/shop?host=/x",
    ]) {
      expect(socketHostInline(u)).toBe(u);
    }
  });

  it("reads back as the same connection: user, password, database, socket directory and port", () => {
    const u = readDbUrl(socketHostInline("postgresql://app:p%40ss@/shop?host=/var/run/postgresql&port=5433"));
    expect([u.username, decodeURIComponent(u.password), u.pathname, decodeURIComponent(u.hostname), u.port]).toEqual(["app", "p@ss", "/shop", "/var/run/postgresql", "5433"]);
    expect(urlHosts(socketHostInline("postgresql://app@/shop?host=/tmp"))).toEqual([{ host: "/tmp", port: 5432 }]);
    // Validation takes it as written; without a host anywhere it is no URL WHATWG reads.
    expect(readDbUrlOrNull("postgresql://app:pw@/shop?host=/tmp")).not.toBeNull();
    expect(readDbUrlOrNull("postgresql://app:pw@/shop")).toBeNull();
  });
});
