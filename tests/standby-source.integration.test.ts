// Backups taken from a read replica — what many teams do to keep pg_dump's load off the
// primary (decision 144). The backup works there; but the target test said a restore could
// run in place or by swap, the preview offered one, and the restore took its safety backup
// and only then failed, with "cannot execute DROP DATABASE in a read-only transaction …
// the fresh copy was discarded"; a drill failed with "cannot execute CREATE DATABASE in a
// read-only transaction". Now the target test and the preview say a standby takes no
// restore, the restore refuses before anything runs, a drill says to set DRILL_DATABASE_URL
// — and the backup, restored on the primary, is exact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { canRunStandby, startPrimaryAndStandby, type PrimaryAndStandby } from "./support/standby";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { testTargetConnection } from "../lib/backup/target-test";
import { runDrill } from "../lib/backup/drill";
import { runRestore, startRestore } from "../lib/backup/restore";
import { previewRestore } from "../lib/backup/preview";
import { withDatabase } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { parseManifest } from "../lib/backup/manifest";
import { updateSettings } from "../lib/settings";

afterAll(async () => {
  await stopBosses();
});

// An unlogged table (sessions, a cache) is not replicated: a standby cannot read it. The
// fingerprints leave its schema out; the test checks it on its own.
const CACHE = { excludeSchemas: ["cache"] };

describe.skipIf(!canRunStandby)("a target on a streaming standby", () => {
  let pair: PrimaryAndStandby;
  let env: TestEnv;
  let primaryShop: string;
  let standbyShop: string;

  beforeAll(async () => {
    pair = await startPrimaryAndStandby();
    const admin = pair.primary.adminUrl;
    await sql(admin, "CREATE ROLE shop_owner LOGIN PASSWORD 'shop-owner-pw'");
    await sql(admin, "CREATE ROLE shop_reader");
    await sql(admin, "CREATE DATABASE shop OWNER shop_owner");
    primaryShop = withDatabase(admin, "shop");
    await sql(
      primaryShop,
      `CREATE SCHEMA app AUTHORIZATION shop_owner;
       CREATE EXTENSION pgcrypto SCHEMA app;
       SET ROLE shop_owner;
       CREATE TABLE app.orders (id bigint GENERATED ALWAYS AS IDENTITY, placed date NOT NULL, total numeric(12,2), note text, PRIMARY KEY (id, placed)) PARTITION BY RANGE (placed);
       CREATE TABLE app.orders_2025 PARTITION OF app.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE app.orders_2026 PARTITION OF app.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       INSERT INTO app.orders (placed, total, note) SELECT date '2025-01-01' + (g % 700), g * 1.5, encode(app.digest(g::text, 'sha256'), 'hex') FROM generate_series(1, 50000) g;
       CREATE VIEW app.big_orders AS SELECT id, total FROM app.orders WHERE total > 1000;
       GRANT USAGE ON SCHEMA app TO shop_reader;
       GRANT SELECT ON app.big_orders TO shop_reader;
       CREATE TABLE app.docs (id int PRIMARY KEY, body oid);
       INSERT INTO app.docs SELECT g, lo_from_bytea(0, convert_to('doc ' || g, 'UTF8')) FROM generate_series(1, 50) g;
       CREATE SCHEMA cache AUTHORIZATION shop_owner;
       CREATE UNLOGGED TABLE cache.sessions (token text PRIMARY KEY, seen timestamptz);
       INSERT INTO cache.sessions SELECT md5(g::text), now() FROM generate_series(1, 100) g;
       RESET ROLE;`,
    );
    await pair.caughtUp();
    standbyShop = pair.standbyUrl("shop");
    env = await makeEnv({ seed: false, overrides: { targetUrl: standbyShop, drillDatabaseUrl: undefined } });
    // Drills on: the backup records each table's checksum.
    await updateSettings(env.db, { drill: { enabled: true, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 } }, { type: "user", label: "admin@example.com" });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await pair?.stop();
  });

  it("the target test: backups work, neither restore can run, and it says why", async () => {
    const t = await testTargetConnection(standbyShop);
    expect(t.canBackup).toBe(true);
    expect(t.canRestoreInPlace).toBe(false);
    expect(t.canSwap).toBe(false);
    for (const check of ["in_place.writable", "swap.writable"]) {
      expect(t.reasons.find((r) => r.check === check)).toMatchObject({ ok: false, message: expect.stringMatching(/standby/) });
    }
    const onPrimary = await testTargetConnection(primaryShop);
    expect(onPrimary.reasons.find((r) => r.check === "swap.writable")).toMatchObject({ ok: true });
  });

  it("backs up from the standby; the preview and the restore refuse it before anything runs; a drill says where to go; restored on the primary the backup is exact", async () => {
    // What the backup should hold is the standby's state. It is the primary's but for where
    // each sequence stands: a primary logs a sequence up to 32 values ahead, and a standby
    // shows it there, so a restore of the standby's backup skips those values (never reuses one).
    const before = await catalogFingerprint(sql, standbyShop, CACHE);
    const onPrimaryBefore = await catalogFingerprint(sql, primaryShop, CACHE);
    const bySequence = (f: Record<string, string>) => Object.fromEntries(Object.entries(f).filter(([k]) => !/^data .*_seq$/.test(k)));
    expect(bySequence(onPrimaryBefore)).toEqual(bySequence(before));
    expect(Object.keys(onPrimaryBefore).filter((k) => /^data .*_seq$/.test(k))).toEqual(["data app.orders_id_seq"]);
    const id = await fullBackup(env);

    // The unlogged table's rows are not in a standby's backup, and the manifest says why.
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const manifest = parseManifest((await env.ctx.storage.getBytes((job.metadata as { manifestKey: string }).manifestKey)).toString("utf8"));
    expect(manifest.tableChecksums?.tables["cache.sessions"]).toMatchObject({ rows: null, skipped: expect.stringMatching(/unlogged.*standby/) });
    expect(manifest.tableChecksums?.tables["app.orders_2025"]).toMatchObject({ rows: expect.any(Number) });

    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan?.standby).toBe(true);
    expect(preview.warnings.join(" ")).toMatch(/standby.*refuses to run/);

    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toMatch(/standby.*Restore on the primary.*Nothing was changed/);
    // Refused before its safety backup ran: nothing was dumped for nothing.
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("CANCELLED");

    const drill = await runDrill(env.ctx, id);
    expect(drill.ok).toBe(false);
    expect(drill.reason).toMatch(/DRILL_DATABASE_URL/);
    // On the primary's server the drill finds every table as the backup recorded it.
    const drilled = await runDrill({ ...env.ctx, drillDatabaseUrl: pair.primary.adminUrl }, id);
    expect(drilled.reason).toBeUndefined();
    expect(drilled.tables.length).toBeGreaterThanOrEqual(3);
    expect(drilled.tables.every((t) => t.ok)).toBe(true);
    expect(drilled.note).toMatch(/cache\.sessions \(unlogged/);

    // The operator points the target at the primary for the restore (same target, so the
    // backup is its own): the primary, damaged since, comes back exactly as the standby had it.
    await sql(primaryShop, "DELETE FROM app.orders WHERE id % 4 = 0; DROP VIEW app.big_orders; SELECT lo_unlink(body) FROM app.docs WHERE id > 25;");
    const onPrimary = { ...env.ctx, targetUrl: primaryShop };
    const again = await startRestore(onPrimary, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(onPrimary, again.restoreId)).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, primaryShop, CACHE)).toEqual(before);
    // The unlogged table is back, empty, as the standby had it.
    expect(await sql(primaryShop, "SELECT count(*)::int AS n FROM cache.sessions")).toEqual([{ n: 0 }]);
    // And the standby follows the primary's new database.
    await pair.caughtUp();
    expect(await catalogFingerprint(sql, standbyShop, CACHE)).toEqual(before);
  });
});
