// "When was a restore last proven, and how long did it take?" — the drill line beside
// today's banner, GET /api/today's `drill`, the metrics and the overdue alert, from the
// DrillRun rows. Red states: "failed" (the newest drill failed) and "overdue" (no
// successful drill within the schedule's interval plus DRILL_GRACE_MS).
import { CronExpressionParser } from "cron-parser";
import type { Db } from "../db";
import { loadSettings } from "../settings";
import type { DrillSettings, DrillState, DrillStatus } from "../validation/drill-settings";

type Finished = Exclude<DrillStatus, "RUNNING">;

/** Slack after a missed interval before a drill is overdue: a drill takes a restore's time. */
export const DRILL_GRACE_MS = 3 * 60 * 60 * 1000;

export interface DrillSummary {
  state: DrillState;
  /** When the newest successful drill finished. */
  lastSuccessAt: string | null;
  /** Its recovery time (download + decrypt + restore), seconds. */
  durationSeconds: number | null;
  /** The backup it proved. */
  backupId: string | null;
  /** The newest drill's failure, when the newest drill failed. */
  failureReason: string | null;
  nextRunAt: string | null;
}

/** The cron's interval around `now`: between its latest occurrence and the one before. */
export function drillInterval(schedule: Pick<DrillSettings, "cron" | "timezone">, now: Date): number {
  const it = CronExpressionParser.parse(schedule.cron.trim(), { tz: schedule.timezone, currentDate: new Date(now.getTime() + 1) });
  const latest = it.prev().toDate();
  const before = it.prev().toDate();
  return latest.getTime() - before.getTime();
}

export interface DrillStateInput {
  now: Date;
  schedule: Pick<DrillSettings, "enabled" | "cron" | "timezone">;
  /** When the drill schedule was saved (it is off until then). */
  inForceSince: Date | null;
  running: boolean;
  newestFinished: { status: Finished } | null;
  lastSuccessAt: Date | null;
}

export function drillState(i: DrillStateInput): DrillState {
  if (i.running) return "running";
  if (i.newestFinished?.status === "FAILED") return "failed";
  if (i.schedule.enabled) {
    const since = i.lastSuccessAt ?? i.inForceSince;
    if (since && i.now.getTime() - since.getTime() > drillInterval(i.schedule, i.now) + DRILL_GRACE_MS) return "overdue";
    return i.lastSuccessAt ? "ok" : "pending";
  }
  return i.lastSuccessAt ? "ok" : "none";
}

function nextRun(schedule: DrillSettings, now: Date): string | null {
  if (!schedule.enabled) return null;
  try {
    return CronExpressionParser.parse(schedule.cron.trim(), { tz: schedule.timezone, currentDate: now }).next().toDate().toISOString();
  } catch {
    return null;
  }
}

/**
 * `loaded`: the settings the caller already read (GET /api/today reads them once for the
 * banner and the drill line); read here otherwise.
 */
export async function drillSummary(
  db: Pick<Db, "drillRun" | "setting">,
  now = new Date(),
  loaded?: Promise<Awaited<ReturnType<typeof loadSettings>>>,
): Promise<DrillSummary> {
  const [{ settings, meta }, running, newestFinished, lastSuccess] = await Promise.all([
    loaded ?? loadSettings(db),
    db.drillRun.findFirst({ where: { status: "RUNNING" }, select: { id: true } }),
    db.drillRun.findFirst({ where: { status: { not: "RUNNING" } }, orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }, { startedAt: "desc" }] }),
    db.drillRun.findFirst({ where: { status: "PASSED" }, orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }] }),
  ]);
  const schedule = settings.drill;
  let state: DrillState;
  try {
    state = drillState({
      now,
      schedule,
      inForceSince: meta.drill?.updatedAt ?? null,
      running: running !== null,
      newestFinished: newestFinished ? { status: newestFinished.status as Finished } : null,
      lastSuccessAt: lastSuccess?.completedAt ?? null,
    });
  } catch {
    // An unparsable stored cron cannot say "overdue"; the settings page reports it.
    state = lastSuccess ? "ok" : "none";
  }
  return {
    state,
    lastSuccessAt: lastSuccess?.completedAt?.toISOString() ?? null,
    durationSeconds: lastSuccess?.recoverySeconds ?? null,
    backupId: lastSuccess?.backupId ?? null,
    failureReason: newestFinished?.status === "FAILED" ? newestFinished.failureReason : null,
    nextRunAt: nextRun(schedule, now),
  };
}
