// Decision 175: a backup and a migration, each waiting for the other's locks. pg_dump takes a
// share lock on every table at its start and holds them all until it ends.
// - A migration (or a transaction left open) holding a table's ACCESS EXCLUSIVE lock made the
//   backup wait silently until BACKUP_TIMEOUT_MINUTES; it now waits BACKUP_LOCK_WAIT_SECONDS,
//   says whose lock it waits for meanwhile, and fails naming that session.
// - A migration that wants a table the dump holds waited for the whole dump, with the
//   application's queries queued behind it, and nothing said so; the backup now names it
//   while it waits and keeps who waited, and the deploy gate holds deploys while a FULL
//   backup of the target runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { listKeys, makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { keysForJob } from "../lib/backup/manifest";
import { stopBosses } from "../lib/queue";
import { runBackup } from "../lib/backup/run-backup";
import { backupDetail } from "../lib/backup/related";
import { runGate } from "../lib/deploy/gate";
import { deployState } from "../lib/deploy/state";
import { gateRequestSchema, type GateRequestInput } from "../lib/validation/deploy";
import type { Who } from "../lib/deploy/deployments";
import { gatedStorage } from "./support/gated-storage";
import type { BackupLocksDto } from "../lib/validation/backups";
import { startNotifications } from "../lib/notify/wiring";
import { startHookReceiver, type HookReceiver } from "./support/receivers";
import { setChannels } from "./support/channels";
import { targetsOverview } from "../lib/backup/today";
import { scheduleRetry } from "../lib/backup/retries";

const SECRET = "whsec-backup-locks";

afterAll(async () => {
  await stopBosses();
});

const who: Who = { actor: { type: "user", id: null, label: "ci@example.com" }, userId: null };

async function session(url: string, application: string) {
  const c = new pg.Client({ connectionString: url, application_name: application });
  c.on("error", () => undefined);
  await c.connect();
  return c;
}

const locksOf = async (env: TestEnv, id: string) => ((await env.db.backupJob.findUniqueOrThrow({ where: { id } })).metadata as { locks?: BackupLocksDto }).locks;
const newJob = (env: TestEnv) => env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });

describe("a backup that waits for a migration's lock", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: { rows: 500 }, overrides: { backupLockWaitSeconds: 4, heartbeatMs: 500 } });
  }, 120_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("says whose lock it waits for, then fails naming that session, not the timeout of the whole backup", async () => {
    const migration = await session(env.targetUrl, "migrate");
    const holder = (await migration.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    await migration.query("BEGIN; LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
    try {
      const job = await newJob(env);
      const started = Date.now();
      const running = runBackup(env.ctx, job.id);
      // While it waits, the row says so: the table and who holds it, never its statement.
      await waitFor(async () => (await locksOf(env, job.id))?.waiting.some((w) => w.heldBy.some((h) => h.pid === holder)) ?? false, 15_000);
      const live = (await locksOf(env, job.id))!;
      expect(live.at).not.toBeNull();
      expect(live.waiting[0]).toMatchObject({ table: "public.customers", heldBy: [{ pid: holder, application: "migrate", state: "idle in transaction" }] });
      expect(JSON.stringify(live)).not.toMatch(/LOCK TABLE/);
      expect((await targetsOverview(env.db)).find((t) => t.targetId === "default")!.locks).toMatchObject({
        backupId: job.id,
        blocking: null,
        waiting: { table: "public.customers", application: "migrate", pid: holder },
      });
      const r = await running;
      expect(r.status).toBe("FAILED");
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(r.failureReason).toMatch(new RegExp(`^pg_dump waited \\d+ s for a lock on public\\.customers held by pid ${holder} \\(user \\w+, application "migrate"[^)]*\\), idle in transaction`));
      expect(r.failureReason).toMatch(/gave up after 4 s \(BACKUP_LOCK_WAIT_SECONDS\)/);
      expect(r.failureReason).toContain(`SELECT pg_terminate_backend(${holder})`);
      const audited = await env.db.auditEvent.findFirstOrThrow({ where: { action: "backup.failed", target: job.id } });
      expect(JSON.stringify(audited.details)).toContain(`pid ${holder}`);
      // Nobody waited for the backup: nothing of the watch stays on the row.
      expect(await locksOf(env, job.id)).toBeUndefined();
      expect((await backupDetail(env.ctx, job.id, "test")).locks).toBeNull();
    } finally {
      await migration.query("ROLLBACK").catch(() => undefined);
      await migration.end();
    }
  }, 60_000);

  it("goes on once the lock is released within the wait, and keeps nothing of it", async () => {
    const migration = await session(env.targetUrl, "migrate");
    await migration.query("BEGIN; LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE");
    const job = await newJob(env);
    const running = runBackup(env.ctx, job.id);
    await waitFor(async () => ((await locksOf(env, job.id))?.waiting.length ?? 0) > 0, 15_000);
    await migration.query("COMMIT");
    await migration.end();
    const r = await running;
    expect(r).toEqual({ status: "SUCCEEDED" });
    expect(await locksOf(env, job.id)).toBeUndefined();
  }, 60_000);
});

describe("a migration that waits for a backup's lock", () => {
  let env: TestEnv;
  let hooks: HookReceiver;
  let stopNotify: () => Promise<void>;
  beforeAll(async () => {
    // More than the pipes between pg_dump and the store hold: held, the dump waits with its locks.
    env = await makeEnv({ seed: { rows: 500, blobMb: 8 }, overrides: { heartbeatMs: 500, backupBlockingAlertSeconds: 2 } });
    hooks = await startHookReceiver(SECRET);
    await setChannels(env.db, [{ kind: "WEBHOOK", name: "On call", url: hooks.url, events: ["BACKUP_BLOCKING"] }]);
    stopNotify = startNotifications(env.ctx, { cfg: { WEBHOOK_SECRET: SECRET }, notifyOptions: { retries: 0, timeoutMs: 5000 } });
  }, 120_000);
  afterAll(async () => {
    await stopNotify?.();
    await hooks?.close();
    await env?.cleanup();
  });

  const ask = (input: GateRequestInput) => runGate(env.ctx, gateRequestSchema.parse(input), who);

  it("names it and those queued behind it while the dump runs, keeps who waited, and the gate holds deploys meanwhile", async () => {
    // A fresh backup exists: before this decision the gate let the deploy through.
    const earlier = await newJob(env);
    expect((await runBackup(env.ctx, earlier.id)).status).toBe("SUCCEEDED");
    expect((await ask({ commitSha: "abc1234" })).allowed).toBe(true);

    const held = gatedStorage(env.ctx.storage);
    const ctx = { ...env.ctx, storage: held.storage };
    const job = await newJob(env);
    const running = runBackup(ctx, job.id);
    const migration = await session(env.targetUrl, "migrate");
    const app1 = await session(env.targetUrl, "shop");
    const app2 = await session(env.targetUrl, "shop");
    try {
      await waitFor(async () => (await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).phase === "dumping", 20_000);
      // pg_dump has its locks once it reads the catalogue; its output is not taken yet.
      await waitFor(async () => {
        const rows = await migration.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'vaultline-backup' AND l.relation = 'customers'::regclass AND l.granted",
        );
        return rows.rows[0].n > 0;
      }, 20_000);
      const migrationPid = (await migration.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      const altering = migration.query("ALTER TABLE customers ADD COLUMN nickname text");
      // The application's reads come once the migration waits, so they queue behind it.
      await waitFor(async () => (await sql<{ n: number }>(env.targetUrl, `SELECT count(*)::int AS n FROM pg_locks WHERE pid = ${migrationPid} AND NOT granted`))[0].n > 0, 10_000);
      const reads = [app1.query("SELECT count(*) FROM customers"), app2.query("SELECT count(*) FROM customers")];
      await waitFor(async () => (await locksOf(env, job.id))?.blocking.some((b) => b.pid === migrationPid && b.behind >= 2 && b.seconds >= 1) ?? false, 20_000);
      const live = (await locksOf(env, job.id))!;
      const seen = live.blocking.find((b) => b.pid === migrationPid)!;
      expect(seen).toMatchObject({ application: "migrate", table: "public.customers", mode: "AccessExclusiveLock", state: "active" });
      // The two reads, and the drill's checksum of the table when it came to it meanwhile.
      expect(seen.behind).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(live)).not.toMatch(/ALTER TABLE|nickname|count\(/);
      const detail = await backupDetail(env.ctx, job.id, "test");
      expect(detail.locks?.blocking.map((b) => b.pid)).toContain(migrationPid);
      // The overview's card, where the person on call looks when the deploy hangs.
      const card = (await targetsOverview(env.db)).find((t) => t.targetId === "default")!;
      expect(card.state).toBe("running");
      expect(card.locks).toMatchObject({ backupId: job.id, blocking: { application: "migrate", table: "public.customers" }, waiting: null });
      expect(card.locks!.blocking!.behind).toBeGreaterThanOrEqual(2);

      // On call hears of it once, with who waits and how to let it through.
      await waitFor(async () => hooks.hooks.length > 0, 10_000);
      const { payload, signatureValid } = hooks.hooks[0];
      expect(signatureValid).toBe(true);
      expect(payload).toMatchObject({ event: "backup.blocking", backup: { id: job.id, kind: "FULL" }, blocking: { pid: migrationPid, application: "migrate", table: "public.customers", mode: "AccessExclusiveLock" } });
      expect(payload.text).toMatch(new RegExp(`^:hourglass: Vaultline default target: backup ${job.id} \\(FULL, manual\\) holds up a session: pid ${migrationPid} .* has waited \\d+ s for the backup's lock on public\\.customers \\(AccessExclusiveLock\\); \\d+ sessions wait behind it`));
      expect(JSON.stringify(payload)).not.toMatch(/ALTER TABLE|nickname/);

      // The gate: a deploy now would be that migration.
      const blocked = await ask({ commitSha: "abc1234" });
      expect(blocked.allowed).toBe(false);
      expect(blocked.reasons.join(" ")).toMatch(new RegExp(`Backup ${job.id} of default is running \\(dumping, started .* ago\\): its dump holds a lock on every table until it ends`));
      // The Deployments page's gate says the same.
      const page = await deployState(env.ctx, { deploy: { timeoutMs: 1000 }, rollback: { timeoutMs: 1000 } }, {});
      expect(page.gate.allowed).toBe(false);
      expect(page.gate.reasons.join(" ")).toContain(`Backup ${job.id} of default is running`);
      expect((await ask({ commitSha: "abc1234", duringBackup: "allow" })).allowed).toBe(true);
      await env.db.target.update({ where: { id: "default" }, data: { settings: { gate: { duringBackup: "allow" } } } });
      expect((await ask({ commitSha: "abc1234" })).allowed).toBe(true);
      expect((await ask({ commitSha: "abc1234", duringBackup: "block" })).allowed).toBe(false);
      await env.db.target.update({ where: { id: "default" }, data: { settings: {} } });

      // With waitSeconds the gate waits for the dump to end; the migration and the reads then go through.
      const opening = setTimeout(() => held.open(), 1500);
      const waitedAt = Date.now();
      const waited = await ask({ commitSha: "abc1234", waitSeconds: 60 });
      clearTimeout(opening);
      expect(waited.reasons).toEqual([]);
      expect(waited.allowed).toBe(true);
      expect(Date.now() - waitedAt).toBeGreaterThanOrEqual(1400);
      expect(await running).toEqual({ status: "SUCCEEDED" });
      await altering;
      await Promise.all(reads);
      const kept = (await locksOf(env, job.id))!;
      expect(kept.at).toBeNull();
      expect((await targetsOverview(env.db)).find((t) => t.targetId === "default")!.locks).toBeNull();
      expect(kept.waiting).toEqual([]);
      expect(kept.blocking).toEqual([]);
      const mine = kept.blocked.find((b) => b.pid === migrationPid)!;
      expect(mine).toMatchObject({ application: "migrate", table: "public.customers", mode: "AccessExclusiveLock" });
      expect(mine.behind).toBeGreaterThanOrEqual(2);
      expect(mine.seconds).toBeGreaterThanOrEqual(1);
      expect((await backupDetail(env.ctx, job.id, "test")).locks?.blocked.map((b) => b.pid)).toContain(migrationPid);
      // Once per backup, however long it held the session up.
      expect(hooks.hooks.filter((h) => h.payload.event === "backup.blocking")).toHaveLength(1);
      // No backup dumps: the gate lets the deploy through again, also past a backup whose dump
      // is over (its files part, its manifest hold no table).
      const filesPart = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", status: "RUNNING", phase: "archiving files", startedAt: new Date(), metadata: { phases: [] } } });
      expect((await ask({ commitSha: "abc1234" })).allowed).toBe(true);
      await env.db.backupJob.update({ where: { id: filesPart.id }, data: { phase: "dumping" } });
      expect((await ask({ commitSha: "abc1234" })).reasons.join(" ")).toContain(`Backup ${filesPart.id} of default is running (dumping`);
      await env.db.backupJob.update({ where: { id: filesPart.id }, data: { status: "CANCELLED", phase: "cancelled", completedAt: new Date() } });
      expect((await ask({ commitSha: "abc1234" })).allowed).toBe(true);
      expect((await deployState(env.ctx, { deploy: { timeoutMs: 1000 }, rollback: { timeoutMs: 1000 } }, {})).gate.allowed).toBe(true);
    } finally {
      held.open();
      await running.catch(() => undefined);
      await Promise.all([migration.end(), app1.end(), app2.end()]);
    }
  }, 120_000);

  // Decision 187: with BACKUP_GIVE_WAY_SECONDS a scheduled backup — nobody waits for it — lets
  // the migration through; a backup someone asked for holds on as before.
  it("a scheduled backup gives way to the migration it holds up, says to whom, and is retried; a manual one does not", async () => {
    const dumpHolds = (c: pg.Client) =>
      waitFor(async () => {
        const rows = await c.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'vaultline-backup' AND l.relation = 'customers'::regclass AND l.granted",
        );
        return rows.rows[0].n > 0;
      }, 20_000);
    const migration = await session(env.targetUrl, "migrate");
    const migrationPid = (await migration.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    const app = await session(env.targetUrl, "shop");

    // A manual backup with the same setting: the migration waits past it, as before.
    const manualHeld = gatedStorage(env.ctx.storage);
    const manualCtx = { ...env.ctx, storage: manualHeld.storage, backupGiveWaySeconds: 2 };
    const manual = await newJob(env);
    const manualRun = runBackup(manualCtx, manual.id);
    try {
      await dumpHolds(migration);
      const altering = migration.query("ALTER TABLE customers ADD COLUMN gave_way_a text");
      await waitFor(async () => (await locksOf(env, manual.id))?.blocking.some((b) => b.pid === migrationPid && b.seconds >= 4) ?? false, 20_000);
      expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: manual.id } })).status).toBe("RUNNING");
      manualHeld.open();
      expect(await manualRun).toEqual({ status: "SUCCEEDED" });
      await altering;
    } finally {
      manualHeld.open();
      await manualRun.catch(() => undefined);
    }

    const held = gatedStorage(env.ctx.storage);
    const ctx = { ...env.ctx, storage: held.storage, backupGiveWaySeconds: 2 };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", metadata: { phases: [] } } });
    const running = runBackup(ctx, job.id);
    try {
      await dumpHolds(migration);
      const startedAt = Date.now();
      const altering = migration.query("ALTER TABLE customers ADD COLUMN gave_way_b text");
      await waitFor(async () => (await sql<{ n: number }>(env.targetUrl, `SELECT count(*)::int AS n FROM pg_locks WHERE pid = ${migrationPid} AND NOT granted`))[0].n > 0, 10_000);
      const read = app.query("SELECT count(*) FROM customers");
      // The store is never opened: the backup stops by itself, and the migration and the read behind it go through.
      const result = await running;
      await altering;
      await read;
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(result.status).toBe("FAILED");
      expect(result.failureReason).toMatch(
        new RegExp(`^Gave way to pid ${migrationPid} \\(user [^,]+, application "migrate"[^)]*\\), active .*has waited \\d+ s for the backup's lock on public\\.customers \\(AccessExclusiveLock\\).* \\(BACKUP_GIVE_WAY_SECONDS=2\\): the backup stopped so that it could go on\\. A scheduled backup is retried`),
      );
      expect(result.failureReason).not.toMatch(/ALTER TABLE|gave_way_b/);
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.failureReason).toBe(result.failureReason);
      // Nothing of the attempt is listed, and who it gave way to is kept on its page.
      for (const key of Object.values(keysForJob(env.ctx, row))) expect(await listKeys(env.ctx.storage, key)).toEqual([]);
      expect((await locksOf(env, job.id))?.blocked.map((b) => b.pid)).toContain(migrationPid);
      const audited = await env.db.auditEvent.findFirstOrThrow({ where: { action: "backup.failed", target: job.id } });
      expect(JSON.stringify(audited.details)).toContain(`Gave way to pid ${migrationPid}`);
      // A failed scheduled backup: retried as any other.
      expect(await scheduleRetry(env.ctx, job.id)).toMatchObject({ retried: true, attempt: 2 });
    } finally {
      held.open();
      await running.catch(() => undefined);
      await sql(env.targetUrl, "ALTER TABLE customers DROP COLUMN IF EXISTS gave_way_a, DROP COLUMN IF EXISTS gave_way_b");
      await Promise.all([migration.end(), app.end()]);
    }
  }, 120_000);

  // Decision 189: the target's own setting, over BACKUP_GIVE_WAY_SECONDS (here off), and its words say so.
  it("a target's own give-way setting holds where BACKUP_GIVE_WAY_SECONDS is off, and the reason names it", async () => {
    const migration = await session(env.targetUrl, "migrate");
    const migrationPid = (await migration.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    const { settings } = await env.db.target.findUniqueOrThrow({ where: { id: "default" } });
    await env.db.target.update({ where: { id: "default" }, data: { settings: { ...(settings as object), giveWaySeconds: 2 } } });
    const held = gatedStorage(env.ctx.storage);
    const ctx = { ...env.ctx, storage: held.storage, backupGiveWaySeconds: 0 };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", metadata: { phases: [] } } });
    const running = runBackup(ctx, job.id);
    try {
      await waitFor(async () => {
        const rows = await migration.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'vaultline-backup' AND l.relation = 'customers'::regclass AND l.granted",
        );
        return rows.rows[0].n > 0;
      }, 20_000);
      const startedAt = Date.now();
      const altering = migration.query("ALTER TABLE customers ADD COLUMN gave_way_c text");
      const result = await running;
      await altering;
      expect(Date.now() - startedAt).toBeLessThan(15_000);
      expect(result.status).toBe("FAILED");
      expect(result.failureReason).toMatch(new RegExp(`^Gave way to pid ${migrationPid} .*\\(the target's settings: give way after 2 s\\): the backup stopped so that it could go on`));
      expect(result.failureReason).not.toContain("BACKUP_GIVE_WAY_SECONDS");
    } finally {
      held.open();
      await running.catch(() => undefined);
      await env.db.target.update({ where: { id: "default" }, data: { settings: settings as object } });
      await sql(env.targetUrl, "ALTER TABLE customers DROP COLUMN IF EXISTS gave_way_c");
      await migration.end();
    }
  }, 120_000);
});
