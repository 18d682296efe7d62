// "Did today's backup run?" — the banner at the top of /backups (seed 001), answered
// from the catalogue. The day is the UTC day: 00:00 UTC to 00:00 UTC, whatever the
// schedule's time zone, so every viewer and every alert agree on what "today" means.
import type { Db } from "../db";
import type { BackupDto } from "../validation/backups";
import { getSettings, nextRuns } from "../settings";
import { backupInclude, toBackupDto } from "./catalog";

export type TodayState = "ok" | "missing" | "failed" | "running";

export interface TodaySummary {
  state: TodayState;
  dayStartUtc: string;
  lastSuccess: BackupDto | null;
  todays: { latest: BackupDto | null };
  running: BackupDto | null;
  lastFailure: BackupDto | null;
  hoursSinceLastSuccess: number | null;
  schedule: { enabled: boolean; cron: string; timezone: string; nextRunAt: string | null; lastRunAt: string | null };
}

/** 00:00 UTC of the day containing `now`. */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export interface FinishedJob {
  status: "SUCCEEDED" | "FAILED" | "CANCELLED";
  /** When it finished: completedAt, or the last update for a row that never set it. */
  finishedAt: Date;
}

/**
 * The banner's state. Precedence: a backup in flight is what the user is waiting on
 * ("running"); then any success today ("ok"); then a failure as today's newest finished
 * job ("failed"); anything else, including a cancelled run, is "missing".
 */
export function todayState(input: { now: Date; active: boolean; finished: readonly FinishedJob[] }): TodayState {
  if (input.active) return "running";
  const start = utcDayStart(input.now).getTime();
  const today = input.finished.filter((j) => j.finishedAt.getTime() >= start && j.finishedAt.getTime() <= input.now.getTime());
  if (today.some((j) => j.status === "SUCCEEDED")) return "ok";
  const newest = today.reduce<FinishedJob | null>((a, j) => (!a || j.finishedAt > a.finishedAt ? j : a), null);
  return newest?.status === "FAILED" ? "failed" : "missing";
}

/** Whole hours to one decimal between the last success and now; null when none. */
export function hoursSince(at: Date | null, now: Date): number | null {
  if (!at) return null;
  return Math.max(0, Math.round(((now.getTime() - at.getTime()) / 3_600_000) * 10) / 10);
}

export async function getToday(db: Db, now = new Date()): Promise<TodaySummary> {
  const dayStart = utcDayStart(now);
  const finishedStatuses = ["SUCCEEDED", "FAILED", "CANCELLED"] as const;
  const [running, lastSuccess, lastFailure, latestToday, finishedToday, lastScheduled, settings] = await Promise.all([
    db.backupJob.findFirst({
      where: { status: { in: ["QUEUED", "RUNNING"] } },
      include: backupInclude,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findFirst({
      where: { status: "SUCCEEDED" },
      include: backupInclude,
      orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
    }),
    db.backupJob.findFirst({
      where: { status: "FAILED" },
      include: backupInclude,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findFirst({
      where: { createdAt: { gte: dayStart } },
      include: backupInclude,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findMany({
      where: {
        status: { in: [...finishedStatuses] },
        OR: [{ completedAt: { gte: dayStart } }, { completedAt: null, updatedAt: { gte: dayStart } }],
      },
      select: { status: true, completedAt: true, updatedAt: true },
      orderBy: [{ updatedAt: "desc" }],
      take: 200,
    }),
    db.backupJob.findFirst({ where: { trigger: "SCHEDULED" }, orderBy: { createdAt: "desc" }, select: { createdAt: true } }),
    getSettings(db),
  ]);

  const state = todayState({
    now,
    active: running !== null,
    finished: finishedToday.map((j) => ({
      status: j.status as FinishedJob["status"],
      finishedAt: j.completedAt ?? j.updatedAt,
    })),
  });

  const { schedule } = settings;
  let nextRunAt: string | null = null;
  if (schedule.enabled) {
    try {
      nextRunAt = nextRuns(schedule, now, 1)[0]?.toISOString() ?? null;
    } catch {
      // An unparsable stored cron shows as "no next run" rather than failing the banner.
      nextRunAt = null;
    }
  }

  return {
    state,
    dayStartUtc: dayStart.toISOString(),
    lastSuccess: lastSuccess ? toBackupDto(lastSuccess) : null,
    todays: { latest: latestToday ? toBackupDto(latestToday) : null },
    running: running ? toBackupDto(running) : null,
    lastFailure: lastFailure ? toBackupDto(lastFailure) : null,
    hoursSinceLastSuccess: hoursSince(lastSuccess ? (lastSuccess.completedAt ?? lastSuccess.createdAt) : null, now),
    schedule: {
      enabled: schedule.enabled,
      cron: schedule.cron,
      timezone: schedule.timezone,
      nextRunAt,
      lastRunAt: lastScheduled ? lastScheduled.createdAt.toISOString() : null,
    },
  };
}
