// Engine events to notifications on real loopback receivers: a real failed and a real
// successful backup through the queue, restore start/finish, retention pruning, and the
// missed-backup alert sent once per gap however many replicas check.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, waitFor, type TestEnv } from "./support/vitest-env";
import { closedPort, startHookReceiver, startSmtp, type HookReceiver } from "./support/receivers";
import { createBackupJob } from "../lib/backup/jobs";
import { startWorker, type WorkerHandle } from "../lib/worker";
import { emitEngineEvent } from "../lib/backup/events";
import { runRetention } from "../lib/backup/retention-run";
import { checkMissedBackup, MISSED_STATE_KEY, sendNotification, startNotifications } from "../lib/notify/wiring";
import { SCHEDULE_STATE_KEY } from "../lib/backup/schedule";
import { updateSettings } from "../lib/settings";
import { createDb } from "../lib/db";
import { stopBosses } from "../lib/queue";
import { SYSTEM } from "../lib/audit";
import type { NotifyConfig } from "../lib/notify";
import { LEGACY_EVENTS, setChannels, webhookAndEmail } from "./support/channels";

const SECRET = "whsec-wiring-test";
const H = 3_600_000;

describe("notification wiring", () => {
  let env: TestEnv;
  let worker: WorkerHandle;
  let hooks: HookReceiver;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let stopNotify: () => Promise<void>;
  let cfg: NotifyConfig;
  const settings = (over: { onSuccess?: boolean } = {}) =>
    setChannels(env.db, webhookAndEmail(hooks.url, ["ops@example.com", "dba@example.com"], LEGACY_EVENTS.filter((e) => over.onSuccess !== false || e !== "BACKUP_SUCCEEDED")));

  beforeAll(async () => {
    env = await makeEnv();
    hooks = await startHookReceiver(SECRET);
    smtp = await startSmtp();
    cfg = { WEBHOOK_SECRET: SECRET, SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.com" };
    await settings();
    stopNotify = startNotifications(env.ctx, { cfg, notifyOptions: { retries: 0, timeoutMs: 5000 } });
    worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await worker.stop();
    await stopNotify();
    await stopBosses();
    await hooks.close();
    await smtp.close();
    await env.cleanup();
  });
  afterEach(() => {
    hooks.hooks.length = 0;
    smtp.mails.length = 0;
  });

  async function finished(id: string) {
    return waitFor(async () => {
      const j = await env.db.backupJob.findUnique({ where: { id } });
      return j && ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) ? j : null;
    });
  }

  it("a real failed backup reaches the webhook and every address, with its reason and attempt", async () => {
    const port = await closedPort();
    const dead = { ...env.ctx, targetUrl: `postgresql://u:p@127.0.0.1:${port}/gone` };
    // The queue's worker uses env.ctx; run this one through a second worker on the dead target.
    await worker.stop();
    const deadWorker = await startWorker(dead, { sweepIntervalMs: 3_600_000 });
    try {
      const job = await createBackupJob(dead, { kind: "FULL", trigger: "MANUAL", note: "nightly by hand" }, SYSTEM);
      const row = await finished(job.id);
      expect(row.status).toBe("FAILED");
      await waitFor(async () => hooks.hooks.length >= 1 && smtp.mails.length >= 1, 20_000);
      const { payload, signatureValid } = hooks.hooks[0];
      expect(signatureValid).toBe(true);
      expect(payload).toMatchObject({
        source: "vaultline",
        event: "backup.failed",
        attempt: 1,
        maxAttempts: 1,
        backup: { id: job.id, status: "FAILED", kind: "FULL", trigger: "MANUAL", size: null, failureReason: row.failureReason },
      });
      expect(payload.text).toContain(":x: Vaultline default target: backup FAILED (FULL, manual, attempt 1 of 1)");
      expect(smtp.mails).toHaveLength(1);
      expect(smtp.mails[0].to.sort()).toEqual(["dba@example.com", "ops@example.com"]);
      expect(smtp.mails[0].subject).toBe("[Vaultline] default target: Backup FAILED (FULL, manual, attempt 1 of 1)");
      expect(smtp.mails[0].body).toContain(`Backup:   ${job.id}`);
      expect(smtp.mails[0].body).toContain(row.failureReason!);
    } finally {
      await deadWorker.stop();
      worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
    }
  });

  it("a real successful backup is announced to channels routed for successes, and not once none is", async () => {
    const job = await createBackupJob(env.ctx, { kind: "FULL", trigger: "API" }, SYSTEM);
    const row = await finished(job.id);
    expect(row.status).toBe("SUCCEEDED");
    await waitFor(async () => hooks.hooks.length >= 1 && smtp.mails.length >= 1, 20_000);
    expect(hooks.hooks[0].payload).toMatchObject({
      event: "backup.succeeded",
      backup: { id: job.id, status: "SUCCEEDED", size: Number(row.sizeBytes), duration: row.durationSeconds, trigger: "API" },
    });
    expect(smtp.mails[0].subject).toMatch(/^\[Vaultline\] default target: Backup succeeded \(FULL, api, /);

    await settings({ onSuccess: false });
    hooks.hooks.length = 0;
    const quiet = await createBackupJob(env.ctx, { kind: "QUICK", trigger: "MANUAL", commitSha: "abc1234def" }, SYSTEM);
    expect((await finished(quiet.id)).status).toBe("SUCCEEDED");
    await new Promise((r) => setTimeout(r, 1000));
    expect(hooks.hooks).toHaveLength(0);
    await settings();
  });

  it("announces a restore starting and finishing", async () => {
    const user = await env.db.user.create({ data: { email: "admin@example.com", displayName: "Admin", role: "ADMIN", passwordHash: "x" } });
    const restore = await env.db.restoreJob.create({
      data: { backupId: "cmbackup00000000000001", safetyBackupId: "cmsafety00000000000001", status: "RUNNING", initiatedById: user.id, startedAt: new Date() },
    });
    await emitEngineEvent({ type: "restore.started", restoreId: restore.id });
    await env.db.restoreJob.update({ where: { id: restore.id }, data: { status: "FAILED", durationSeconds: 12.5, failureReason: "pg_restore: relation missing" } });
    await emitEngineEvent({ type: "restore.finished", restoreId: restore.id, status: "FAILED" });
    await waitFor(async () => hooks.hooks.length >= 2, 20_000);
    const [started, done] = [...hooks.hooks].sort((a, b) => (a.payload.event < b.payload.event ? 1 : -1)).map((h) => h.payload);
    expect(started).toMatchObject({
      event: "restore.started",
      restore: { id: restore.id, backupId: "cmbackup00000000000001", safetyBackupId: "cmsafety00000000000001", status: "STARTED", initiatedBy: "admin@example.com" },
    });
    expect(done).toMatchObject({ event: "restore.finished", restore: { status: "FAILED", duration: 12.5, failureReason: "pg_restore: relation missing" } });
  });

  it("announces retention pruning with count, bytes and ids", async () => {
    const old = await env.db.backupJob.create({
      data: { kind: "FULL", trigger: "MANUAL", status: "FAILED", failureReason: "old", createdAt: new Date(Date.now() - 90 * 24 * H) },
    });
    const r = await runRetention(env.ctx, { notifier: (e) => sendNotification(env.ctx, e, cfg, { retries: 0 }) });
    expect(r).toMatchObject({ status: "done", pruned: [{ id: old.id }] });
    await waitFor(async () => hooks.hooks.length >= 1, 10_000);
    expect(hooks.hooks[0].payload).toMatchObject({ event: "retention.pruned", retention: { count: 1, bytes: 0, ids: [old.id] } });
  });

  it("sends the missed-backup alert once per gap, even when replicas check together", async () => {
    const fresh = await makeEnv({ seed: false });
    const other = createDb(fresh.appUrl);
    try {
      await setChannels(fresh.db, webhookAndEmail(hooks.url, []));
      const t0 = new Date(Date.now() - 100 * H);
      await fresh.db.runtimeState.create({ data: { key: SCHEDULE_STATE_KEY, value: { since: new Date(t0.getTime() - H).toISOString() } } });
      await fresh.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: t0, completedAt: t0, sizeBytes: 10n } });
      const at = (h: number) => new Date(t0.getTime() + h * H);
      const check = (h: number, db = fresh.db) => checkMissedBackup({ db }, cfg, { now: at(h), notifyOptions: { retries: 0 } });

      expect((await check(20)).sent).toBe(false);
      // A QUICK backup holds no data: it does not close the gap, even when the schedule takes QUICK.
      await updateSettings(fresh.db, { schedule: { enabled: true, cron: "0 2 * * *", timezone: "UTC", kind: "QUICK" } }, { type: "system" });
      await fresh.db.backupJob.create({ data: { kind: "QUICK", trigger: "PRE_DEPLOY", status: "SUCCEEDED", createdAt: at(25), completedAt: at(25), commitSha: "abc1234" } });
      const both = await Promise.all([check(27), check(27, other), check(27.1, other)]);
      expect(both.filter((c) => c.sent)).toHaveLength(1);
      expect((await check(40)).sent).toBe(false);
      expect((await check(60, other)).sent).toBe(false);
      await waitFor(async () => hooks.hooks.length >= 1, 10_000);
      expect(hooks.hooks).toHaveLength(1);
      expect(hooks.hooks[0].payload).toMatchObject({ event: "backup.missed", missed: { lastSuccessAt: t0.toISOString(), hours: 26 } });
      expect((await fresh.db.runtimeState.findUniqueOrThrow({ where: { key: MISSED_STATE_KEY } })).value).toMatchObject({ lastSuccessAt: t0.toISOString() });

      // A new success closes the gap; the next gap alerts once again.
      await fresh.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: at(61), completedAt: at(61), sizeBytes: 10n } });
      expect((await check(70)).sent).toBe(false);
      const again = await Promise.all([check(88), check(88, other)]);
      expect(again.filter((c) => c.sent)).toHaveLength(1);
      await waitFor(async () => hooks.hooks.length >= 2, 10_000);
      expect(hooks.hooks[1].payload.missed).toEqual({ lastSuccessAt: at(61).toISOString(), hours: 26 });
      expect((await check(95)).sent).toBe(false);
      expect(hooks.hooks).toHaveLength(2);
    } finally {
      await other.$disconnect();
      await fresh.cleanup();
    }
  });

  it("does not spend the alert while no channel is configured", async () => {
    const fresh = await makeEnv({ seed: false });
    try {
      await fresh.db.runtimeState.create({ data: { key: SCHEDULE_STATE_KEY, value: { since: new Date(Date.now() - 50 * H).toISOString() } } });
      const none = await checkMissedBackup({ db: fresh.db }, cfg);
      expect(none).toMatchObject({ sent: false, reason: "no channel is routed for the missed-backup alert" });
      // A channel not routed for it does not count either.
      await setChannels(fresh.db, webhookAndEmail(hooks.url, [], ["BACKUP_FAILED"]));
      expect(await checkMissedBackup({ db: fresh.db }, cfg)).toMatchObject({ sent: false, reason: "no channel is routed for the missed-backup alert" });
      await setChannels(fresh.db, webhookAndEmail(hooks.url, []));
      const sent = await checkMissedBackup({ db: fresh.db }, cfg, { notifyOptions: { retries: 0 } });
      expect(sent.sent).toBe(true);
      expect(sent.result?.deliveries).toMatchObject([{ name: "Webhook", kind: "WEBHOOK", ok: true, status: 200 }]);
      expect(hooks.hooks.at(-1)!.payload).toMatchObject({ event: "backup.missed", missed: { lastSuccessAt: null } });
    } finally {
      await fresh.cleanup();
    }
  });
});
