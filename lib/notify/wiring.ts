// Which engine happenings become notifications: backup failed (with its attempt) and
// succeeded, a backup holding up a session, restore started and finished, retention pruned, and the missed-backup alert
// checked every 5 minutes. Settings are read per event, so a change applies at once.
// Sending never holds up a worker: deliveries run in the background and stop() waits
// for them.
import type { BackupContext } from "../backup/context";
import { onEngineEvent, type EngineEvent } from "../backup/events";
import { maxAttemptsOf } from "../backup/retries";
import { lastGoodBackupAt } from "../backup/last-success";
import { scheduleStateSince } from "../backup/schedule";
import { getSettings } from "../settings";
import { componentLogger } from "../log";
import type { NotifyConfig, NotifyEvent, NotifyOptions, NotifyResult } from "./index";
import { notifyRouted, routedChannels } from "./channels";
import { shouldSendMissedAlert } from "./missed";
import { checkOverdueDrill, drillEventFor } from "./drill";
import { claimAlert } from "./once-per-gap";
import type { BackupSummary } from "./messages";
import { DEFAULT_TARGET_ID, requireTarget, targetRef, targetSettings, type TargetRow } from "../backup/targets";

const log = componentLogger("notify");

/** RuntimeState row remembering when the missed-backup alert was last sent (`{lastAlertAt}`). */
export const MISSED_STATE_KEY = "missedAlert";
export const MISSED_CHECK_INTERVAL_MS = 5 * 60_000;

export interface WiringOptions {
  cfg: NotifyConfig;
  notifyOptions?: NotifyOptions;
  missedIntervalMs?: number;
}

type Ctx = Pick<BackupContext, "db">;
type RoutedEvent = Exclude<NotifyEvent, { type: "test" }>;

/**
 * Sends one event to the channels routed for it now (lib/notify/channels.ts). Never throws.
 * The one line another engine's event needs (a failed drill, a blocked deploy):
 * `sendNotification(ctx, { type: "drill.failed", drill }, cfg)`.
 */
export async function sendNotification(ctx: Ctx, event: RoutedEvent, cfg: NotifyConfig, opts: NotifyOptions = {}): Promise<NotifyResult> {
  try {
    return await notifyRouted(ctx.db, event, cfg, opts);
  } catch (e) {
    log.error({ event: event.type, err: (e as Error).message }, "notification not sent");
    return { event: event.type, skipped: `channels unreadable: ${(e as Error).message}`, deliveries: [] };
  }
}

function summary(job: {
  id: string;
  status: BackupSummary["status"];
  kind: BackupSummary["kind"];
  trigger: BackupSummary["trigger"];
  sizeBytes: bigint | null;
  durationSeconds: number | null;
  failureReason: string | null;
  commitSha: string | null;
  createdAt: Date;
  completedAt: Date | null;
}): BackupSummary {
  return {
    id: job.id,
    status: job.status,
    kind: job.kind,
    trigger: job.trigger,
    sizeBytes: job.sizeBytes,
    durationSeconds: job.durationSeconds,
    failureReason: job.failureReason,
    commitSha: job.commitSha,
    createdAt: job.createdAt,
    completedAt: job.completedAt,
  };
}

const targetOf = { select: { id: true, name: true, environment: true } } as const;

/** The notification an engine event calls for, naming its target, or null (cancelled, unknown ids). */
export async function eventFor(ctx: Ctx, e: EngineEvent): Promise<RoutedEvent | null> {
  if (e.type === "backup.finished") {
    const job = await ctx.db.backupJob.findUnique({ where: { id: e.jobId }, include: { target: targetOf } });
    if (!job) return null;
    if (job.status === "SUCCEEDED") return { type: "backup.succeeded", backup: summary(job), target: job.target };
    if (job.status === "FAILED") return { type: "backup.failed", backup: summary(job), attempt: job.attempt, maxAttempts: maxAttemptsOf(job), target: job.target };
    return null;
  }
  if (e.type === "backup.blocking") {
    const job = await ctx.db.backupJob.findUnique({ where: { id: e.jobId }, include: { target: targetOf } });
    return job ? { type: "backup.blocking", backup: summary(job), session: e.session, target: job.target } : null;
  }
  if (e.type === "drill.finished") {
    const event = await drillEventFor(ctx, e);
    if (!event) return null;
    const run = await ctx.db.drillRun.findUnique({ where: { id: e.drillId }, select: { target: targetOf } });
    return run ? { ...event, target: run.target } : event;
  }
  const r = await ctx.db.restoreJob.findUnique({ where: { id: e.restoreId }, include: { initiatedBy: { select: { email: true } }, target: targetOf } });
  if (!r) return null;
  const restore = {
    id: r.id,
    backupId: r.backupId,
    safetyBackupId: r.safetyBackupId,
    durationSeconds: r.durationSeconds,
    initiatedBy: r.initiatedBy?.email ?? null,
  };
  if (e.type === "restore.started") return { type: "restore.started", restore, target: r.target };
  const status = e.status ?? (r.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED");
  return { type: "restore.finished", restore, status, failureReason: r.failureReason, target: r.target };
}

export interface MissedCheck {
  sent: boolean;
  reason?: string;
  result?: NotifyResult;
}

/** The missed-backup alert's state row of a target: the default keeps the key from before targets. */
export function missedStateKey(targetId: string): string {
  return targetId === DEFAULT_TARGET_ID ? MISSED_STATE_KEY : `${MISSED_STATE_KEY}:${targetId}`;
}

/**
 * Sends "no successful backup of <target> for N hours" once per gap (lib/notify/missed.ts),
 * once between all replicas (lib/notify/once-per-gap.ts). `target` omitted = `default`.
 * Another target's gap starts, when it never succeeded, at its last settings change
 * (when its schedule was set).
 */
export async function checkMissedBackup(
  ctx: Ctx,
  cfg: NotifyConfig,
  opts: { now?: Date; notifyOptions?: NotifyOptions; target?: TargetRow } = {},
): Promise<MissedCheck> {
  const now = opts.now ?? new Date();
  const target = opts.target ?? (await requireTarget(ctx.db, DEFAULT_TARGET_ID));
  const settings = await getSettings(ctx.db);
  const hours = settings.notifications.missedBackupAfterHours;
  const lastSuccessAt = await lastGoodBackupAt(ctx.db, target.id);
  const event: RoutedEvent = { type: "backup.missed", lastSuccessAt, hours, target: targetRef(target) };
  // Not recorded as sent: once a channel is routed for it, the current gap still alerts.
  if ((await routedChannels(ctx.db, event.type, target)).length === 0) return { sent: false, reason: "no channel is routed for the missed-backup alert" };
  const since = target.isDefault ? await scheduleStateSince(ctx, now) : ((await ctx.db.target.findUnique({ where: { id: target.id }, select: { updatedAt: true } }))?.updatedAt ?? now);
  const claimed = await claimAlert(ctx.db, missedStateKey(target.id), (last) => {
    const raw = last?.lastAlertAt;
    const lastAlertForGapAt = typeof raw === "string" ? new Date(raw) : null;
    if (!shouldSendMissedAlert({ lastSuccessAt, lastAlertForGapAt, now, hours, since })) return null;
    return { lastAlertAt: now.toISOString(), lastSuccessAt: lastSuccessAt?.toISOString() ?? null, hours };
  });
  if (!claimed) return { sent: false, reason: "not due (no gap, or already alerted for this gap)" };
  log.warn({ target: target.name, lastSuccessAt: lastSuccessAt?.toISOString() ?? null, hours }, "missed-backup alert");
  const result = await sendNotification(ctx, event, cfg, { ...opts.notifyOptions, now });
  return { sent: true, result };
}

/**
 * The missed-backup check of every target that is scheduled: `default` as before (Settings →
 * Schedule decides inside, as it always did), the others when their own schedule is on.
 */
export async function checkMissedBackups(ctx: Ctx, cfg: NotifyConfig, opts: { now?: Date; notifyOptions?: NotifyOptions } = {}): Promise<Map<string, MissedCheck>> {
  const targets = await ctx.db.target.findMany({ orderBy: { name: "asc" } });
  const out = new Map<string, MissedCheck>();
  for (const t of targets) {
    if (!t.isDefault && !targetSettings(t).schedule?.enabled) continue;
    try {
      out.set(t.name, await checkMissedBackup(ctx, cfg, { ...opts, target: t }));
    } catch (e) {
      log.error({ target: t.name, err: (e as Error).message }, "missed-backup check failed");
    }
  }
  return out;
}

/** Subscribes to engine events and starts the missed-backup check. Returns stop(). */
export function startNotifications(ctx: Ctx, opts: WiringOptions): () => Promise<void> {
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const unsubscribe = onEngineEvent(async (e) => {
    const event = await eventFor(ctx, e);
    if (event) track(sendNotification(ctx, event, opts.cfg, opts.notifyOptions));
  });
  let checking = false;
  const check = () => {
    if (checking) return;
    checking = true;
    track(
      checkMissedBackups(ctx, opts.cfg, { notifyOptions: opts.notifyOptions })
        .catch((e: Error) => log.error({ err: e.message }, "missed-backup check failed"))
        .then(() => checkOverdueDrill(ctx, (event, o) => sendNotification(ctx, event, opts.cfg, { ...opts.notifyOptions, ...o })))
        .catch((e: Error) => log.error({ err: e.message }, "drill-overdue check failed"))
        .finally(() => (checking = false)),
    );
  };
  const timer = setInterval(check, opts.missedIntervalMs ?? MISSED_CHECK_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    unsubscribe();
    await Promise.allSettled([...pending]);
  };
}
