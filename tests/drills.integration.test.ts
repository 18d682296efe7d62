// Scheduled restore drills (issue 17 §1) on real parts: a database that looks like an
// application's (app-fixture: partitions, RLS, extensions, a large object, an odd table
// name), per-table checksums taken in pg_dump's own snapshot, a drill on the schedule that
// passes and records its recovery time, one on a doctored backup that fails and alerts,
// an older manifest without checksums, and the overdue alert once per gap.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { Transform } from "node:stream";
import { adminUrl, makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { startHookReceiver, type HookReceiver } from "./support/receivers";
import { runBackup } from "../lib/backup/run-backup";
import { runDrill, scratchDatabasePrefix } from "../lib/backup/drill";
import { claimDrillSlot, handleDrillTick } from "../lib/backup/drill-schedule";
import { drillSummary, DRILL_GRACE_MS } from "../lib/backup/drill-status";
import { manifestOf, writeManifest } from "./support/manifests";
import { spawnPgDump, spawnPgRestore } from "../lib/backup/dump";
import { checksumDatabase, exportSnapshot, snapshotChecksums } from "../lib/backup/table-checksums";
import { getToday } from "../lib/backup/today";
import { renderMetrics } from "../lib/metrics";
import { startWorker, type WorkerHandle } from "../lib/worker";
import { startNotifications } from "../lib/notify/wiring";
import { checkOverdueDrill } from "../lib/notify/drill";
import { updateSettings } from "../lib/settings";
import { stopBosses } from "../lib/queue";
import { setChannels, webhookAndEmail } from "./support/channels";

const exec = (url: string, text: string) => sql(url, text);
const SECRET = "whsec-drill-test";
const admin = { type: "user" as const, label: "admin@example.com" };
const WEEKLY = { enabled: true, cron: "0 4 * * 0", timezone: "UTC" };
const NO_CHECKSUMS =
  "this backup's manifest has no table checksums (they are taken only while drills are on, and were not when it was made, or it predates them): row counts compared, contents not";

async function fullBackup(env: TestEnv): Promise<string> {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
  const r = await runBackup(env.ctx, job.id);
  expect(r.failureReason).toBeUndefined();
  return job.id;
}

/** The Sunday 04:00 UTC slot after `from`, and a tick for it as pg-boss would create it. */
function nextSunday4(from: Date): Date {
  const d = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate(), 4));
  d.setUTCDate(d.getUTCDate() + ((7 - d.getUTCDay()) % 7 || 7));
  return d;
}

/** This drill's scratch databases still on the server (by name: other test files drill at the same time). */
async function scratchDatabases(drillId: string): Promise<number> {
  const rows = await sql<{ n: number }>(adminUrl(), `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1`, [`${scratchDatabasePrefix(drillId)}%`]);
  return rows[0].n;
}

afterAll(async () => {
  await stopBosses();
});

describe("per-table checksums", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
  });
  afterAll(async () => env.cleanup());

  it("describe exactly what pg_dump dumped, even when rows are committed between the snapshot and the dump", async () => {
    const snap = await exportSnapshot(env.targetUrl);
    let scratch: string | undefined;
    try {
      // Committed after the snapshot was exported, before pg_dump starts: neither may see them.
      await sql(env.targetUrl, `INSERT INTO customers (email, name) SELECT 'late' || g || '@example.com', 'Late' FROM generate_series(1, 50) g;
        UPDATE billing.invoices SET total_cents = total_cents + 1 WHERE id <= 10`);
      const dump = spawnPgDump(env.targetUrl, { snapshot: snap.snapshotId });
      const checksums = snapshotChecksums(snap, {});
      scratch = env.targetUrl.replace(/\/([^/?]+)(\?|$)/, "/$1_copy$2");
      await sql(adminUrl(), `CREATE DATABASE "${new URL(scratch).pathname.slice(1)}"`);
      await spawnPgRestore(dump.stdout, scratch, { noOwner: true, noPrivileges: true });
      await dump.done;
      const recorded = (await checksums)!;
      expect(recorded.sameSnapshotAsDump).toBe(true);
      // 300 customers from the fixture; the 50 late ones are in neither.
      expect(recorded.tables["public.customers"].rows).toBe(300);
      // Partitions each on their own, the partitioned parent not at all; the odd name kept.
      expect(Object.keys(recorded.tables)).toEqual(expect.arrayContaining(["public.orders_2025", "public.orders_2026", "billing.invoices", "public.odd.name", "public.audit_log"]));
      expect(recorded.tables["public.orders"]).toBeUndefined();
      // RLS (tenant policy) does not hide rows from the checksum: all 1000 invoices.
      expect(recorded.tables["billing.invoices"].rows).toBe(1000);
      const restored = await checksumDatabase(scratch);
      expect(restored).toEqual(recorded.tables);
      // And the live database, which has the late rows, differs.
      const live = await checksumDatabase(env.targetUrl);
      expect(live["public.customers"].rows).toBe(350);
      expect(live["billing.invoices"].checksum).not.toBe(recorded.tables["billing.invoices"].checksum);
    } finally {
      await snap.end();
      if (scratch) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${new URL(scratch).pathname.slice(1)}" WITH (FORCE)`);
    }
  });

  it("are the same whatever the session's time zone, date style and float digits", async () => {
    await sql(env.targetUrl, `CREATE TABLE formats (at timestamptz, d date, f float8, i interval, m money, b bytea)`);
    await sql(env.targetUrl, `INSERT INTO formats VALUES ('2026-03-01 12:00+01', '2026-03-01', 0.1 + 0.2, '1 day 2 hours', 12.5, '\\x00ff')`);
    const plain = await checksumDatabase(env.targetUrl, { only: ["public.formats"] });
    await sql(adminUrl(), `ALTER DATABASE "${new URL(env.targetUrl).pathname.slice(1)}" SET TimeZone = 'Asia/Tokyo'`);
    await sql(adminUrl(), `ALTER DATABASE "${new URL(env.targetUrl).pathname.slice(1)}" SET DateStyle = 'SQL, DMY'`);
    await sql(adminUrl(), `ALTER DATABASE "${new URL(env.targetUrl).pathname.slice(1)}" SET extra_float_digits = 0`);
    try {
      expect(await checksumDatabase(env.targetUrl, { only: ["public.formats"] })).toEqual(plain);
    } finally {
      await sql(adminUrl(), `ALTER DATABASE "${new URL(env.targetUrl).pathname.slice(1)}" RESET ALL`);
      await sql(env.targetUrl, `DROP TABLE formats`);
    }
  });

  it("skip tables above the size bound and say so", async () => {
    const c = new pg.Client({ connectionString: env.targetUrl });
    await c.connect();
    try {
      await c.query("ANALYZE");
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      const { checksumTables } = await import("../lib/backup/table-checksums");
      const out = await checksumTables(c, { maxTableBytes: 16 * 1024 });
      await c.query("COMMIT");
      const skipped = Object.entries(out).filter(([, t]) => t.skipped);
      expect(skipped.length).toBeGreaterThan(0);
      for (const [, t] of skipped) expect(t).toMatchObject({ rows: null, checksum: null, skipped: expect.stringMatching(/larger than/) });
      expect(out["public.odd.name"]).toMatchObject({ rows: 2 });
    } finally {
      await c.end();
    }
  });
});

describe("scheduled drills", () => {
  let env: TestEnv;
  let worker: WorkerHandle;
  let hooks: HookReceiver;
  let stopNotify: () => Promise<void>;
  let savedAt: Date;

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    hooks = await startHookReceiver(SECRET);
    // What the webhook with onFailure (and not onSuccess) received before channels.
    await setChannels(env.db, webhookAndEmail(hooks.url, [], ["BACKUP_FAILED", "BACKUP_MISSED", "RESTORE_STARTED", "RESTORE_FINISHED", "RETENTION_PRUNED", "DRILL_FAILED"]));
    await updateSettings(env.db, { notifications: { missedBackupAfterHours: 26 } }, admin);
    await updateSettings(env.db, { drill: { ...WEEKLY, checksumMaxTableMb: 4096 } }, admin);
    savedAt = (await env.db.setting.findUniqueOrThrow({ where: { key: "drill" } })).updatedAt;
    stopNotify = startNotifications(env.ctx, { cfg: { WEBHOOK_SECRET: SECRET }, notifyOptions: { retries: 0, timeoutMs: 5000 }, missedIntervalMs: 3_600_000 });
    worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await worker.stop();
    await stopNotify();
    await hooks.close();
    await env.cleanup();
  });

  async function finishedDrill(id: string) {
    return waitFor(async () => {
      const d = await env.db.drillRun.findUnique({ where: { id } });
      return d && d.status !== "RUNNING" ? d : null;
    }, 120_000);
  }

  it("a drill on the schedule restores the newest FULL backup, passes on rows and checksums, and records the recovery time", async () => {
    const older = await fullBackup(env);
    const newest = await fullBackup(env);
    const { m } = await manifestOf(env, newest);
    expect(m.tableChecksums?.sameSnapshotAsDump).toBe(true);
    expect(Object.keys(m.tableChecksums!.tables).length).toBeGreaterThanOrEqual(6);

    const slot = nextSunday4(savedAt);
    const claim = await handleDrillTick(env.ctx, new Date(slot.getTime() + 10_000), new Date(slot.getTime() + 30_000), "tick-1");
    expect(claim).toMatchObject({ claimed: true, backupId: newest });
    // A second replica's tick (or a catch-up) for the same slot claims nothing.
    expect(await claimDrillSlot(env.ctx, slot, "catch-up")).toMatchObject({ claimed: false });
    expect(await env.db.drillRun.count({ where: { scheduleSlot: slot } })).toBe(1);

    const run = await finishedDrill((claim as { drillId: string }).drillId);
    expect(run.failureReason).toBeNull();
    expect(run.status).toBe("PASSED");
    expect(run.trigger).toBe("SCHEDULED");
    expect(run.recoverySeconds).toBeGreaterThan(0);
    expect(run.durationSeconds).toBeGreaterThanOrEqual(run.recoverySeconds!);
    const result = run.result as { compared: string; tables: { table: string; ok: boolean; expectedChecksum?: string }[] };
    expect(result.compared).toBe("checksums");
    expect(result.tables.find((t) => t.table === "public.customers")).toMatchObject({ ok: true, expectedChecksum: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(await scratchDatabases(run.id)).toBe(0);

    // The history marks the drilled backup, and only it.
    const [n, o] = await Promise.all([newest, older].map((id) => env.db.backupJob.findUniqueOrThrow({ where: { id } })));
    expect(n.drillPassedAt).not.toBeNull();
    expect(o.drillPassedAt).toBeNull();

    const today = await getToday(env.db);
    expect(today.drill).toMatchObject({ state: "ok", backupId: newest, durationSeconds: run.recoverySeconds, lastSuccessAt: run.completedAt!.toISOString() });
    expect(today.lastSuccess?.drillPassedAt).toBe(n.drillPassedAt!.toISOString());

    const metrics = (await renderMetrics(env.db)).body;
    expect(metrics).toContain(`vaultline_drill_last_success_timestamp_seconds ${run.completedAt!.getTime() / 1000}`);
    expect(metrics).toMatch(/vaultline_drill_duration_seconds_count 1\b/);
    expect(hooks.hooks.filter((h) => String(h.payload.event).startsWith("drill."))).toHaveLength(0);
  });

  it("a drill of a doctored backup (valid archive, other contents than recorded) fails, alerts, and turns the state red", async () => {
    const before = await fullBackup(env);
    // Same row counts, other contents: only the checksums can tell.
    await sql(env.targetUrl, `UPDATE customers SET name = name || ' (renamed)' WHERE id <= 5`);
    const doctored = await fullBackup(env);
    const a = await manifestOf(env, before);
    const b = await manifestOf(env, doctored);
    const aPart = a.m.parts.find((p) => p.name === "database")!;
    const bPart = b.m.parts.find((p) => p.name === "database")!;
    // The archive swapped for the older one, and every stored checksum made to agree with it.
    await env.ctx.storage.putBytes(bPart.key, await env.ctx.storage.getBytes(aPart.key));
    b.m.parts = b.m.parts.map((p) => (p.name === "database" ? { ...aPart, key: bPart.key } : p));
    b.m.checksumSha256 = aPart.sha256;
    b.m.sizeBytes = b.m.parts.reduce((s, p) => s + p.sizeBytes, 0);
    await writeManifest(env, doctored, b.key, b.m);

    const slot = new Date(nextSunday4(savedAt).getTime() + 7 * 86_400_000);
    const claim = await handleDrillTick(env.ctx, new Date(slot.getTime() + 5_000), new Date(slot.getTime() + 20_000));
    expect(claim).toMatchObject({ claimed: true, backupId: doctored });
    const run = await finishedDrill((claim as { drillId: string }).drillId);
    expect(run.status).toBe("FAILED");
    expect(run.failureReason).toMatch(/public\.customers \(same \d+ rows, different content\)/);
    expect(run.recoverySeconds).toBeGreaterThan(0);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: doctored } })).drillPassedAt).toBeNull();
    expect(await scratchDatabases(run.id)).toBe(0);

    const today = await getToday(env.db);
    expect(today.drill.state).toBe("failed");
    expect(today.drill.failureReason).toMatch(/different content/);
    // The last proven restore is still the earlier pass.
    expect(today.drill.lastSuccessAt).not.toBeNull();

    await waitFor(async () => hooks.hooks.some((h) => h.payload.event === "drill.failed"), 20_000);
    const hook = hooks.hooks.find((h) => h.payload.event === "drill.failed")!;
    expect(hook.signatureValid).toBe(true);
    expect(hook.payload).toMatchObject({ drill: { id: run.id, backupId: doctored, trigger: "SCHEDULED" } });
    expect(String(hook.payload.text)).toMatch(/restore drill FAILED/);
  });

  it("tables above the checksum bound are reported as not compared; the restore itself still proves the backup", async () => {
    const id = await fullBackup(env);
    const { key, m } = await manifestOf(env, id);
    for (const name of Object.keys(m.tableChecksums!.tables)) m.tableChecksums!.tables[name] = { rows: null, checksum: null, skipped: "larger than 0 MB (drill.checksumMaxTableMb)" };
    await writeManifest(env, id, key, m);
    const r = await runDrill(env.ctx, id);
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ ok: true, compared: "nothing", note: expect.stringMatching(/^the archive restored, but no table's contents were compared: .*public\.customers \(larger than 0 MB/) });
    expect(r.tables.every((t) => t.ok && t.note?.startsWith("not compared"))).toBe(true);
  });

  it("a backup whose manifest has no checksums (older Vaultline) is drilled on row counts, and the drill says so", async () => {
    const id = await fullBackup(env);
    const { key, m } = await manifestOf(env, id);
    delete (m as { tableChecksums?: unknown }).tableChecksums;
    await writeManifest(env, id, key, m);
    const r = await runDrill(env.ctx, id);
    expect(r.reason).toBeUndefined();
    expect(r).toMatchObject({ ok: true, compared: "row-counts", note: NO_CHECKSUMS });
  });

  it("a backup made while drills were off is drilled on row counts, and the drill does not say it predates checksums", async () => {
    await updateSettings(env.db, { drill: { ...WEEKLY, enabled: false, checksumMaxTableMb: 4096 } }, admin);
    try {
      const id = await fullBackup(env);
      expect((await manifestOf(env, id)).m.tableChecksums ?? null).toBeNull();
      const r = await runDrill(env.ctx, id);
      expect(r.reason).toBeUndefined();
      // It said "taken before they were recorded" of a backup made a moment ago.
      expect(r).toMatchObject({ ok: true, compared: "row-counts", note: NO_CHECKSUMS });
    } finally {
      await updateSettings(env.db, { drill: { ...WEEKLY, checksumMaxTableMb: 4096 } }, admin);
    }
  });
});

describe("overdue drills", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
  });
  afterAll(async () => env.cleanup());

  it("are overdue one interval + grace after the last success, and alert once per gap", async () => {
    await updateSettings(env.db, { drill: { ...WEEKLY, checksumMaxTableMb: 4096 } }, admin);
    const saved = new Date();
    expect((await drillSummary(env.db, saved)).state).toBe("pending");
    const week = 7 * 86_400_000;
    const late = new Date(saved.getTime() + week + DRILL_GRACE_MS + 60_000);
    expect((await drillSummary(env.db, late)).state).toBe("overdue");

    const sent: string[] = [];
    const send = async (e: { type: string }) => {
      sent.push(e.type);
      return { event: e.type } as never;
    };
    const results = await Promise.all([checkOverdueDrill(env, send, late), checkOverdueDrill(env, send, late)]);
    expect(results.filter((r) => r.sent)).toHaveLength(1);
    expect(sent).toEqual(["drill.overdue"]);
    expect((await checkOverdueDrill(env, send, new Date(late.getTime() + 3_600_000))).sent).toBe(false);

    // A pass closes the gap; the next gap alerts again.
    const passedAt = new Date(late.getTime() + 7_200_000);
    await env.db.drillRun.create({ data: { trigger: "MANUAL", status: "PASSED", startedAt: passedAt, completedAt: passedAt, recoverySeconds: 12 } });
    expect((await drillSummary(env.db, new Date(passedAt.getTime() + 60_000))).state).toBe("ok");
    const later = new Date(passedAt.getTime() + week + DRILL_GRACE_MS + 60_000);
    expect((await checkOverdueDrill(env, send, later)).sent).toBe(true);
    expect(sent).toEqual(["drill.overdue", "drill.overdue"]);
  });
});

describe("a drill slot with nothing to restore", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
  });
  afterAll(async () => env.cleanup());

  it("with no FULL backup at all, the slot's drill fails at once", async () => {
    const claim = await claimDrillSlot(env.ctx, new Date(), "cron");
    expect(claim).toMatchObject({ claimed: true, backupId: null });
    expect(await env.db.drillRun.findFirstOrThrow({ where: { scheduleSlot: { not: null } } })).toMatchObject({ status: "FAILED", failureReason: "no successful FULL backup to drill" });
    expect((await drillSummary(env.db)).state).toBe("failed");
  });
});

describe("a drill whose archive read fails part way (after its verification read)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
  }, 120_000);
  afterAll(async () => env.cleanup());

  it("fails with the storage's reason, drops its scratch copy, and does not hang", async () => {
    const id = await fullBackup(env);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const archiveKey = (job.metadata as { parts?: { name: string; key: string }[] }).parts!.find((p) => p.name === "database")!.key;
    // The second read of the archive is the drill's own (the first is the verification):
    // the storage gives 4 KiB, then fails, as a connection reset would.
    const storage = env.ctx.storage;
    const get = storage.get.bind(storage);
    let reads = 0;
    storage.get = async (key) => {
      if (key !== archiveKey || ++reads < 2) return get(key);
      const whole = await get(key);
      let given = 0;
      const cut = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (given >= 4096) return done(new Error("read ECONNRESET"));
          given += chunk.length;
          done(null, chunk.subarray(0, 4096));
        },
      });
      whole.on("error", (e) => cut.destroy(e));
      return whole.pipe(cut);
    };
    try {
      const started = Date.now();
      const r = await runDrill(env.ctx, id);
      expect(Date.now() - started).toBeLessThan(60_000);
      expect(r.ok).toBe(false);
      // The storage error, or the decryption noticing its input cut short first: said, either way.
      expect(r.reason).toMatch(/ECONNRESET|corrupt archive \(Unexpected end of packet\)/);
      expect(await scratchDatabases(r.drillId!)).toBe(0);
      expect(reads).toBe(2);
    } finally {
      storage.get = get;
    }
  });
});
