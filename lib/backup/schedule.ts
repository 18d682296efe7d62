// Scheduled backups (DESIGN §7 "a scheduled slot produces exactly one backup however many
// replicas run"). pg-boss cron ticks the schedule queue in the schedule's time zone; a
// tick is only a wake-up call. What makes a backup is claiming the tick's slot — the cron
// occurrence it belongs to — inside a transaction holding an advisory lock: the first
// claim of a slot writes the SCHEDULED BackupJob, every later claim (a second replica,
// a duplicated tick, the start-up catch-up) finds it and does nothing.
import { CronExpressionParser } from "cron-parser";
import type { PgBoss } from "pg-boss";
import type { BackupContext } from "./context";
import { getBoss, QUEUES, workQueue } from "../queue";
import { loadSettings } from "../settings";
import { audit } from "../audit";
import { enqueueBackup } from "./jobs";
import { DEFAULT_RETRY_POLICY } from "./retries";
import { componentLogger } from "../log";
import type { ScheduleSettings } from "../validation/settings";
import { contextForTarget, DEFAULT_TARGET_ID, targetSettings, type TargetRow } from "./targets";

const log = componentLogger("schedule");

/** RuntimeState row holding when scheduling started on this database (`{since}`). */
export const SCHEDULE_STATE_KEY = "schedule";
/** A missed slot older than this is not caught up at start: the next slot is closer. */
export const CATCH_UP_WINDOW_MS = 24 * 60 * 60 * 1000;
/**
 * pg-boss creates a tick within about a minute of its slot (cron monitor every 30 s, the
 * send-it worker every 5 s). A tick created later than this after the slot it would claim
 * is not that slot's tick (the cron was changed in between), so it claims nothing.
 */
export const TICK_MAX_DELAY_MS = 2 * 60_000;

const SLOT_LOCK = "vaultline:schedule-slot";

type ScheduleCtx = Pick<BackupContext, "db" | "appDatabaseUrl">;

/** The latest occurrence of the schedule's cron at or before `at`, in its time zone. */
export function latestSlot(schedule: Pick<ScheduleSettings, "cron" | "timezone">, at: Date): Date {
  // prev() is strictly before currentDate; one millisecond later makes "at or before".
  return CronExpressionParser.parse(schedule.cron.trim(), {
    tz: schedule.timezone,
    currentDate: new Date(at.getTime() + 1),
  })
    .prev()
    .toDate();
}

export type TickVerdict = { slot: Date } | { slot: null; reason: string };

/**
 * Which slot a tick created at `createdOn` and handled at `now` may claim. It must be near
 * its slot (not a leftover of an older cron), and no newer slot may have passed while it
 * waited in the queue: ticks queued while no worker ran must not replay as a burst.
 */
export function slotForTick(schedule: Pick<ScheduleSettings, "cron" | "timezone">, createdOn: Date, now: Date): TickVerdict {
  const tickSlot = latestSlot(schedule, createdOn < now ? createdOn : now);
  if (createdOn.getTime() - tickSlot.getTime() > TICK_MAX_DELAY_MS) {
    return { slot: null, reason: `tick created ${Math.round((createdOn.getTime() - tickSlot.getTime()) / 1000)} s after its slot` };
  }
  const current = latestSlot(schedule, now);
  if (current.getTime() !== tickSlot.getTime()) {
    return { slot: null, reason: `a newer slot (${current.toISOString()}) passed while the tick waited` };
  }
  return { slot: tickSlot };
}

/**
 * The slot to catch up at start, or null: the most recent slot, if it is less than
 * CATCH_UP_WINDOW_MS old and the schedule was already in force then. Only that one slot
 * is considered, so a long outage yields one catch-up run, never a burst.
 */
export function catchUpSlot(
  schedule: Pick<ScheduleSettings, "cron" | "timezone" | "enabled">,
  inForceSince: Date,
  now: Date,
): Date | null {
  if (!schedule.enabled) return null;
  const slot = latestSlot(schedule, now);
  if (now.getTime() - slot.getTime() >= CATCH_UP_WINDOW_MS) return null;
  if (slot.getTime() < inForceSince.getTime()) return null;
  return slot;
}

interface ScheduleState {
  since: string;
}

/** When scheduling began on this database; written once by the first worker to start. */
export async function scheduleStateSince(ctx: Pick<BackupContext, "db">, now = new Date()): Promise<Date> {
  const value = { since: now.toISOString() } satisfies ScheduleState;
  // ON CONFLICT, not Prisma's upsert (a read then an insert): two workers starting at the
  // same moment both saw no row and the second insert crashed its worker.
  await ctx.db.$executeRaw`
    INSERT INTO "RuntimeState" (key, value, "updatedBy", "updatedAt")
    VALUES (${SCHEDULE_STATE_KEY}, ${JSON.stringify(value)}::jsonb, 'system', now())
    ON CONFLICT (key) DO NOTHING`;
  const row = await ctx.db.runtimeState.findUniqueOrThrow({ where: { key: SCHEDULE_STATE_KEY } });
  const since = new Date((row.value as Partial<ScheduleState>)?.since ?? now.toISOString());
  return Number.isNaN(since.getTime()) ? now : since;
}

export type ClaimSource = "cron" | "catch-up";
export type ClaimResult = { claimed: true; jobId: string; slot: Date } | { claimed: false; jobId: string; slot: Date };

/**
 * Writes the SCHEDULED backup of ctx's target (absent = `default`) for `slot` unless that
 * target has one. Serialised across every process by a transaction-scoped advisory lock, so
 * the check and the insert are atomic: one backup per (target, slot), however many replicas.
 */
export async function claimSlot(
  ctx: BackupContext,
  schedule: Pick<ScheduleSettings, "kind" | "cron" | "timezone">,
  slot: Date,
  source: ClaimSource,
  /** The pg-boss tick that asked, for the logs. */
  tickId?: string,
): Promise<ClaimResult> {
  const slotIso = slot.toISOString();
  const targetId = ctx.target?.id ?? DEFAULT_TARGET_ID;
  const outcome = await ctx.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${SLOT_LOCK}))`;
    // createdAt >= slot: a slot's job is never written before the slot, and it keeps the
    // lookup on the (trigger, createdAt) index.
    const existing = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "BackupJob"
       WHERE trigger = 'SCHEDULED' AND "createdAt" >= ${slot} AND metadata->>'scheduleSlot' = ${slotIso} AND "targetId" = ${targetId}
       ORDER BY "createdAt" LIMIT 1`;
    if (existing.length > 0) return { claimed: false as const, jobId: existing[0].id };
    const now = new Date();
    const job = await tx.backupJob.create({
      data: {
        targetId,
        kind: schedule.kind,
        trigger: "SCHEDULED",
        attempt: 1,
        metadata: {
          // With FILES_DIR configured, a scheduled FULL backup bundles the uploads too.
          includeFiles: schedule.kind === "FULL" && !!ctx.filesDir,
          scheduleSlot: slotIso,
          scheduleSource: source,
          schedule: { cron: schedule.cron, timezone: schedule.timezone },
          maxAttempts: DEFAULT_RETRY_POLICY.maxAttempts,
          phases: [{ phase: "queued", at: now.toISOString() }],
        },
      },
    });
    return { claimed: true as const, jobId: job.id };
  });
  if (!outcome.claimed) {
    log.info({ jobId: outcome.jobId, slot: slotIso, source, tickId, pid: process.pid }, "slot already claimed");
    return { ...outcome, slot };
  }
  await audit(ctx.db, {
    actor: { type: "system", label: "scheduler" },
    action: "backup.requested",
    target: outcome.jobId,
    targetId,
    details: { kind: schedule.kind, trigger: "SCHEDULED", slot: slotIso, source, cron: schedule.cron, timezone: schedule.timezone, target: ctx.target },
  });
  // Should this process die right here, the sweep re-queues the QUEUED row (jobs.ts).
  await enqueueBackup(ctx, outcome.jobId);
  log.info({ jobId: outcome.jobId, slot: slotIso, source, tickId, pid: process.pid }, "scheduled backup claimed");
  return { ...outcome, slot };
}

/** What a tick carries: a target's id for a target's own cron; nothing for the default's. */
export interface TickData {
  targetId?: string;
}

/** Handles one cron tick from the schedule queue. */
export async function handleTick(
  ctx: BackupContext,
  createdOn: Date,
  now = new Date(),
  tickId?: string,
  data: TickData = {},
): Promise<ClaimResult | { claimed: false; reason: string }> {
  if (data.targetId && data.targetId !== DEFAULT_TARGET_ID) return handleTargetTick(ctx, data.targetId, createdOn, now, tickId);
  const { settings, meta } = await loadSettings(ctx.db);
  const { schedule } = settings;
  if (!schedule.enabled) return { claimed: false, reason: "schedule disabled" };
  const verdict = slotForTick(schedule, createdOn, now);
  if (!verdict.slot) {
    log.warn({ tickId, createdOn: createdOn.toISOString(), reason: verdict.reason }, "cron tick ignored");
    return { claimed: false, reason: verdict.reason };
  }
  // pg-boss fires for the current slot even when the schedule was saved after it began:
  // a slot that started before the schedule in force existed is not run.
  const savedAt = meta.schedule?.updatedAt;
  if (savedAt && verdict.slot.getTime() < new Date(savedAt).getTime()) {
    const reason = `slot ${verdict.slot.toISOString()} began before the schedule was saved`;
    log.info({ tickId, reason }, "cron tick ignored");
    return { claimed: false, reason };
  }
  return claimSlot(ctx, schedule, verdict.slot, "cron", tickId);
}

/**
 * Since when the schedule in force now has been in force: since it was saved, or, for the
 * built-in default that was never saved, since scheduling began on this database. A saved
 * schedule was in force from its save even while no worker had started yet: a slot after
 * the save that no worker was up for is missed, like a slot during an outage.
 */
export function scheduleInForceSince(savedAt: Date | null | undefined, schedulingSince: Date): Date {
  return savedAt ?? schedulingSince;
}

/** At worker start: one run for the most recent slot if it was missed (see catchUpSlot). */
export async function catchUpMissedSlot(ctx: BackupContext, now = new Date()): Promise<ClaimResult | null> {
  const { settings, meta } = await loadSettings(ctx.db);
  const since = await scheduleStateSince(ctx, now);
  const slot = catchUpSlot(settings.schedule, scheduleInForceSince(meta.schedule?.updatedAt, since), now);
  if (!slot) return null;
  return claimSlot(ctx, settings.schedule, slot, "catch-up");
}


export type ApplyResult = { state: "scheduled" | "unchanged" | "unscheduled"; cron?: string; timezone?: string };

/**
 * Makes pg-boss's cron match the settings in force. Called after PUT /api/settings and
 * every 30 s by each worker, so a change made anywhere applies without a restart.
 */
export async function applySchedule(ctx: ScheduleCtx): Promise<ApplyResult> {
  const boss: PgBoss = await getBoss(ctx.appDatabaseUrl);
  const { settings } = await loadSettings(ctx.db);
  const { schedule } = settings;
  const current = await boss.getSchedule(QUEUES.schedule);
  if (!schedule.enabled) {
    if (!current) return { state: "unchanged" };
    await boss.unschedule(QUEUES.schedule);
    log.info("schedule disabled; cron removed");
    return { state: "unscheduled" };
  }
  if (current && current.cron === schedule.cron && current.timezone === schedule.timezone) {
    return { state: "unchanged", cron: schedule.cron, timezone: schedule.timezone };
  }
  await boss.schedule(QUEUES.schedule, schedule.cron, {}, { tz: schedule.timezone });
  log.info({ cron: schedule.cron, timezone: schedule.timezone }, "schedule applied");
  return { state: "scheduled", cron: schedule.cron, timezone: schedule.timezone };
}

export interface SchedulerOptions {
  /** How often the worker re-reads the settings into pg-boss's cron (default 30 s). */
  resyncMs?: number;
}

/** The worker's part: the tick handler, the start-up catch-up and the periodic re-sync. */
export async function startScheduler(ctx: BackupContext, opts: SchedulerOptions = {}): Promise<() => Promise<void>> {
  await scheduleStateSince(ctx);
  await applySchedule(ctx).catch((e: Error) => log.error({ err: e.message }, "applying the schedule failed"));
  await syncTargetSchedules(ctx).catch((e: Error) => log.error({ err: e.message }, "applying the targets' schedules failed"));
  const ticks = await workQueue<TickData>(ctx.appDatabaseUrl, QUEUES.schedule, async (tick) => {
    await handleTick(ctx, tick.createdOn, new Date(), tick.id, tick.data ?? {});
  });
  await catchUpMissedSlot(ctx).then(
    (r) => r?.claimed && log.warn({ jobId: r.jobId, slot: r.slot.toISOString() }, "missed slot caught up at start"),
    (e: Error) => log.error({ err: e.message }, "catch-up failed"),
  );
  await catchUpTargetSlots(ctx).catch((e: Error) => log.error({ err: e.message }, "targets' catch-up failed"));
  let syncing = false;
  const timer = setInterval(() => {
    if (syncing) return;
    syncing = true;
    // The default's cron from Settings, and one cron per target from its own settings, so a
    // change made by any replica (or PATCH /api/targets/:id) converges everywhere.
    Promise.all([
      applySchedule(ctx).catch((e: Error) => log.error({ err: e.message }, "schedule re-sync failed")),
      syncTargetSchedules(ctx).catch((e: Error) => log.error({ err: e.message }, "targets' schedule re-sync failed")),
    ]).finally(() => (syncing = false));
  }, opts.resyncMs ?? 30_000);
  return async () => {
    clearInterval(timer);
    await ticks.stop();
  };
}

/**
 * For PUT /api/settings: applies the saved schedule at once. A failure is logged, not
 * thrown — the settings are saved, and every worker re-syncs within 30 s anyway.
 */
export async function resyncScheduleAfterSave(ctx: ScheduleCtx): Promise<ApplyResult | null> {
  try {
    return await applySchedule(ctx);
  } catch (e) {
    log.error({ err: (e as Error).message }, "applying the saved schedule failed; workers will re-sync");
    return null;
  }
}

// ── Targets other than `default` (DESIGN §8): each follows its own settings.schedule
// (absent = no schedule) with its own pg-boss cron on the same queue, keyed by the target's
// id; its ticks carry the id and claim (target, slot) exactly as the default's claim slot.

/** The pg-boss schedule key of a target's cron. */
export function targetScheduleKey(targetId: string): string {
  // pg-boss keys allow letters, digits, _ - . and /.
  return `target.${targetId}`;
}

/** A target's schedule when it has one that is enabled; else null. */
function scheduleOf(t: TargetRow): ScheduleSettings | null {
  const s = targetSettings(t).schedule;
  return s?.enabled ? s : null;
}

async function loadTarget(ctx: BackupContext, targetId: string): Promise<(TargetRow & { updatedAt: Date }) | null> {
  return ctx.db.target.findUnique({ where: { id: targetId } });
}

async function handleTargetTick(
  ctx: BackupContext,
  targetId: string,
  createdOn: Date,
  now: Date,
  tickId?: string,
): Promise<ClaimResult | { claimed: false; reason: string }> {
  const t = await loadTarget(ctx, targetId);
  if (!t || t.isDefault) return { claimed: false, reason: "no such target" };
  const schedule = scheduleOf(t);
  if (!schedule) return { claimed: false, reason: "target has no schedule" };
  const verdict = slotForTick(schedule, createdOn, now);
  if (!verdict.slot) {
    log.warn({ tickId, target: t.name, createdOn: createdOn.toISOString(), reason: verdict.reason }, "cron tick ignored");
    return { claimed: false, reason: verdict.reason };
  }
  // As for the default: a slot that began before the target's settings were last saved is not run.
  if (verdict.slot.getTime() < t.updatedAt.getTime()) {
    const reason = `slot ${verdict.slot.toISOString()} began before the target was saved`;
    log.info({ tickId, target: t.name, reason }, "cron tick ignored");
    return { claimed: false, reason };
  }
  return claimSlot(contextForTarget(ctx, t), schedule, verdict.slot, "cron", tickId);
}

/** At worker start: each target's most recent slot, if it was missed (see catchUpSlot). */
export async function catchUpTargetSlots(ctx: BackupContext, now = new Date()): Promise<ClaimResult[]> {
  const since = await scheduleStateSince(ctx, now);
  const out: ClaimResult[] = [];
  for (const t of await ctx.db.target.findMany({ where: { isDefault: false }, orderBy: { createdAt: "asc" } })) {
    const schedule = scheduleOf(t);
    if (!schedule) continue;
    const slot = catchUpSlot(schedule, scheduleInForceSince(t.updatedAt > since ? t.updatedAt : since, since), now);
    if (!slot) continue;
    try {
      const r = await claimSlot(contextForTarget(ctx, t), schedule, slot, "catch-up");
      if (r.claimed) log.warn({ jobId: r.jobId, target: t.name, slot: slot.toISOString() }, "missed slot caught up at start");
      out.push(r);
    } catch (e) {
      log.error({ target: t.name, err: (e as Error).message }, "catch-up failed for this target");
    }
  }
  return out;
}

export interface TargetScheduleSync {
  scheduled: string[];
  unscheduled: string[];
  unchanged: string[];
}

/**
 * Makes pg-boss's per-target crons match the targets' settings: one cron per target with
 * an enabled schedule, none for the others or for deleted targets. Called by PATCH/DELETE
 * /api/targets/:id after a change, and every 30 s by each worker so replicas converge.
 */
export async function syncTargetSchedules(ctx: ScheduleCtx): Promise<TargetScheduleSync> {
  const boss: PgBoss = await getBoss(ctx.appDatabaseUrl);
  const want = new Map<string, ScheduleSettings>();
  for (const t of await ctx.db.target.findMany({ where: { isDefault: false } })) {
    const s = scheduleOf(t);
    if (s) want.set(targetScheduleKey(t.id), s);
  }
  const have = new Map((await boss.getSchedules(QUEUES.schedule)).filter((s) => s.key.startsWith("target.")).map((s) => [s.key, s]));
  const result: TargetScheduleSync = { scheduled: [], unscheduled: [], unchanged: [] };
  for (const [key, s] of want) {
    const cur = have.get(key);
    if (cur && cur.cron === s.cron && cur.timezone === s.timezone) {
      result.unchanged.push(key);
      continue;
    }
    await boss.schedule(QUEUES.schedule, s.cron, { targetId: key.slice("target.".length) } satisfies TickData, { tz: s.timezone, key });
    result.scheduled.push(key);
  }
  for (const key of have.keys()) {
    if (want.has(key)) continue;
    await boss.unschedule(QUEUES.schedule, key);
    result.unscheduled.push(key);
  }
  if (result.scheduled.length || result.unscheduled.length) log.info(result, "targets' schedules applied");
  return result;
}
