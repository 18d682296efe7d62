import { describe, expect, it } from "vitest";
import { followOwner, ownerStatement, stateDifferences, stateEpilogue, stateStatements, type DatabaseState } from "./database-state";

const ownerDefaults = (owner: string) => [
  { grantee: null, privilege: "CONNECT", grantable: false },
  { grantee: null, privilege: "TEMPORARY", grantable: false },
  { grantee: owner, privilege: "CONNECT", grantable: false },
  { grantee: owner, privilege: "CREATE", grantable: false },
  { grantee: owner, privilege: "TEMPORARY", grantable: false },
];

const backup: DatabaseState = {
  owner: "app",
  connectionLimit: -1,
  grants: [...ownerDefaults("app"), { grantee: "reader", privilege: "CONNECT", grantable: false }],
  comment: "the shop database",
  settings: [
    { role: null, config: ["statement_timeout=42s", "search_path=shop, public"] },
    { role: "reader", config: ["work_mem=8MB"] },
  ],
};

describe("a database's own state, live against the backup's", () => {
  it("the same state needs no statement and shows no difference", () => {
    expect(stateStatements("shop", backup, backup, { owner: true, grants: true })).toEqual([]);
    expect(ownerStatement("shop", backup, backup, { owner: true, grants: true })).toBeNull();
    expect(stateDifferences(backup, backup)).toEqual([]);
  });

  it("what was changed after the backup is put back, settings last and marked as settings", () => {
    const live: DatabaseState = {
      owner: "app",
      connectionLimit: 20,
      grants: [...ownerDefaults("app").filter((g) => !(g.grantee === null && g.privilege === "TEMPORARY")), { grantee: "intruder", privilege: "CONNECT", grantable: true }],
      comment: null,
      settings: [{ role: null, config: ["statement_timeout=30s", "search_path=shop, public", "work_mem=64MB"] }],
    };
    const statements = stateStatements("shop", live, backup, { owner: true, grants: true });
    expect(statements.map((s) => s.sql)).toEqual([
      `ALTER DATABASE "shop" CONNECTION LIMIT -1`,
      `REVOKE CONNECT ON DATABASE "shop" FROM "intruder"`,
      `GRANT TEMPORARY ON DATABASE "shop" TO PUBLIC`,
      `GRANT CONNECT ON DATABASE "shop" TO "reader"`,
      `COMMENT ON DATABASE "shop" IS 'the shop database'`,
      `ALTER DATABASE "shop" RESET "work_mem"`,
      `ALTER DATABASE "shop" SET "statement_timeout" TO '42s'`,
      `ALTER ROLE "reader" IN DATABASE "shop" SET "work_mem" TO '8MB'`,
    ]);
    expect(statements.filter((s) => s.setting).map((s) => s.sql)).toEqual(statements.slice(-3).map((s) => s.sql));
    expect(stateDifferences(live, backup)).toEqual([
      "Connection limit: 20 → none",
      "CONNECT for intruder: revoked (not in the backup)",
      "TEMPORARY for PUBLIC: granted (as in the backup)",
      "CONNECT for reader: granted (as in the backup)",
      'Comment: none → "the shop database"',
      "Setting statement_timeout: 30s → 42s",
      "Setting work_mem: 64MB → not set",
      "Setting work_mem for reader: not set → 8MB",
    ]);
  });

  it("a custom setting's values are not shown: it may hold the application's secrets", () => {
    const live: DatabaseState = { ...backup, settings: [...backup.settings, { role: "web", config: ["app.settings.jwt_secret=live-secret"] }] };
    const back: DatabaseState = { ...backup, settings: [...backup.settings, { role: "web", config: ["app.settings.jwt_secret=old-secret"] }] };
    expect(stateDifferences(live, back)).toEqual(["Setting app.settings.jwt_secret for web: another value in the backup"]);
    expect(stateDifferences(live, backup)).toEqual(["Setting app.settings.jwt_secret for web: set → not set"]);
    expect(JSON.stringify(stateDifferences(backup, live))).not.toContain("secret=");
    const [statement] = stateStatements("shop", backup, live, { owner: true, grants: true });
    expect(statement.sql).toBe(`ALTER ROLE "web" IN DATABASE "shop" SET "app.settings.jwt_secret" TO 'live-secret'`);
    expect(statement.shown).toBe(`ALTER ROLE "web" IN DATABASE "shop" SET "app.settings.jwt_secret" TO (hidden)`);
    // A value holding " TO " shows none of itself (cut at its own " TO ", its start showed).
    const odd: DatabaseState = { ...backup, settings: [{ role: null, config: ["app.key=abc TO s3cr3t-tail"] }] };
    const [oddStatement] = stateStatements("shop", { ...backup, settings: [] }, odd, { owner: true, grants: true });
    expect(oddStatement.shown).toBe(`ALTER DATABASE "shop" SET "app.key" TO (hidden)`);
    expect(oddStatement.shown).not.toContain("abc");
  });

  it("a grant option differs alone: only the option is revoked or granted", () => {
    const live: DatabaseState = { ...backup, grants: backup.grants.map((g) => (g.grantee === "reader" ? { ...g, grantable: true } : g)) };
    expect(stateStatements("shop", live, backup, { owner: true, grants: true }).map((s) => s.sql)).toEqual([`REVOKE GRANT OPTION FOR CONNECT ON DATABASE "shop" FROM "reader"`]);
    expect(stateStatements("shop", backup, live, { owner: true, grants: true }).map((s) => s.sql)).toEqual([`GRANT CONNECT ON DATABASE "shop" TO "reader" WITH GRANT OPTION`]);
    expect(stateDifferences(live, backup)).toEqual(["CONNECT for reader: without grant option, as in the backup"]);
  });

  it("another owner: one statement first, and the owner's own privileges are said once, by the owner's line", () => {
    const live: DatabaseState = { ...backup, owner: "app2", grants: [...ownerDefaults("app2"), { grantee: "reader", privilege: "CONNECT", grantable: false }] };
    expect(ownerStatement("shop", live, backup, { owner: true, grants: true })).toBe(`ALTER DATABASE "shop" OWNER TO "app"`);
    expect(stateDifferences(live, backup)).toEqual(["Owner: app2 → app"]);
  });

  it("kept by another owner, the backup's owner's own privileges are that owner's, not handed to the old one", () => {
    const moved = followOwner(backup.grants, "app", "app2");
    expect(moved).toEqual([...ownerDefaults("app2"), { grantee: "reader", privilege: "CONNECT", grantable: false }]);
    const live: DatabaseState = { ...backup, owner: "app2", grants: ownerDefaults("app2") };
    expect(stateStatements("shop", live, { ...backup, grants: moved }, { owner: true, grants: true }).map((s) => s.sql)).toEqual([`GRANT CONNECT ON DATABASE "shop" TO "reader"`]);
    // One entry per privilege where the new owner held one already, the grant option kept.
    expect(followOwner([{ grantee: "app", privilege: "CREATE", grantable: false }, { grantee: "app2", privilege: "CREATE", grantable: true }], "app", "app2")).toEqual([
      { grantee: "app2", privilege: "CREATE", grantable: true },
    ]);
  });

  it("a restore that gives objects to its own role (reassign) leaves the owner and the grants as they are", () => {
    const live: DatabaseState = { ...backup, owner: "app2", grants: ownerDefaults("app2") };
    expect(ownerStatement("shop", live, backup, { owner: false, grants: false })).toBeNull();
    expect(stateStatements("shop", live, backup, { owner: false, grants: false })).toEqual([]);
  });

  it("names and values are quoted: a role, a database and a comment with quotes", () => {
    const odd: DatabaseState = { ...backup, grants: [...ownerDefaults("app"), { grantee: 'app "ro"', privilege: "CONNECT", grantable: false }], comment: "café 'quoted'" };
    const sql = stateStatements('Ver"käufe', backup, odd, { owner: true, grants: true }).map((s) => s.sql);
    expect(sql).toContain(`GRANT CONNECT ON DATABASE "Ver""käufe" TO "app ""ro"""`);
    expect(sql).toContain(`COMMENT ON DATABASE "Ver""käufe" IS 'café ''quoted'''`);
  });
});

describe("the database's state given inside an in-place restore's transaction (decision 195)", () => {
  const opts = { owner: true, grants: true };

  it("nothing different: no statement at all", () => {
    expect(stateEpilogue("shop", backup, backup, opts)).toBe("");
  });

  it("one DO block, each statement caught on its own, the text quoted once more", () => {
    const live: DatabaseState = { ...backup, comment: "it's $$ odd", connectionLimit: 5 };
    const sql = stateEpilogue("shop", live, backup, opts);
    expect(sql.startsWith("DO '")).toBe(true);
    expect(sql.endsWith("';")).toBe(true);
    // The statements' own quotes doubled inside the DO block's string: 'the shop database' → ''''…''''.
    expect(sql).toContain(`BEGIN EXECUTE ''COMMENT ON DATABASE "shop" IS ''''the shop database''''''; EXCEPTION WHEN OTHERS THEN NULL; END;`);
    expect(sql).toContain(`BEGIN EXECUTE ''ALTER DATABASE "shop" CONNECTION LIMIT -1''; EXCEPTION WHEN OTHERS THEN NULL; END;`);
    expect(sql).not.toContain("IF (SELECT");
  });

  it("another owner: the owner's statement first, then the rest by whether PostgreSQL took it", () => {
    const live: DatabaseState = { ...backup, owner: "later", grants: [...ownerDefaults("later"), { grantee: "reader", privilege: "CONNECT", grantable: false }] };
    const sql = stateEpilogue("shop", live, backup, opts);
    const owner = sql.indexOf(`ALTER DATABASE "shop" OWNER TO "app"`);
    const branch = sql.indexOf(`IF (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) = ''app'' THEN`);
    expect(owner).toBeGreaterThan(0);
    expect(branch).toBeGreaterThan(owner);
    // Taken: the old owner's privileges moved with it, nothing else differs. Refused: the
    // backup's owner's privileges are the live owner's, so there is still nothing to grant.
    expect(sql.slice(branch)).not.toContain("GRANT");
    expect(sql).not.toContain("ELSE");
  });

  it("reassign: no owner statement, the grants left alone", () => {
    const live: DatabaseState = { ...backup, owner: "vaultline", grants: ownerDefaults("vaultline"), comment: null };
    const sql = stateEpilogue("shop", live, backup, { owner: false, grants: false });
    expect(sql).not.toContain("OWNER TO");
    expect(sql).not.toContain("GRANT");
    expect(sql).toContain("COMMENT ON DATABASE");
  });
});

describe("the preview's lines for a restore that gives the objects away (decision 196)", () => {
  const live: DatabaseState = {
    ...backup,
    owner: "later",
    grants: [...ownerDefaults("later"), { grantee: "intruder", privilege: "CONNECT", grantable: false }],
    settings: [{ role: null, config: ["statement_timeout=5s", "search_path=shop, public"] }, { role: "reader", config: ["work_mem=8MB"] }],
  };

  it("kept: the owner, the grants and the settings", () => {
    expect(stateDifferences(live, backup)).toEqual([
      "Owner: later → app",
      "CONNECT for intruder: revoked (not in the backup)",
      "CONNECT for reader: granted (as in the backup)",
      "Setting statement_timeout: 5s → 42s",
    ]);
  });

  it("given away with the grants: no owner line, the backup's owner's own privileges are the live owner's", () => {
    expect(stateDifferences(live, backup, { owner: false, grants: true })).toEqual([
      "CONNECT for intruder: revoked (not in the backup)",
      "CONNECT for reader: granted (as in the backup)",
      "Setting statement_timeout: 5s → 42s",
    ]);
  });

  it("given away without the grants: the settings alone", () => {
    expect(stateDifferences(live, backup, { owner: false, grants: false })).toEqual(["Setting statement_timeout: 5s → 42s"]);
  });
});
