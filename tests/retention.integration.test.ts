// Retention end to end: real backups in real storage, pruned by the plan — objects
// first, then rows — audited with ids and bytes, and never while a restore holds the
// destructive-operation slot.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, listKeys, seedTarget, waitFor, createDatabase, type TestEnv } from "./support/vitest-env";
import { runBackup } from "../lib/backup/run-backup";
import { backupKeys } from "../lib/backup/manifest";
import { runRetention, startRetention } from "../lib/backup/retention-run";
import { updateSettings } from "../lib/settings";
import { tryDestructiveLock } from "../lib/backup/locks";
import type { NotifyEvent } from "../lib/notify/messages";
import { stopBosses } from "../lib/queue";

const DAY = 86_400_000;
const admin = { type: "user" as const, label: "admin@example.com" };

describe("retention", () => {
  let env: TestEnv;
  const ids: Record<string, string> = {};
  const created: Record<string, Date> = {};

  async function backup(name: string, kind: "FULL" | "QUICK", trigger: "MANUAL" | "SCHEDULED" | "PRE_RESTORE", daysAgo: number) {
    const createdAt = new Date(Date.now() - daysAgo * DAY);
    // A QUICK backup records a commit or is refused (issue 18).
    const row = await env.db.backupJob.create({ data: { kind, trigger, createdAt, commitSha: kind === "QUICK" ? "1234567abcdef" : null, metadata: { phases: [] } } });
    expect((await runBackup(env.ctx, row.id)).status).toBe("SUCCEEDED");
    ids[name] = row.id;
    created[name] = createdAt;
  }

  const dirOf = (name: string) => backupKeys("backups", "test", ids[name], created[name]).dir;
  const stored = async (name: string) => (await listKeys(env.ctx.storage, dirOf(name))).length;
  const exists = async (name: string) => (await env.db.backupJob.findUnique({ where: { id: ids[name] } })) !== null;

  beforeAll(async () => {
    const targetUrl = await createDatabase("target");
    await seedTarget(targetUrl, { rows: 200 });
    env = await makeEnv({ seed: false, overrides: { targetUrl } });
    await backup("recent", "FULL", "MANUAL", 1);
    await backup("keptByCount", "FULL", "SCHEDULED", 4);
    await backup("youngSafety", "FULL", "PRE_RESTORE", 5);
    await backup("oldSafety", "FULL", "PRE_RESTORE", 9);
    await backup("old1", "FULL", "SCHEDULED", 15);
    await backup("old2", "FULL", "MANUAL", 20);
    await backup("quick1", "QUICK", "SCHEDULED", 6);
    await backup("quick2", "QUICK", "SCHEDULED", 8);
    const failed = await env.db.backupJob.create({
      data: { kind: "FULL", trigger: "SCHEDULED", status: "FAILED", failureReason: "boom", createdAt: new Date(Date.now() - 12 * DAY) },
    });
    ids.failed = failed.id;
    created.failed = failed.createdAt;
  }, 120_000);

  afterAll(async () => {
    await stopBosses();
    await env.cleanup();
  });

  it("does nothing while a restore holds the destructive slot, and says so", async () => {
    await updateSettings(env.db, { retention: { days: 3, keepLast: 2, keepQuick: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 } }, admin);
    const lock = await tryDestructiveLock(env.appUrl);
    expect(lock).not.toBeNull();
    try {
      const r = await runRetention(env.ctx);
      expect(r).toMatchObject({ status: "skipped", reason: expect.stringMatching(/restore|in progress|running/i) });
    } finally {
      await lock!.release();
    }
    // A restore row still QUEUED/RUNNING blocks it too (its worker may not hold the lock yet).
    const restore = await env.db.restoreJob.create({ data: { backupId: ids.recent, status: "RUNNING" } });
    expect((await runRetention(env.ctx)).status).toBe("skipped");
    await env.db.restoreJob.update({ where: { id: restore.id }, data: { status: "SUCCEEDED" } });
    for (const name of Object.keys(ids)) expect(await exists(name)).toBe(true);
    expect(await env.db.auditEvent.count({ where: { action: "retention.pruned" } })).toBe(0);
  });

  it("keeps by age, by count, safety backups for 7 days; prunes the rest, objects then rows, audited", async () => {
    const notified: NotifyEvent[] = [];
    const sizes = Object.fromEntries(
      (await env.db.backupJob.findMany({ select: { id: true, sizeBytes: true } })).map((r) => [r.id, Number(r.sizeBytes ?? 0)]),
    );
    const r = await runRetention(env.ctx, { notifier: async (e) => void notified.push(e) });
    expect(r.status).toBe("done");
    if (r.status !== "done") return;
    const prunedNames = Object.keys(ids).filter((n) => r.pruned.some((p) => p.id === ids[n])).sort();
    expect(prunedNames).toEqual(["failed", "old1", "old2", "oldSafety", "quick2"]);
    for (const name of ["recent", "keptByCount", "youngSafety", "quick1"]) {
      expect(await exists(name)).toBe(true);
      expect(await stored(name)).toBeGreaterThan(0);
    }
    for (const name of prunedNames) {
      expect(await exists(name)).toBe(false);
      expect(await stored(name)).toBe(0);
    }
    const bytes = prunedNames.reduce((n, name) => n + sizes[ids[name]], 0);
    expect(bytes).toBeGreaterThan(0);
    expect(r.bytes).toBe(bytes);
    const audit = await env.db.auditEvent.findFirstOrThrow({ where: { action: "retention.pruned" } });
    const details = audit.details as { ids: string[]; bytes: number; count: number };
    expect(details.ids.sort()).toEqual(prunedNames.map((n) => ids[n]).sort());
    expect(details.bytes).toBe(bytes);
    expect(details.count).toBe(5);
    expect(notified).toEqual([{ type: "retention.pruned", count: 5, bytes, ids: expect.arrayContaining(prunedNames.map((n) => ids[n])) }]);

    // Idempotent: a second run finds nothing to do and writes no audit event.
    const again = await runRetention(env.ctx);
    expect(again).toMatchObject({ status: "done", pruned: [] });
    expect(await env.db.auditEvent.count({ where: { action: "retention.pruned" } })).toBe(1);
  });

  it("never prunes the newest successful FULL backup, even with a keep-nothing policy", async () => {
    await updateSettings(env.db, { retention: { days: 0, keepLast: 0, keepQuick: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 } }, admin);
    const r = await runRetention(env.ctx);
    expect(r.status).toBe("done");
    expect(await exists("recent")).toBe(true);
    expect(await stored("recent")).toBeGreaterThan(0);
    // The 5-day-old safety backup is still inside its 7 days.
    expect(await exists("youngSafety")).toBe(true);
    expect(await exists("keptByCount")).toBe(false);
    expect(await exists("quick1")).toBe(false);
    expect(await stored("keptByCount")).toBe(0);
  });

  it("runs after each successful backup", async () => {
    const stop = startRetention(env.ctx, { intervalMs: 3_600_000 });
    try {
      const row = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
      expect((await runBackup(env.ctx, row.id)).status).toBe("SUCCEEDED");
      // keepLast 0, days 0: the new backup is now the newest FULL, so the previous one goes.
      await waitFor(async () => !(await exists("recent")), 20_000);
      expect(await stored("recent")).toBe(0);
      expect(await env.db.backupJob.findUnique({ where: { id: row.id } })).not.toBeNull();
    } finally {
      await stop();
    }
  });
});
