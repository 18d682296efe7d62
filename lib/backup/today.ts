// "Did today's backup run?" — the banner at the top of /backups (seed 001), answered
// from the catalogue. The day is the UTC day: 00:00 UTC to 00:00 UTC, whatever the
// schedule's time zone, so every viewer and every alert agree on what "today" means.
// Only a backup that holds the database counts: a QUICK backup records the commit and
// the schema, so a day with only QUICK ones is still "missing" (yellow), like the
// missed-backup alert and the metrics (last-success.ts).
import type { Db } from "../db";
import { ACTIVE_JOB_STATUSES, FINISHED_JOB_STATUSES, type BackupDto, type BackupKind } from "../validation/backups";
import { loadSettings, nextRuns } from "../settings";
import { backupSelect, toBackupDto } from "./catalog";
import { drillSummary, type DrillSummary } from "./drill-status";

export type TodayState = "ok" | "missing" | "failed" | "running";

export interface TodaySummary {
  state: TodayState;
  dayStartUtc: string;
  /** The newest successful database (FULL) backup, whenever it was. */
  lastSuccess: BackupDto | null;
  todays: {
    latest: BackupDto | null;
    /** Today's newest successful QUICK (code-only) backup: shown, never counted. */
    codeOnly: BackupDto | null;
  };
  running: BackupDto | null;
  lastFailure: BackupDto | null;
  hoursSinceLastSuccess: number | null;
  schedule: { enabled: boolean; cron: string; timezone: string; nextRunAt: string | null; lastRunAt: string | null };
  /** The last proven restore (lib/backup/drill-status.ts). */
  drill: DrillSummary;
}

/** 00:00 UTC of the day containing `now`. */
export function utcDayStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export interface FinishedJob {
  status: (typeof FINISHED_JOB_STATUSES)[number];
  kind: BackupKind;
  /** When it finished: completedAt, or the last update for a row that never set it. */
  finishedAt: Date;
}

/**
 * The banner's state. Precedence: a backup in flight is what the user is waiting on
 * ("running"); then a successful FULL backup today ("ok"); then a failure as today's
 * newest finished job ("failed"); anything else, including a cancelled run or a day of
 * QUICK backups only, is "missing".
 */
export function todayState(input: { now: Date; active: boolean; finished: readonly FinishedJob[] }): TodayState {
  if (input.active) return "running";
  const start = utcDayStart(input.now).getTime();
  const today = input.finished.filter((j) => j.finishedAt.getTime() >= start && j.finishedAt.getTime() <= input.now.getTime());
  if (today.some((j) => j.status === "SUCCEEDED" && j.kind === "FULL")) return "ok";
  // A QUICK success neither counts nor hides an earlier failure of the day.
  const newest = today.filter((j) => !(j.status === "SUCCEEDED" && j.kind === "QUICK")).reduce<FinishedJob | null>((a, j) => (!a || j.finishedAt > a.finishedAt ? j : a), null);
  return newest?.status === "FAILED" ? "failed" : "missing";
}

/** Whole hours to one decimal between the last success and now; null when none. */
export function hoursSince(at: Date | null, now: Date): number | null {
  if (!at) return null;
  return Math.max(0, Math.round(((now.getTime() - at.getTime()) / 3_600_000) * 10) / 10);
}

export async function getToday(db: Db, now = new Date()): Promise<TodaySummary> {
  const dayStart = utcDayStart(now);
  const finishedStatuses = FINISHED_JOB_STATUSES;
  // One read of the settings for the banner's schedule and the drill line.
  const loaded = loadSettings(db);
  const [running, lastSuccess, lastFailure, latestToday, finishedToday, lastScheduled, settings, codeOnly, drill] = await Promise.all([
    db.backupJob.findFirst({
      where: { status: { in: [...ACTIVE_JOB_STATUSES] } },
      select: backupSelect,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findFirst({
      // Every success has completedAt; asking for it lets the (status, kind, completedAt)
      // index answer instead of sorting every success.
      where: { status: "SUCCEEDED", kind: "FULL", completedAt: { not: null } },
      select: backupSelect,
      orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
    }),
    db.backupJob.findFirst({
      where: { status: "FAILED" },
      select: backupSelect,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findFirst({
      where: { createdAt: { gte: dayStart } },
      select: backupSelect,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    }),
    db.backupJob.findMany({
      where: {
        status: { in: [...finishedStatuses] },
        OR: [{ completedAt: { gte: dayStart } }, { completedAt: null, updatedAt: { gte: dayStart } }],
      },
      select: { status: true, kind: true, completedAt: true, updatedAt: true },
      orderBy: [{ updatedAt: "desc" }],
      take: 200,
    }),
    db.backupJob.findFirst({ where: { trigger: "SCHEDULED" }, orderBy: { createdAt: "desc" }, select: { createdAt: true } }),
    loaded.then((l) => l.settings),
    db.backupJob.findFirst({
      where: { status: "SUCCEEDED", kind: "QUICK", completedAt: { gte: dayStart, lte: now } },
      select: backupSelect,
      orderBy: [{ completedAt: "desc" }, { id: "desc" }],
    }),
    drillSummary(db, now, loaded),
  ]);

  const state = todayState({
    now,
    active: running !== null,
    finished: finishedToday.map((j) => ({
      status: j.status as FinishedJob["status"],
      kind: j.kind,
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
    todays: { latest: latestToday ? toBackupDto(latestToday) : null, codeOnly: codeOnly ? toBackupDto(codeOnly) : null },
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
    drill,
  };
}
