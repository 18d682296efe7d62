import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ConnectionOptions } from "node:tls";
import { ownApplicationName, poolConfig, serverOffersSsl, sessionConfig, SslModeError, sslModeOf } from "./pg-url";

/** A server that answers libpq's SSLRequest with one byte, as PostgreSQL does, and counts the asks. */
function sslAnswerer(answer: "S" | "N") {
  let asked = 0;
  const server = net.createServer((socket) => {
    socket.once("data", (b) => {
      if (b.length === 8 && b.readUInt32BE(4) === 80877103) asked++;
      socket.end(answer);
    });
  });
  return {
    server,
    asked: () => asked,
    listen: () => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port))),
  };
}

const sslOf = (c: { ssl?: unknown }) => c.ssl as ConnectionOptions | boolean | undefined;

describe("a connection URL read as libpq reads it", () => {
  const offers = sslAnswerer("S");
  const refuses = sslAnswerer("N");
  let sPort = 0;
  let nPort = 0;
  let ca = "";

  beforeAll(async () => {
    sPort = await offers.listen();
    nPort = await refuses.listen();
    ca = path.join(mkdtempSync(path.join(tmpdir(), "vl-pgurl-")), "root.crt");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n");
  });
  afterAll(() => {
    offers.server.close();
    refuses.server.close();
  });

  it("sslmode=require encrypts without checking the certificate (node-pg alone checked it as verify-full)", async () => {
    const c = await sessionConfig("postgresql://u:p%40ss@db.internal:6432/shop?sslmode=require");
    expect(c).toMatchObject({ host: "db.internal", port: 6432, user: "u", password: "p@ss", database: "shop" });
    expect(sslOf(c)).toMatchObject({ rejectUnauthorized: false });
  });

  it("require with a root certificate checks the CA and not the host name (libpq's verify-ca)", async () => {
    for (const mode of ["require", "verify-ca"]) {
      const ssl = sslOf(await sessionConfig(`postgresql://u@db.internal/shop?sslmode=${mode}&sslrootcert=${ca}`)) as ConnectionOptions;
      expect(ssl.ca, mode).toContain("not checked here");
      expect(ssl.rejectUnauthorized, mode).not.toBe(false);
      expect(ssl.checkServerIdentity?.("elsewhere", {} as never), mode).toBeUndefined();
    }
  });

  it("verify-full checks both", async () => {
    const ssl = sslOf(await sessionConfig(`postgresql://u@db.internal/shop?sslmode=verify-full&sslrootcert=${ca}`)) as ConnectionOptions;
    expect(ssl.ca).toContain("not checked here");
    expect(ssl.rejectUnauthorized).not.toBe(false);
    expect(ssl.checkServerIdentity).toBeUndefined();
  });

  it("disable never encrypts", async () => {
    expect(sslOf(await sessionConfig("postgresql://u@db.internal/shop?sslmode=disable"))).toBe(false);
  });

  it("prefer — and no sslmode, libpq's default — encrypt when the server offers SSL, and only then", async () => {
    for (const q of ["", "?sslmode=prefer", "?sslmode=allow"]) {
      const before = offers.asked();
      expect(sslOf(await sessionConfig(`postgresql://u@127.0.0.1:${sPort}/shop${q}`)), q).toMatchObject({ rejectUnauthorized: false });
      expect(offers.asked(), q).toBe(before + 1);
      expect(sslOf(await sessionConfig(`postgresql://u@127.0.0.1:${nPort}/shop${q}`)), q).toBe(false);
    }
  });

  it("asks nothing of a Unix socket (libpq never uses SSL there) and goes plain where nobody answers", async () => {
    expect(sslOf(await sessionConfig("postgresql://u@localhost/shop?host=/var/run/postgresql"))).toBe(false);
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    expect(await serverOffersSsl("127.0.0.1", closed)).toBe(false);
    expect(sslOf(await sessionConfig(`postgresql://u@127.0.0.1:${closed}/shop`))).toBe(false);
  });

  it("PGSSLMODE applies where the URL says nothing, as for libpq", () => {
    expect(sslModeOf("postgresql://h/db", { PGSSLMODE: "require" })).toBe("require");
    expect(sslModeOf("postgresql://h/db?sslmode=disable", { PGSSLMODE: "require" })).toBe("disable");
    expect(sslModeOf("postgresql://h/db", {})).toBe("prefer");
  });

  it("refuses a mode libpq does not know (node-pg's no-verify), which pg_dump would refuse", async () => {
    await expect(sessionConfig("postgresql://h/db?sslmode=no-verify")).rejects.toThrow(SslModeError);
    expect(() => poolConfig("postgresql://h/db?sslmode=no-verify")).toThrow(/sslmode=no-verify is not a libpq SSL mode/);
  });

  it("a pool asks nothing: the explicit modes as libpq, prefer without SSL", () => {
    expect(sslOf(poolConfig("postgresql://h/db?sslmode=require"))).toMatchObject({ rejectUnauthorized: false });
    expect(sslOf(poolConfig("postgresql://h/db"))).toBe(false);
    expect(poolConfig("postgresql://u:pw@h:5433/db?application_name=x")).toMatchObject({ host: "h", port: 5433, user: "u", password: "pw", database: "db", application_name: "x" });
  });

  it("names Vaultline's own pool as its URL does, else vaultline (decision 188)", () => {
    expect(ownApplicationName("postgresql://u@h/db?application_name=ops-dashboard")).toBe("ops-dashboard");
    expect(ownApplicationName("postgresql://u@h/db")).toBe("vaultline");
    // An empty name would spare every unnamed session of the application.
    expect(ownApplicationName("postgresql://u@h/db?application_name=")).toBe("vaultline");
  });
});
