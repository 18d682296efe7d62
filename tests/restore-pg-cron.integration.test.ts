// A database that runs its own scheduled jobs with pg_cron, as managed servers offer it
// (decision 201): the extension may live only in the database cron.database_name names, its
// launcher — a background worker — stays connected to it, and the jobs are rows of cron.job,
// an extension's configuration table that pg_dump keeps. Every restore beside it failed
// ("can only create extension in database shop_cron"): the swap (safely), a restore into a
// copy, and every drill. On Debian's PostgreSQL 15 with postgresql-15-cron, loaded at start.
// The application's views over pg_cron's run log (an on-call dashboard's) go with it out of a
// copy and a drill, and are named: a copy failed its check on them ("views
// public.job_failures missing"), and a drill left them out unsaid.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv, type TestEnv } from "./support/backup-env";
import { debianPgWith, startDebianPg } from "./support/debian-pg";
import { type PgServer, urlAs } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { runDrill } from "../lib/backup/drill";
import { runRestore, startCopyRestore } from "../lib/backup/restore";
import { withDatabase } from "../lib/backup/swap";
import { updateSettings } from "../lib/settings";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const DB = "shop_cron";

const FIXTURE = `
CREATE EXTENSION pg_cron;
CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL, what text);
INSERT INTO events (at, what) SELECT '2026-11-01'::timestamptz + g * interval '1 minute', 'e' || g FROM generate_series(1, 20000) g;
CREATE VIEW recent AS SELECT id, what FROM events WHERE at > '2026-11-10';
SELECT cron.schedule('purge-events', '*/5 * * * *', $$DELETE FROM events WHERE at < now() - interval '30 days'$$);
SELECT cron.schedule('nightly-vacuum', '0 3 * * *', 'VACUUM events');
-- The application's own objects over pg_cron's: a copy without pg_cron cannot have them.
CREATE VIEW job_failures AS SELECT jobid, status, start_time FROM cron.job_run_details WHERE status = 'failed';
COMMENT ON VIEW job_failures IS 'for the on-call dashboard';
CREATE VIEW job_failures_today AS SELECT * FROM job_failures WHERE start_time > now() - interval '1 day';
GRANT SELECT ON job_failures TO PUBLIC;`;

/** The migration after the backup, and the jobs changed with it. */
const LATER = `
SELECT cron.unschedule('purge-events');
SELECT cron.schedule('hourly-report', '0 * * * *', 'SELECT count(*) FROM events');
DELETE FROM events WHERE id % 3 = 0;
ALTER TABLE events ADD COLUMN kind text;
DROP VIEW recent;`;

const jobs = async (url: string) =>
  (await sql<{ line: string }>(url, "SELECT jobname || ' | ' || schedule || ' | ' || command || ' | ' || database AS line FROM cron.job ORDER BY jobname")).map((r) => r.line);

/** The databases pg_cron's launcher is connected to, once it is (it connects a moment after its database is there). */
async function launcherOn(adminUrl: string): Promise<(string | null)[]> {
  const read = async () => (await sql<{ datname: string | null }>(adminUrl, "SELECT datname FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")).map((r) => r.datname);
  for (let i = 0; i < 100; i++) {
    const on = await read();
    if (on.includes(DB)) return on;
    await new Promise((r) => setTimeout(r, 200));
  }
  return read();
}

/** Fingerprint keys that are pg_cron's: its extension, schema and what is in it. */
const isCrons = (k: string) => /^(extension pg_cron|schema cron)$|^[a-z ]+ cron\./.test(k);
const without = (f: Record<string, string>, drop: (k: string) => boolean) => Object.fromEntries(Object.entries(f).filter(([k]) => !drop(k)));

const canRun = debianPgWith("pg_cron");

describe.skipIf(!canRun)("a database with pg_cron (Debian's PostgreSQL 15 with postgresql-15-cron)", () => {
  let server: PgServer;
  let env: TestEnv;
  let original: Record<string, string>;
  let before: string[];
  let backupId: string;

  beforeAll(async () => {
    server = await startDebianPg({ settings: { shared_preload_libraries: "pg_cron", "cron.database_name": DB } });
    await sql(server.adminUrl, `CREATE DATABASE ${DB}`);
    const url = withDatabase(server.adminUrl, DB);
    env = await backupEnv(server, { seed: false, overrides: { restoreJobs: 2, targetUrl: url } });
    env = { ...env, targetUrl: url };
    await sql(url, FIXTURE);
    // Drills on: the backup records each table's checksum for the drill to compare.
    await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, SYSTEM);
    original = await catalogFingerprint(sql, url);
    before = await jobs(url);
    backupId = await fullBackup(env);
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await env?.cleanup();
    await server?.stop();
  });

  /** Restores the backup; it must run in place and bring back every object and the backup's jobs. */
  async function restoredInPlaceExactly() {
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("in-place");
    expect(differences(original, await catalogFingerprint(sql, env.targetUrl))).toEqual({});
    expect(await jobs(env.targetUrl)).toEqual(before);
  }

  it("the fixture is what the test means: two jobs, the launcher on the database", async () => {
    expect(before).toEqual([`nightly-vacuum | 0 3 * * * | VACUUM events | ${DB}`, `purge-events | */5 * * * * | DELETE FROM events WHERE at < now() - interval '30 days' | ${DB}`]);
    expect(await launcherOn(server.adminUrl)).toEqual([DB]);
    expect(original["extension pg_cron"]).toBeDefined();
  });

  it("a drill leaves pg_cron out of its scratch database, says so, and proves every table", async () => {
    const drill = await runDrill(env.ctx, backupId);
    expect(drill.reason).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, compared: "checksums" });
    expect(drill.note).toContain(
      "An extension the drill's scratch database cannot have is left out with its jobs and settings: pg_cron (its setting cron.database_name names the one database that may have it), and with it what of the database uses it: view public.job_failures, view public.job_failures_today; every other object and row is restored",
    );
    expect(drill.tables.find((t) => t.table === "public.events")).toMatchObject({ ok: true, expected: 20000, actual: 20000 });
  });

  it("a drill through a role that is not a superuser: pg_cron, which only a superuser may create, is left out, so not asked of it (decision 209)", async () => {
    await sql(server.adminUrl, "DO $$ BEGIN CREATE ROLE cron_driller LOGIN CREATEDB PASSWORD 'cron-driller-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
    const drill = await runDrill({ ...env.ctx, drillDatabaseUrl: urlAs(server.adminUrl, "cron_driller", "cron-driller-pw") }, backupId);
    expect(drill.reason).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, compared: "checksums" });
  });

  it("a restore into a copy leaves pg_cron out, says so, and holds every other object and row of the backup", async () => {
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.copyWarnings).toContain(
      "An extension the copy, a database of another name, cannot have is left out with its jobs and settings, and with what of the database uses it: pg_cron (its setting cron.database_name names the one database that may have it); every other object and row is restored.",
    );
    const { restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toBeNull();
    expect(row.warnings).toContain(
      "An extension the copy, a database of another name, cannot have is left out with its jobs and settings: pg_cron (its setting cron.database_name names the one database that may have it), and with it what of the database uses it: view public.job_failures, view public.job_failures_today; every other object and row is restored.",
    );
    const copy = await catalogFingerprint(sql, withDatabase(server.adminUrl, row.previousDatabase!));
    const apart = (k: string) => k === "database" || isCrons(k) || / public\.job_failures/.test(k);
    expect(Object.keys(copy).filter((k) => / public\.job_failures/.test(k))).toEqual([]);
    expect(differences(without(original, apart), without(copy, apart))).toEqual({});
    expect(Object.keys(copy).filter(isCrons)).toEqual([]);
    await sql(server.adminUrl, `DROP DATABASE "${row.previousDatabase}"`);
  });

  it("the preview says the swap's fresh copy cannot have pg_cron: in place, and RESTORE_STRATEGY=swap not honoured", async () => {
    const reason = `In place, in one transaction, because pg_cron can be created only in the database cron.database_name names, ${DB}, not in a fresh copy beside it.`;
    expect((await previewRestore(env.ctx, backupId)).plan).toMatchObject({ strategy: "in-place", strategyReason: reason, pinnedExtensions: [{ name: "pg_cron", setting: "cron.database_name", database: DB }] });
    const asked = await previewRestore({ ...env.ctx, restoreStrategy: "swap" }, backupId);
    expect(asked.plan).toMatchObject({ strategy: "in-place", strategyReason: `${reason} (RESTORE_STRATEGY=swap cannot be honoured.)` });
  });

  it("restored in place after a migration and changed jobs: exact, the backup's jobs back, the launcher on the database", async () => {
    await sql(env.targetUrl, LATER);
    expect(await jobs(env.targetUrl)).not.toEqual(before);
    await restoredInPlaceExactly();
    expect(await launcherOn(server.adminUrl)).toEqual([DB]);
    // The scheduler takes new jobs as before.
    await sql(env.targetUrl, "SELECT cron.schedule('after', '0 5 * * *', 'SELECT 1')");
    expect(await jobs(env.targetUrl)).toHaveLength(3);
  });

  it("into its database gone from the server (a rebuilt server that names it), the restore makes it and restores it in place, jobs and all", async () => {
    await sql(server.adminUrl, `DROP DATABASE ${DB} WITH (FORCE)`);
    await restoredInPlaceExactly();
  });

  it("into a database the server does not let have pg_cron, the preview says so and the restore refuses before anything", async () => {
    await sql(server.adminUrl, "CREATE DATABASE elsewhere");
    const url = withDatabase(server.adminUrl, "elsewhere");
    const moved = { ...env.ctx, targetUrl: url };
    const words = `The backup's database uses pg_cron, which this server lets only the database ${DB} have (cron.database_name): set cron.database_name = 'elsewhere' and restart PostgreSQL, or restore into ${DB}`;
    const preview = await previewRestore(moved, backupId);
    expect(preview.warnings).toContain(`${words}. Until then the restore refuses to run.`);
    const safetyBefore = await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } });
    const { status, row } = await restore({ ...env, ctx: moved, targetUrl: url }, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toBe(`${words}. Nothing was changed.`);
    expect(await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } })).toBe(safetyBefore);
    expect(await sql(url, "SELECT count(*)::int AS n FROM pg_class WHERE relname = 'events'")).toEqual([{ n: 0 }]);
  });
});
