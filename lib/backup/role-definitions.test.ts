import { describe, expect, it } from "vitest";
import { createRoleStatements, createRolesSql, missingRolesFrom, missingRolesWords, type RoleDefinition } from "./role-definitions";

const role = (name: string, over: Partial<RoleDefinition> = {}): RoleDefinition => ({
  name,
  superuser: false,
  inherit: true,
  createRole: false,
  createDb: false,
  login: false,
  replication: false,
  bypassRls: false,
  connectionLimit: -1,
  validUntil: null,
  settings: [],
  comment: null,
  memberOf: [],
  ...over,
});

describe("the statements that make a recorded role", () => {
  it("spell every attribute, the limit, the expiry, each setting and the comment, quoted", () => {
    const d = role('ana"lyst', {
      login: true,
      inherit: false,
      connectionLimit: 7,
      validUntil: "2030-01-01 00:00:00.000000+00",
      settings: ["work_mem=12MB", 'search_path="$user", billing, "My Schema"'],
      comment: "the analyst's login",
    });
    expect(createRoleStatements(d)).toEqual([
      `CREATE ROLE "ana""lyst" WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 7 VALID UNTIL '2030-01-01 00:00:00.000000+00'`,
      `ALTER ROLE "ana""lyst" SET "work_mem" TO '12MB'`,
      `ALTER ROLE "ana""lyst" SET "search_path" TO '$user', 'billing', 'My Schema'`,
      `COMMENT ON ROLE "ana""lyst" IS 'the analyst''s login'`,
    ]);
  });

  it("grant only the memberships a made role is on one side of, after every role is made", () => {
    const defs = [
      role("group", { memberOf: [{ role: "pg_read_all_stats", admin: false }] }),
      role("member", { login: true, memberOf: [{ role: "group", admin: true }] }),
      role("kept", { memberOf: [{ role: "other_kept", admin: false }] }),
      role("other_kept"),
    ];
    const sql = createRolesSql(defs, ["group", "member"]);
    expect(sql.filter((s) => s.startsWith("CREATE ROLE")).map((s) => s.split(" WITH ")[0])).toEqual(['CREATE ROLE "group"', 'CREATE ROLE "member"']);
    expect(sql.filter((s) => s.startsWith("GRANT"))).toEqual(['GRANT "pg_read_all_stats" TO "group"', 'GRANT "group" TO "member" WITH ADMIN OPTION']);
    expect(sql.findIndex((s) => s.startsWith("GRANT"))).toBeGreaterThan(sql.findLastIndex((s) => s.startsWith("CREATE ROLE")));
  });
});

describe("the roles a server lacks", () => {
  const defs = [role("app", { login: true, hadPassword: true }), role("reader"), role("ops", { login: true, hadPassword: false }), role("repl", { replication: true })];

  it("are creatable when recorded, unknown when not, and say which get no password and which need a superuser", () => {
    const m = missingRolesFrom(new Set(["reader"]), ["app", "reader", "legacy"], defs, 150000);
    expect(m).toEqual({ creatable: ["app", "ops", "repl"], unknown: ["legacy"], passwordless: ["app"], needSuperuser: ["repl"] });
    // PostgreSQL 16 lets a CREATEROLE role give REPLICATION it has itself.
    expect(missingRolesFrom(new Set(["reader"]), ["app"], defs, 160000).needSuperuser).toEqual([]);
    expect(missingRolesWords(m)).toBe(
      "3 roles the backup needs are not on this server (app, ops, repl); the backup recorded how to make them (attributes, memberships, settings, comment), and a restore asked to create roles makes them before anything else. " +
        "A backup holds no password: app will have none until you set one (ALTER ROLE … PASSWORD …). Only a superuser may make repl. The backup did not record how to make legacy: create it first.",
    );
  });

  it("a login role whose password the backup could not see is said to get none", () => {
    expect(missingRolesFrom(new Set(), [], [role("app", { login: true })], 150000).passwordless).toEqual(["app"]);
  });

  it("nothing is said when none is missing", () => {
    expect(missingRolesWords(missingRolesFrom(new Set(["app", "reader", "ops", "repl"]), ["app"], defs, 150000))).toBeNull();
  });
});
