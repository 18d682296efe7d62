// A database whose partitions pg_partman keeps (Debian's postgresql-15-partman, on Debian's
// PostgreSQL 15): its configuration is rows of partman.part_config, an extension's
// configuration table pg_dump keeps, and its maintenance makes and drops partitions. A drill, a
// copy and a restore on both strategies after maintenance ran and the configuration changed:
// exact by the fingerprint, the configuration as backed up, and maintenance runs on it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv } from "./support/backup-env";
import { debianPgWith, startDebianPg } from "./support/debian-pg";
import { type PgServer } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { runDrill } from "../lib/backup/drill";
import { runRestore, startCopyRestore } from "../lib/backup/restore";
import { updateSettings } from "../lib/settings";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";
import { withDatabase } from "../lib/backup/swap";

const FIXTURE = `
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE public.measurements (id bigint GENERATED ALWAYS AS IDENTITY, at timestamptz NOT NULL, v numeric) PARTITION BY RANGE (at);
CREATE INDEX ON public.measurements (at);
SELECT partman.create_parent('public.measurements', 'at', 'native', 'daily', p_start_partition := '2026-11-25', p_premake := 3);
INSERT INTO public.measurements (at, v) SELECT '2026-11-25'::timestamptz + g * interval '10 minutes', g FROM generate_series(1, 1000) g;
UPDATE partman.part_config SET retention = '30 days', retention_keep_table = false WHERE parent_table = 'public.measurements';`;

describe.skipIf(!debianPgWith("pg_partman"))("a database with pg_partman (Debian's PostgreSQL 15 with postgresql-15-partman)", () => {
  let server: PgServer;
  beforeAll(async () => { server = await startDebianPg(); }, 60_000);
  afterAll(async () => { await stopBosses(); await server?.stop(); });
  it.each(["swap", "in-place"] as const)("drilled, copied and restored (%s): exact, its configuration back, and its maintenance runs", async (strategy) => {
    const env = await backupEnv(server, { seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await sql(env.targetUrl, FIXTURE);
    await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, SYSTEM);
    const original = await catalogFingerprint(sql, env.targetUrl);
    const cfg = await sql(env.targetUrl, "SELECT parent_table, retention, premake FROM partman.part_config");
    const backupId = await fullBackup(env);
    const drill = await runDrill(env.ctx, backupId);
    expect(drill).toMatchObject({ ok: true, compared: "checksums" });
    expect(drill.tables.filter((t) => t.table.startsWith("public.measurements_p")).length).toBeGreaterThan(5);
    const { restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const copy = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    const objects = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).filter(([k]) => k !== "database"));
    expect(differences(objects(original), objects(await catalogFingerprint(sql, withDatabase(env.targetUrl, copy.previousDatabase!))))).toEqual({});
    // After the backup: maintenance made partitions, rows went, the configuration changed.
    await sql(env.targetUrl, "SELECT partman.run_maintenance('public.measurements'); DELETE FROM public.measurements WHERE v > 500; UPDATE partman.part_config SET premake = 9");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(differences(original, await catalogFingerprint(sql, env.targetUrl))).toEqual({});
    expect(await sql(env.targetUrl, "SELECT parent_table, retention, premake FROM partman.part_config")).toEqual(cfg);
    await sql(env.targetUrl, "SELECT partman.run_maintenance('public.measurements')");
    await sql(server.adminUrl, `DROP DATABASE IF EXISTS "${copy.previousDatabase}"`);
    await env.cleanup();
  });
});
