// The swap ends the sessions left on the live database (operations.md: "the swap: sessions
// ended"), and a restore through the database's own role is told to GRANT pg_signal_backend
// for other roles' (decision 208). Yet with a reporting role's session open, a swap through
// that role failed after the whole load, "database "crm" is being accessed by other users",
// and Undo answered 500: the sessions were picked by backend_type, which pg_stat_activity
// hides from a role without pg_read_all_stats for another role's session. Here: the owner
// role (CREATEDB, pg_signal_backend, not a superuser) restores and undoes with a reader's
// session open; and an undo with a superuser's session open, which it may not end, is refused
// in the contract's shape with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { urlAs } from "./support/pg";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { undoRestore } from "../lib/backup/restore";
import { databaseOf, swapNames } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const OWNER = "vl_sw_owner";
const READER = "vl_sw_reader";
const as = (url: string, user: string) => urlAs(url, user, `${user}-pw`);

/** A session on `url` left idle in a transaction, as a report or a console leaves one. */
async function openSession(url: string, application: string) {
  const c = new pg.Client({ connectionString: url, application_name: application });
  const ended = new Promise<Error>((resolve) => c.on("error", resolve));
  await c.connect();
  await c.query("BEGIN; SELECT count(*) FROM crm.accounts");
  const pid = (await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
  return { pid, ended, end: () => c.end().catch(() => undefined) };
}

const alive = async (pid: number) => (await sql(adminUrl(), "SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])).length === 1;

afterAll(async () => {
  await stopBosses();
});

describe("a swap and its undo through the database's own role, with another role's session open", () => {
  let env: TestEnv;
  let ownerUrl: string;
  let original: Record<string, string>;
  let backupId: string;

  beforeAll(async () => {
    await sql(
      adminUrl(),
      [OWNER, READER]
        .map((r) => `DO $$ BEGIN CREATE ROLE ${r} LOGIN PASSWORD '${r}-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`)
        .concat([`ALTER ROLE ${OWNER} CREATEDB NOSUPERUSER`, `GRANT pg_signal_backend TO ${OWNER}`])
        .join(";\n"),
    );
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    await sql(adminUrl(), `ALTER DATABASE "${databaseOf(env.targetUrl)}" OWNER TO ${OWNER}`);
    ownerUrl = as(env.targetUrl, OWNER);
    env.ctx.targetUrl = ownerUrl;
    await sql(
      ownerUrl,
      `CREATE SCHEMA crm;
       CREATE TABLE crm.accounts (id int PRIMARY KEY, name text NOT NULL);
       INSERT INTO crm.accounts SELECT g, 'account ' || g FROM generate_series(1, 5000) g;
       GRANT USAGE ON SCHEMA crm TO ${READER};
       GRANT SELECT ON crm.accounts TO ${READER};`,
    );
    const [{ readable }] = await sql<{ readable: boolean }>(as(env.targetUrl, OWNER), "SELECT pg_has_role('pg_read_all_stats', 'USAGE') AS readable");
    expect(readable, "the owner must not read other roles' session details for this test to mean anything").toBe(false);
    original = await catalogFingerprint(sql, env.targetUrl);
    backupId = await fullBackup(env);
  }, 120_000);
  afterAll(async () => {
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env?.cleanup();
  });

  it("the swap ends the reader's session and restores exactly; the undo ends the next one too", async () => {
    await sql(ownerUrl, "DELETE FROM crm.accounts WHERE id % 2 = 0");
    const migrated = await catalogFingerprint(sql, env.targetUrl);
    const report = await openSession(as(env.targetUrl, READER), "nightly-report");
    try {
      const { status, row } = await restore(env, backupId);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(await alive(report.pid)).toBe(false);
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(original);

      const console = await openSession(as(env.targetUrl, READER), "psql");
      try {
        await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" });
        expect(await alive(console.pid)).toBe(false);
        expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(migrated);
      } finally {
        await console.end();
      }
    } finally {
      await report.end();
    }
  });

  it("an undo with a superuser's session open, which the role may not end: 409 in the contract's shape, nothing changed, connections allowed", async () => {
    const { row } = await restore(env, backupId);
    expect(row.status).toBe("SUCCEEDED");
    const restored = await catalogFingerprint(sql, env.targetUrl);
    const dba = await openSession(env.targetUrl.replace(/\/\/[^@]*@/, `//${new URL(adminUrl()).username}:${new URL(adminUrl()).password}@`), "dba-console");
    try {
      const failed = await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: "CONFLICT" });
      expect((failed as Error).message).toMatch(
        /^The undo could not swap the databases, and nothing was changed: database ".*" is being accessed by other users: There is 1 other session using the database\. End those sessions, or give the role Vaultline connects as the right to \(GRANT pg_signal_backend TO it\), then undo again$/,
      );
      expect(await alive(dba.pid)).toBe(true);
    } finally {
      await dba.end();
    }
    expect(await sql(adminUrl(), "SELECT datallowconn AS ok FROM pg_database WHERE datname = $1", [databaseOf(env.targetUrl)])).toEqual([{ ok: true }]);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(restored);
    // And once it is gone, the undo runs.
    await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" });
  });
});
