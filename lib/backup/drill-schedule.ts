// Scheduled restore drills (issue 17 §1). The same mechanism as backups (schedule.ts):
// pg-boss cron ticks the drill-schedule queue in the drill's time zone, a tick only wakes a
// worker, and what makes a drill is claiming the tick's slot. Here the claim is the
// DrillRun row itself: `scheduleSlot` is unique, so the first INSERT of a slot wins and
// every later one (another replica, a duplicated tick, the start-up catch-up) does nothing.
import { randomUUID } from "node:crypto";
import type { PgBoss } from "pg-boss";
import type { BackupContext } from "./context";
import { DEFAULT_TARGET_ID } from "./targets";
import { catchUpSlot, slotForTick, type TickVerdict } from "./schedule";
import { enqueueDrill } from "./drill";
import { emitEngineEvent } from "./events";
import { audit } from "../audit";
import { loadSettings } from "../settings";
import { getBoss, QUEUES, workQueue } from "../queue";
import { componentLogger } from "../log";

const log = componentLogger("drill-schedule");

/** A RUNNING drill older than this lost its worker (drills write no heartbeat): it is failed. */
export const DRILL_STALE_MS = 12 * 60 * 60 * 1000;

export type DrillClaim = { claimed: true; drillId: string; backupId: string | null; slot: Date } | { claimed: false; slot: Date };

/**
 * Writes the SCHEDULED drill of `slot` unless one exists, for the newest successful FULL
 * backup. With no such backup the drill is recorded FAILED at once: there is nothing that
 * could be restored, which is exactly what a drill exists to say.
 */
export async function claimDrillSlot(ctx: BackupContext, slot: Date, source: "cron" | "catch-up", tickId?: string): Promise<DrillClaim> {
  const newest = await ctx.db.backupJob.findFirst({
    // Drills are the default target's (decision 93): never another target's backup.
    where: { status: "SUCCEEDED", kind: "FULL", completedAt: { not: null }, targetId: DEFAULT_TARGET_ID },
    orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
    select: { id: true },
  });
  const noBackup = "no successful FULL backup to drill";
  const rows = await ctx.db.$queryRaw<{ id: string }[]>`
    INSERT INTO "DrillRun" (id, "backupId", trigger, status, "scheduleSlot", "startedAt", "completedAt", "failureReason")
    VALUES (${randomUUID()}, ${newest?.id ?? null}, 'SCHEDULED', ${newest ? "RUNNING" : "FAILED"}::"DrillStatus",
            ${slot}, now(), ${newest ? null : new Date()}, ${newest ? null : noBackup})
    ON CONFLICT ("targetId", "scheduleSlot") DO NOTHING
    RETURNING id`;
  if (!rows.length) {
    log.info({ slot: slot.toISOString(), source, tickId }, "drill slot already claimed");
    return { claimed: false, slot };
  }
  const drillId = rows[0].id;
  await audit(ctx.db, {
    actor: { type: "system", label: "scheduler" },
    action: "backup.drill_requested",
    target: newest?.id ?? "none",
    targetId: DEFAULT_TARGET_ID,
    details: { drillId, trigger: "SCHEDULED", slot: slot.toISOString(), source },
  });
  if (!newest) {
    log.warn({ drillId, slot: slot.toISOString() }, noBackup);
    await emitEngineEvent({ type: "drill.finished", drillId, status: "FAILED" });
    return { claimed: true, drillId, backupId: null, slot };
  }
  await enqueueDrill(ctx, newest.id, drillId);
  log.info({ drillId, jobId: newest.id, slot: slot.toISOString(), source, tickId }, "scheduled drill claimed");
  return { claimed: true, drillId, backupId: newest.id, slot };
}

/** Handles one cron tick from the drill-schedule queue. */
export async function handleDrillTick(ctx: BackupContext, createdOn: Date, now = new Date(), tickId?: string): Promise<DrillClaim | { claimed: false; reason: string }> {
  const { settings, meta } = await loadSettings(ctx.db);
  const { drill } = settings;
  if (!drill.enabled) return { claimed: false, reason: "drill schedule disabled" };
  const verdict: TickVerdict = slotForTick(drill, createdOn, now);
  if (!verdict.slot) {
    log.warn({ tickId, reason: verdict.reason }, "drill tick ignored");
    return { claimed: false, reason: verdict.reason };
  }
  const savedAt = meta.drill?.updatedAt;
  if (savedAt && verdict.slot.getTime() < savedAt.getTime()) {
    return { claimed: false, reason: `slot ${verdict.slot.toISOString()} began before the drill schedule was saved` };
  }
  return claimDrillSlot(ctx, verdict.slot, "cron", tickId);
}

/** At worker start: one drill for the most recent slot if it was missed (schedule.ts's rule). */
export async function catchUpMissedDrill(ctx: BackupContext, now = new Date()): Promise<DrillClaim | null> {
  const { settings, meta } = await loadSettings(ctx.db);
  // The drill schedule is off by default: it is in force only once saved.
  if (!meta.drill) return null;
  const slot = catchUpSlot(settings.drill, meta.drill.updatedAt, now);
  return slot ? claimDrillSlot(ctx, slot, "catch-up") : null;
}

/** Makes pg-boss's drill cron match the settings (after PUT /api/settings and every 30 s). */
export async function applyDrillSchedule(ctx: Pick<BackupContext, "db" | "appDatabaseUrl">): Promise<"scheduled" | "unchanged" | "unscheduled"> {
  const boss: PgBoss = await getBoss(ctx.appDatabaseUrl);
  const { drill } = (await loadSettings(ctx.db)).settings;
  const current = await boss.getSchedule(QUEUES.drillSchedule);
  if (!drill.enabled) {
    if (!current) return "unchanged";
    await boss.unschedule(QUEUES.drillSchedule);
    return "unscheduled";
  }
  if (current && current.cron === drill.cron && current.timezone === drill.timezone) return "unchanged";
  await boss.schedule(QUEUES.drillSchedule, drill.cron, {}, { tz: drill.timezone });
  log.info({ cron: drill.cron, timezone: drill.timezone }, "drill schedule applied");
  return "scheduled";
}

/** Fails drills whose worker died mid-way, so the state does not say "running" forever. */
export async function sweepStaleDrills(ctx: Pick<BackupContext, "db">, now = new Date()): Promise<string[]> {
  const stale = await ctx.db.drillRun.findMany({ where: { status: "RUNNING", startedAt: { lt: new Date(now.getTime() - DRILL_STALE_MS) } }, select: { id: true } });
  for (const { id } of stale) {
    const r = await ctx.db.drillRun.updateMany({
      where: { id, status: "RUNNING" },
      data: { status: "FAILED", completedAt: now, failureReason: `the drill did not finish within ${DRILL_STALE_MS / 3_600_000} hours (its worker stopped)` },
    });
    if (r.count) await emitEngineEvent({ type: "drill.finished", drillId: id, status: "FAILED" });
  }
  return stale.map((s) => s.id);
}

/** The worker's part: tick handler, start-up catch-up, cron re-sync and the stale sweep. */
export async function startDrillScheduler(ctx: BackupContext, opts: { resyncMs?: number } = {}): Promise<() => Promise<void>> {
  await applyDrillSchedule(ctx).catch((e: Error) => log.error({ err: e.message }, "applying the drill schedule failed"));
  const ticks = await workQueue<object>(ctx.appDatabaseUrl, QUEUES.drillSchedule, async (tick) => {
    await handleDrillTick(ctx, tick.createdOn, new Date(), tick.id);
  });
  await catchUpMissedDrill(ctx).catch((e: Error) => log.error({ err: e.message }, "drill catch-up failed"));
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.all([applyDrillSchedule(ctx), sweepStaleDrills(ctx)])
      .catch((e: Error) => log.error({ err: e.message }, "drill schedule re-sync failed"))
      .finally(() => (busy = false));
  }, opts.resyncMs ?? 30_000);
  return async () => {
    clearInterval(timer);
    await ticks.stop();
  };
}

/** For PUT /api/settings: applies a saved drill schedule at once; workers re-sync within 30 s anyway. */
export async function resyncDrillScheduleAfterSave(ctx: Pick<BackupContext, "db" | "appDatabaseUrl">): Promise<void> {
  await applyDrillSchedule(ctx).catch((e: Error) => log.error({ err: e.message }, "applying the saved drill schedule failed; workers will re-sync"));
}
