// A database that uses pgaudit (decision 206), as regulated teams' do and as managed servers
// offer it: the extension can be made only on a server that loads its library at start
// (shared_preload_libraries); otherwise CREATE EXTENSION fails, "pgaudit must be loaded via
// shared_preload_libraries". The package is there, so the check for packages (decision 174)
// let a restore onto a rebuilt server without that setting go: it failed at pg_restore, after
// the safety backup, and a drill on a server set up without it failed the same way every night.
// Two of Debian's PostgreSQL 15 servers with postgresql-15-pgaudit: one loading it, one not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv, type TestEnv } from "./support/backup-env";
import { debianPgWith, startDebianPg } from "./support/debian-pg";
import { type PgServer } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { runRestore, startCopyRestore } from "../lib/backup/restore";
import { withDatabase } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const DB = "ledger_audit";

const FIXTURE = `
CREATE EXTENSION pgaudit;
CREATE SCHEMA ledger;
CREATE TABLE ledger.entries (id bigserial PRIMARY KEY, at timestamptz NOT NULL, amount numeric(12,2) NOT NULL);
INSERT INTO ledger.entries (at, amount) SELECT '2026-11-01'::timestamptz + g * interval '1 minute', g / 100.0 FROM generate_series(1, 5000) g;
CREATE VIEW ledger.daily AS SELECT date_trunc('day', at) AS day, sum(amount) AS total FROM ledger.entries GROUP BY 1;`;

const WORDS =
  "The backup's database uses an extension this server does not load (pgaudit): PostgreSQL makes it only once its library is in shared_preload_libraries. Add it there (keeping what is already listed) and restart PostgreSQL, then restore again";

const canRun = debianPgWith("pgaudit");

describe.skipIf(!canRun)("a database with pgaudit (Debian's PostgreSQL 15 with postgresql-15-pgaudit)", () => {
  let loading: PgServer;
  let plain: PgServer;
  let env: TestEnv;
  let original: Record<string, string>;
  let backupId: string;

  beforeAll(async () => {
    [loading, plain] = await Promise.all([startDebianPg({ settings: { shared_preload_libraries: "pgaudit" } }), startDebianPg()]);
    await sql(loading.adminUrl, `CREATE DATABASE ${DB}`);
    const url = withDatabase(loading.adminUrl, DB);
    env = await backupEnv(loading, { seed: false, overrides: { restoreJobs: 2, targetUrl: url, drillDatabaseUrl: undefined } });
    env = { ...env, targetUrl: url };
    await sql(url, FIXTURE);
    // The audit's own setting, as the database carries it (a placeholder on a server without the library).
    await sql(loading.adminUrl, `ALTER DATABASE ${DB} SET pgaudit.log = 'ddl, role'`);
    original = await catalogFingerprint(sql, url);
    backupId = await fullBackup(env);
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await env?.cleanup();
    await Promise.all([loading?.stop(), plain?.stop()]);
  });

  it("on the server that loads it: restored exactly by the swap, with the database's audit setting", async () => {
    await sql(env.targetUrl, "DELETE FROM ledger.entries WHERE id % 4 = 0; DROP VIEW ledger.daily");
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.unloadedExtensions).toEqual([]);
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("swap");
    expect(differences(original, await catalogFingerprint(sql, env.targetUrl))).toEqual({});
    expect(await sql(env.targetUrl, "SELECT current_setting('pgaudit.log') AS v")).toEqual([{ v: "ddl, role" }]);
  });

  describe("onto a server that does not load it (a rebuilt server, a drill's server)", () => {
    let url: string;
    let ctx: TestEnv["ctx"];

    beforeAll(async () => {
      // The database there, as a rebuilt server's, with the audit setting's placeholder: it answers
      // current_setting() without the library.
      await sql(plain.adminUrl, `CREATE DATABASE ${DB}`);
      await sql(plain.adminUrl, `ALTER DATABASE ${DB} SET pgaudit.log = 'ddl'`);
      url = withDatabase(plain.adminUrl, DB);
      await sql(url, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)");
      ctx = { ...env.ctx, targetUrl: url };
    });

    it("the preview says so, and the restore refuses before anything, safety backup included", async () => {
      const preview = await previewRestore(ctx, backupId);
      expect(preview.unloadedExtensions).toEqual(["pgaudit"]);
      expect(preview.warnings).toContain(`${WORDS}. Until then the restore refuses to run.`);
      // The safety backup's row is made with the request; refused, it never runs.
      const safetyBefore = await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } });
      const before = await catalogFingerprint(sql, url);
      const { status, row } = await restore({ ...env, ctx, targetUrl: url }, backupId);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toBe(`${WORDS}. Nothing was changed.`);
      expect(await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } })).toBe(safetyBefore);
      expect(await catalogFingerprint(sql, url)).toEqual(before);
    });

    it("a restore into a copy there is refused the same way", async () => {
      const { restoreId } = await startCopyRestore(ctx, backupId, SYSTEM, { confirm: "RESTORE" });
      expect(await runRestore(ctx, restoreId)).toBe("FAILED");
      const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(row.failureReason).toMatch(/^The backup's database uses an extension this server does not load \(pgaudit\)/);
      expect(await sql(plain.adminUrl, "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${DB}%`])).toEqual([{ datname: DB }]);
    });

    it("a drill on that server fails at once with the same words, not pg_restore's", async () => {
      const drill = await runDrill({ ...env.ctx, drillDatabaseUrl: plain.adminUrl }, backupId);
      expect(drill.ok).toBe(false);
      expect(drill.reason).toBe(
        "The backup's database uses an extension the drill's server does not load (pgaudit): PostgreSQL makes it only once its library is in shared_preload_libraries. Add it there (keeping what is already listed) and restart PostgreSQL, then drill again",
      );
      // And on the server that loads it, the drill passes.
      const there = await runDrill({ ...env.ctx, drillDatabaseUrl: loading.adminUrl }, backupId);
      expect(there.reason).toBeUndefined();
      expect(there.ok).toBe(true);
    });
  });
});
