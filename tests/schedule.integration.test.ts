// The scheduler on a real catalogue and a real pg-boss: the cron follows the settings
// without a restart, a slot is claimed once however many claimants race for it, and a
// missed slot is caught up once at start — never as a burst.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, waitFor, sql, type TestEnv } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { getBoss, QUEUES, stopBosses } from "../lib/queue";
import { updateSettings } from "../lib/settings";
import { applySchedule, catchUpMissedSlot, claimSlot, handleTick, latestSlot, SCHEDULE_STATE_KEY, scheduleStateSince, startScheduler } from "../lib/backup/schedule";
import { getToday } from "../lib/backup/today";

const admin = { type: "user" as const, label: "admin@example.com" };

async function storedSchedule(env: TestEnv) {
  const boss = await getBoss(env.appUrl);
  return ((await boss.getSchedules()) as { name: string; cron: string; timezone: string }[]).find((s) => s.name === QUEUES.schedule) ?? null;
}

async function scheduledJobs(db: Db, slot?: Date) {
  const rows = await db.backupJob.findMany({ where: { trigger: "SCHEDULED" }, orderBy: { createdAt: "asc" } });
  return slot ? rows.filter((r) => (r.metadata as { scheduleSlot?: string }).scheduleSlot === slot.toISOString()) : rows;
}

afterAll(async () => {
  await stopBosses();
});

describe("schedule", () => {
  let env: TestEnv;
  let other: Db;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    other = createDb(env.appUrl);
  });
  afterAll(async () => {
    await other.$disconnect();
    await stopBosses();
    await env.cleanup();
  });

  it("puts the default 02:00 UTC schedule into pg-boss, follows changes, and removes it when disabled", async () => {
    expect(await applySchedule(env.ctx)).toMatchObject({ state: "scheduled", cron: "0 2 * * *", timezone: "UTC" });
    expect(await storedSchedule(env)).toMatchObject({ cron: "0 2 * * *", timezone: "UTC" });
    expect((await applySchedule(env.ctx)).state).toBe("unchanged");

    await updateSettings(env.db, { schedule: { enabled: true, cron: "30 3 * * 1-5", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
    expect((await applySchedule(env.ctx)).state).toBe("scheduled");
    expect(await storedSchedule(env)).toMatchObject({ cron: "30 3 * * 1-5", timezone: "Europe/Berlin" });

    await updateSettings(env.db, { schedule: { enabled: false, cron: "30 3 * * 1-5", timezone: "Europe/Berlin", kind: "FULL" } }, admin);
    expect((await applySchedule(env.ctx)).state).toBe("unscheduled");
    expect(await storedSchedule(env)).toBeNull();
  });

  it("a running worker picks up a settings change by itself (no restart)", async () => {
    const stop = await startScheduler(env.ctx, { resyncMs: 300 });
    try {
      await updateSettings(env.db, { schedule: { enabled: true, cron: "15 4 * * *", timezone: "Asia/Tokyo", kind: "QUICK" } }, admin);
      await waitFor(async () => (await storedSchedule(env))?.cron === "15 4 * * *", 10_000);
      expect(await storedSchedule(env)).toMatchObject({ timezone: "Asia/Tokyo" });
    } finally {
      await stop();
    }
  });

  it("writes exactly one SCHEDULED backup per slot when many claimants race", async () => {
    const schedule = { kind: "QUICK" as const, cron: "*/5 * * * *", timezone: "UTC" };
    // An hour back: the tick test below claims the current minute's slot.
    const slot = new Date(Math.floor(Date.now() / 300_000) * 300_000 - 3_600_000);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => claimSlot({ ...env.ctx, db: i % 2 ? other : env.db }, schedule, slot, i % 3 ? "cron" : "catch-up")),
    );
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    const rows = await scheduledJobs(env.db, slot);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: "QUICK", status: "QUEUED", attempt: 1, retryOfId: null });
    expect(rows[0].metadata).toMatchObject({ scheduleSlot: slot.toISOString(), maxAttempts: 4 });
    const audit = await env.db.auditEvent.findMany({ where: { action: "backup.requested", target: rows[0].id } });
    expect(audit).toHaveLength(1);
    expect(audit[0].details).toMatchObject({ trigger: "SCHEDULED", slot: slot.toISOString() });

    // A different slot is a different backup.
    const next = await claimSlot(env.ctx, schedule, new Date(slot.getTime() - 300_000), "cron");
    expect(next.claimed).toBe(true);
  });

  it("a scheduled FULL backup bundles the files directory when FILES_DIR is set", async () => {
    const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000);
    const withFiles = await claimSlot({ ...env.ctx, filesDir: "/srv/uploads" }, { kind: "FULL", cron: "0 * * * *", timezone: "UTC" }, slot, "cron");
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: withFiles.jobId } });
    expect(row.metadata).toMatchObject({ includeFiles: true });
    const plain = await claimSlot(env.ctx, { kind: "FULL", cron: "0 * * * *", timezone: "UTC" }, new Date(slot.getTime() - 3_600_000), "cron");
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: plain.jobId } })).metadata).toMatchObject({ includeFiles: false });
  });

  it("a cron tick claims its slot; a tick that waited past a newer slot claims nothing", async () => {
    await updateSettings(env.db, { schedule: { enabled: true, cron: "* * * * *", timezone: "UTC", kind: "QUICK" } }, admin);
    // As if saved minutes ago: a slot already under way at the save is not run.
    await env.db.$executeRaw`UPDATE "Setting" SET "updatedAt" = now() - interval '5 minutes' WHERE key = 'schedule'`;
    // Handled 1.5 s into the current minute's slot (an explicit clock, wherever in the
    // minute the test runs): the ticks below, a second or half a second old, belong to it.
    const now = new Date(latestSlot({ cron: "* * * * *", timezone: "UTC" }, new Date()).getTime() + 1500);
    const fresh = await handleTick(env.ctx, new Date(now.getTime() - 1000), now);
    expect(fresh).toMatchObject({ claimed: true });
    const again = await handleTick(env.ctx, new Date(now.getTime() - 500), now);
    expect(again).toMatchObject({ claimed: false });
    const stale = await handleTick(env.ctx, new Date(now.getTime() - 10 * 60_000), now);
    expect(stale).toMatchObject({ claimed: false, reason: expect.stringMatching(/newer slot/) });
    expect(await scheduledJobs(env.db, latestSlot({ cron: "* * * * *", timezone: "UTC" }, now))).toHaveLength(1);
    expect(await scheduledJobs(env.db, latestSlot({ cron: "* * * * *", timezone: "UTC" }, new Date(now.getTime() - 10 * 60_000)))).toHaveLength(0);
  });

  it("does not run the slot that was under way when the schedule was saved", async () => {
    await updateSettings(env.db, { schedule: { enabled: true, cron: "*/2 * * * *", timezone: "UTC", kind: "QUICK" } }, admin);
    // Saved a minute into a 2-minute slot; its tick comes a second later (explicit times,
    // so a save that happens to land on a slot boundary cannot change the answer).
    const slot = latestSlot({ cron: "*/2 * * * *", timezone: "UTC" }, new Date());
    const savedAt = new Date(slot.getTime() + 60_000);
    await env.db.$executeRaw`UPDATE "Setting" SET "updatedAt" = ${savedAt} WHERE key = 'schedule'`;
    // The test before may have claimed this very minute under "* * * * *" (an even minute):
    // what counts is that this tick adds nothing.
    const before = (await scheduledJobs(env.db, slot)).length;
    try {
      const r = await handleTick(env.ctx, new Date(savedAt.getTime() + 1000), new Date(savedAt.getTime() + 2000));
      expect(r).toMatchObject({ claimed: false, reason: `slot ${slot.toISOString()} began before the schedule was saved` });
      expect(await scheduledJobs(env.db, slot)).toHaveLength(before);
    } finally {
      await updateSettings(env.db, { schedule: { enabled: true, cron: "* * * * *", timezone: "UTC", kind: "QUICK" } }, admin);
    }
  });

  it("/api/today's summary shows the last scheduled run and the next one", async () => {
    const today = await getToday(env.db);
    const last = (await scheduledJobs(env.db)).at(-1)!;
    expect(today.schedule.lastRunAt).toBe(last.createdAt.toISOString());
    expect(today.schedule.cron).toBe("* * * * *");
    expect(new Date(today.schedule.nextRunAt!).getTime()).toBeGreaterThan(Date.now() - 1000);
    expect(new Date(today.schedule.nextRunAt!).getUTCSeconds()).toBe(0);
  });
});

describe("catch-up after an outage", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
  });
  afterAll(async () => {
    await stopBosses();
    await env.cleanup();
  });

  it("runs one backup for the most recent missed slot, once, and nothing for older slots", async () => {
    // Hourly since three days ago; everything was down for the last 70 hours.
    await updateSettings(env.db, { schedule: { enabled: true, cron: "0 * * * *", timezone: "UTC", kind: "QUICK" } }, admin);
    const threeDaysAgo = new Date(Date.now() - 72 * 3_600_000);
    await sql(env.appUrl, `UPDATE "Setting" SET "updatedAt" = $1 WHERE key = 'schedule'`, [threeDaysAgo]);
    await env.db.runtimeState.create({ data: { key: SCHEDULE_STATE_KEY, value: { since: threeDaysAgo.toISOString() } } });

    const first = await catchUpMissedSlot(env.ctx);
    const slot = latestSlot({ cron: "0 * * * *", timezone: "UTC" }, new Date());
    expect(first).toMatchObject({ claimed: true, slot });
    // A second replica starting a moment later finds the slot taken.
    const second = await catchUpMissedSlot(env.ctx);
    expect(second).toMatchObject({ claimed: false, jobId: first!.jobId });
    const rows = await scheduledJobs(env.db);
    expect(rows).toHaveLength(1);
    expect(rows[0].metadata).toMatchObject({ scheduleSource: "catch-up", scheduleSlot: slot.toISOString() });
  });

  it("does not catch up a slot from before the schedule was set", async () => {
    await updateSettings(env.db, { schedule: { enabled: true, cron: "0 0 1 1 *", timezone: "UTC", kind: "QUICK" } }, admin);
    expect(await catchUpMissedSlot(env.ctx)).toBeNull();
  });
});

describe("catch-up of a slot no worker was up for yet", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
  });
  afterAll(async () => {
    await stopBosses();
    await env.cleanup();
  });

  it("runs the first slot after the save even though the first worker started after it (decision 49)", async () => {
    // Hourly, saved two hours ago; no worker has ever started on this catalogue, so the
    // first one to start writes "scheduling began" = now, after the latest slot.
    await updateSettings(env.db, { schedule: { enabled: true, cron: "0 * * * *", timezone: "UTC", kind: "QUICK" } }, admin);
    await sql(env.appUrl, `UPDATE "Setting" SET "updatedAt" = now() - interval '2 hours' WHERE key = 'schedule'`);
    expect(await env.db.runtimeState.findUnique({ where: { key: SCHEDULE_STATE_KEY } })).toBeNull();
    const now = new Date();
    const slot = latestSlot({ cron: "0 * * * *", timezone: "UTC" }, now);
    const r = await catchUpMissedSlot(env.ctx, now);
    expect(r).toMatchObject({ claimed: true, slot });
    expect((await scheduleStateSince(env.ctx)).getTime()).toBeGreaterThan(slot.getTime());
    const rows = await scheduledJobs(env.db);
    expect(rows.map((row) => row.metadata)).toMatchObject([{ scheduleSource: "catch-up", scheduleSlot: slot.toISOString() }]);
  });
});

describe("scheduling state", () => {
  it("survives many workers starting at the same moment (regression: Setting_pkey violation crashed one)", async () => {
    const env = await makeEnv({ seed: false });
    try {
      const dbs = Array.from({ length: 6 }, () => createDb(env.appUrl));
      const now = new Date();
      const results = await Promise.all(dbs.map((db) => scheduleStateSince({ db }, now)));
      expect(new Set(results.map((d) => d.toISOString())).size).toBe(1);
      await Promise.all(dbs.map((db) => db.$disconnect()));
    } finally {
      await env.cleanup();
    }
  });
});
