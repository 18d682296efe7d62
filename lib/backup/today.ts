// "Did today's backup run?" — the banner at the top of /backups (seed 001), answered
// from the catalogue. The day is the UTC day: 00:00 UTC to 00:00 UTC, whatever the
// schedule's time zone, so every viewer and every alert agree on what "today" means.
// Only a backup that holds the database counts: a QUICK backup records the commit and
// the schema, so a day with only QUICK ones is still "missing" (yellow), like the
// missed-backup alert and the metrics (last-success.ts).
//
// Per target (DESIGN §8): each target has its own banner; `targetsOverview` answers every
// target's at once for the overview. Both are a fixed handful of statements, however many
// backups or targets there are (issue 14: Prisma costs ~1 ms of CPU per statement).
import type { Db } from "../db";
import { Prisma } from "../generated/prisma/client";
import { FINISHED_JOB_STATUSES, type BackupDto, type BackupKind, type BackupLocksDto, type TargetRefDto } from "../validation/backups";
import { DEFAULT_DRILL_SETTINGS, type DrillSettings, type DrillStatus } from "../validation/drill-settings";
import type { Settings } from "../validation/settings";
import { loadSettings, nextRuns } from "../settings";
import { backupDtosByIds } from "./catalog";
import { drillState, type DrillSummary } from "./drill-status";
import { requireTarget, targetRef, targetSettings, type TargetRow } from "./targets";

export type TodayState = "ok" | "missing" | "failed" | "running";

export interface TodaySummary {
  /** Whose banner this is (omitted `target` = `default`). */
  target: TargetRefDto;
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

type Schedule = Settings["schedule"];

/** A target's schedule: Settings → Schedule for `default`, its own (absent = none) for the others. */
export function scheduleOf(t: Pick<TargetRow, "isDefault" | "settings">, settings: Pick<Settings, "schedule">): Schedule | null {
  return t.isDefault ? settings.schedule : (targetSettings(t).schedule ?? null);
}

/** The next scheduled run after `now`; null when off, absent or unparsable. */
export function nextRunOf(schedule: Pick<Schedule, "enabled" | "cron" | "timezone"> | null, now: Date): string | null {
  if (!schedule?.enabled) return null;
  try {
    return nextRuns(schedule, now, 1)[0]?.toISOString() ?? null;
  } catch {
    // An unparsable stored cron shows as "no next run" rather than failing the banner.
    return null;
  }
}

const FINISHED = Prisma.join(FINISHED_JOB_STATUSES.map((s) => Prisma.sql`${s}::"JobStatus"`));

interface TodayFacts {
  runningId: string | null;
  lastSuccessId: string | null;
  lastFailureId: string | null;
  latestTodayId: string | null;
  codeOnlyId: string | null;
  lastScheduledAt: Date | null;
  /** finishedAt: epoch milliseconds (a JSON timestamp would lose its UTC zone). */
  finished: { status: FinishedJob["status"]; kind: BackupKind; finishedAt: number }[] | null;
  drillRunning: boolean;
  drillNewestStatus: DrillStatus | null;
  drillNewestFailure: string | null;
  drillPassedAt: Date | null;
  drillPassedSeconds: number | null;
  drillPassedBackupId: string | null;
}

/**
 * One target's banner in four statements: the target, the settings, the facts (one
 * statement of index-backed sub-selects, each as the Prisma query it replaced), and the
 * Backup JSON of the few backups it names.
 */
export async function getToday(db: Db, now = new Date(), target?: string): Promise<TodaySummary> {
  const dayStart = utcDayStart(now);
  const [t, loaded] = await Promise.all([requireTarget(db, target), loadSettings(db)]);
  const [f] = await db.$queryRaw<TodayFacts[]>`
    SELECT
      (SELECT id FROM "BackupJob" WHERE "targetId" = ${t.id} AND status IN ('QUEUED', 'RUNNING')
        ORDER BY "createdAt" DESC, id DESC LIMIT 1) AS "runningId",
      -- Every success has completedAt; asking for it lets the index answer.
      (SELECT id FROM "BackupJob" WHERE "targetId" = ${t.id} AND status = 'SUCCEEDED' AND kind = 'FULL' AND "completedAt" IS NOT NULL
        ORDER BY "completedAt" DESC, "createdAt" DESC LIMIT 1) AS "lastSuccessId",
      (SELECT id FROM "BackupJob" WHERE "targetId" = ${t.id} AND status = 'FAILED'
        ORDER BY "createdAt" DESC, id DESC LIMIT 1) AS "lastFailureId",
      (SELECT id FROM "BackupJob" WHERE "targetId" = ${t.id} AND "createdAt" >= ${dayStart}
        ORDER BY "createdAt" DESC, id DESC LIMIT 1) AS "latestTodayId",
      (SELECT id FROM "BackupJob" WHERE "targetId" = ${t.id} AND status = 'SUCCEEDED' AND kind = 'QUICK'
          AND "completedAt" >= ${dayStart} AND "completedAt" <= ${now}
        ORDER BY "completedAt" DESC, id DESC LIMIT 1) AS "codeOnlyId",
      (SELECT "createdAt" FROM "BackupJob" WHERE "targetId" = ${t.id} AND trigger = 'SCHEDULED'
        ORDER BY "createdAt" DESC LIMIT 1) AS "lastScheduledAt",
      (SELECT json_agg(json_build_object('status', x.status, 'kind', x.kind, 'finishedAt', extract(epoch FROM x.f) * 1000)) FROM (
         SELECT status, kind, coalesce("completedAt", "updatedAt") AS f FROM "BackupJob"
          WHERE "targetId" = ${t.id} AND status IN (${FINISHED})
            AND ("completedAt" >= ${dayStart} OR ("completedAt" IS NULL AND "updatedAt" >= ${dayStart}))
          ORDER BY "updatedAt" DESC LIMIT 200) x) AS finished,
      EXISTS (SELECT 1 FROM "DrillRun" WHERE "targetId" = ${t.id} AND status = 'RUNNING') AS "drillRunning",
      n.status::text AS "drillNewestStatus", n."failureReason" AS "drillNewestFailure",
      p."completedAt" AS "drillPassedAt", p."recoverySeconds" AS "drillPassedSeconds", p."backupId" AS "drillPassedBackupId"
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT status, "failureReason" FROM "DrillRun" WHERE "targetId" = ${t.id} AND status <> 'RUNNING'
                        ORDER BY "completedAt" DESC NULLS LAST, "startedAt" DESC LIMIT 1) n ON true
    LEFT JOIN LATERAL (SELECT "completedAt", "recoverySeconds", "backupId" FROM "DrillRun" WHERE "targetId" = ${t.id} AND status = 'PASSED'
                        ORDER BY "completedAt" DESC NULLS LAST LIMIT 1) p ON true`;
  const dtos = await backupDtosByIds(
    db,
    [f.runningId, f.lastSuccessId, f.lastFailureId, f.latestTodayId, f.codeOnlyId].filter((x): x is string => !!x),
  );
  const dto = (id: string | null) => (id ? (dtos.get(id) ?? null) : null);

  const state = todayState({
    now,
    active: f.runningId !== null,
    finished: (f.finished ?? []).map((j) => ({ status: j.status, kind: j.kind, finishedAt: new Date(j.finishedAt) })),
  });
  const lastSuccess = dto(f.lastSuccessId);
  const schedule = scheduleOf(t, loaded.settings);
  return {
    target: targetRef(t),
    state,
    dayStartUtc: dayStart.toISOString(),
    lastSuccess,
    todays: { latest: dto(f.latestTodayId), codeOnly: dto(f.codeOnlyId) },
    running: dto(f.runningId),
    lastFailure: dto(f.lastFailureId),
    hoursSinceLastSuccess: hoursSince(lastSuccess ? new Date(lastSuccess.completedAt ?? lastSuccess.createdAt) : null, now),
    schedule: {
      enabled: schedule?.enabled ?? false,
      cron: schedule?.cron ?? "",
      timezone: schedule?.timezone ?? "UTC",
      nextRunAt: nextRunOf(schedule, now),
      lastRunAt: f.lastScheduledAt ? f.lastScheduledAt.toISOString() : null,
    },
    drill: drillOf(f, now, t.isDefault ? loaded.settings.drill : null, loaded.meta.drill?.updatedAt ?? null),
  };
}

/** The drill line from the facts (as lib/backup/drill-status.ts drillSummary). Drills are scheduled for `default`. */
function drillOf(f: TodayFacts, now: Date, schedule: DrillSettings | null, inForceSince: Date | null): DrillSummary {
  const lastSuccessAt = f.drillPassedAt;
  let state: DrillSummary["state"];
  try {
    state = drillState({
      now,
      schedule: schedule ?? DEFAULT_DRILL_SETTINGS,
      inForceSince,
      running: f.drillRunning,
      newestFinished: f.drillNewestStatus && f.drillNewestStatus !== "RUNNING" ? { status: f.drillNewestStatus } : null,
      lastSuccessAt,
    });
  } catch {
    state = lastSuccessAt ? "ok" : "none";
  }
  return {
    state,
    lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
    durationSeconds: f.drillPassedSeconds,
    backupId: f.drillPassedBackupId,
    failureReason: f.drillNewestStatus === "FAILED" ? f.drillNewestFailure : null,
    nextRunAt: nextRunOf(schedule, now),
  };
}

/** One target's line on the overview (GET /api/targets's `today`). */
export interface TargetToday {
  targetId: string;
  state: TodayState;
  /** Its newest successful FULL backup. */
  lastSuccess: { id: string; kind: string; completedAt: string | null; sizeBytes: number | null } | null;
  nextRunAt: string | null;
  /** Stored sizes of its last 14 successful FULL backups, oldest first (the size trend). */
  sizes: number[];
  /** Its running FULL backup's waits on the database now (decision 175), or null. */
  locks: TargetLockWait | null;
}

/**
 * A running backup and a migration waiting for each other, for the overview's card: where the
 * person on call looks when a deploy hangs. From the backup's last sample (metadata.locks),
 * taken only while it is fresh (a worker that died leaves its last one behind).
 */
export interface TargetLockWait {
  backupId: string;
  /** The sessions held up by the backup's locks: how many, those queued behind them, the longest wait, the longest-waiting one's application and table. */
  blocking: { sessions: number; behind: number; seconds: number; application: string | null; table: string | null } | null;
  /** The backup's own wait for another session's lock: the table, how long, the holder's application and pid. */
  waiting: { table: string | null; seconds: number; application: string | null; pid: number | null } | null;
}

/** A sample older than this is a worker's that stopped sampling, not a wait now. */
const LOCK_SAMPLE_FRESH_MS = 60_000;

type LockRow = { backupId: string; at: string; blocking: BackupLocksDto["blocking"] | null; waiting: BackupLocksDto["waiting"] | null };

function lockWaitOf(row: LockRow | null, now: Date): TargetLockWait | null {
  if (!row || now.getTime() - new Date(row.at).getTime() > LOCK_SAMPLE_FRESH_MS) return null;
  const blocking = row.blocking ?? [];
  const waiting = row.waiting ?? [];
  const longest = [...blocking].sort((a, b) => b.seconds - a.seconds)[0];
  const wait = [...waiting].sort((a, b) => b.seconds - a.seconds)[0];
  if (!longest && !wait) return null;
  return {
    backupId: row.backupId,
    blocking: longest
      ? { sessions: blocking.length, behind: blocking.reduce((n, b) => n + b.behind, 0), seconds: longest.seconds, application: longest.application, table: longest.table }
      : null,
    waiting: wait ? { table: wait.table, seconds: wait.seconds, application: wait.heldBy[0]?.application ?? null, pid: wait.heldBy[0]?.pid ?? null } : null,
  };
}

export const OVERVIEW_SIZES = 14;

/** Every target's line in three statements, however many targets (not one query per target). */
export async function targetsOverview(db: Db, now = new Date()): Promise<TargetToday[]> {
  const dayStart = utcDayStart(now);
  const [targets, loaded, rows] = await Promise.all([
    db.target.findMany({ select: { id: true, isDefault: true, settings: true } }),
    loadSettings(db),
    db.$queryRaw<{ id: string; active: boolean; lastSuccess: { id: string; kind: string; completedAt: string | null; sizeBytes: number | null } | null; finished: TodayFacts["finished"]; sizes: bigint[] | null; locks: LockRow | null }[]>`
      SELECT t.id,
        EXISTS (SELECT 1 FROM "BackupJob" WHERE "targetId" = t.id AND status IN ('QUEUED', 'RUNNING')) AS active,
        (SELECT json_build_object('id', id, 'kind', kind, 'completedAt', to_char("completedAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'sizeBytes', "sizeBytes")
           FROM "BackupJob" WHERE "targetId" = t.id AND status = 'SUCCEEDED' AND kind = 'FULL' AND "completedAt" IS NOT NULL
          ORDER BY "completedAt" DESC LIMIT 1) AS "lastSuccess",
        (SELECT json_agg(json_build_object('status', x.status, 'kind', x.kind, 'finishedAt', extract(epoch FROM x.f) * 1000)) FROM (
           SELECT status, kind, coalesce("completedAt", "updatedAt") AS f FROM "BackupJob"
            WHERE "targetId" = t.id AND status IN (${FINISHED})
              AND ("completedAt" >= ${dayStart} OR ("completedAt" IS NULL AND "updatedAt" >= ${dayStart}))
            ORDER BY "updatedAt" DESC LIMIT 200) x) AS finished,
        (SELECT array_agg(s."sizeBytes" ORDER BY s."completedAt", s.id) FROM (
           SELECT id, "sizeBytes", "completedAt" FROM "BackupJob"
            WHERE "targetId" = t.id AND status = 'SUCCEEDED' AND kind = 'FULL' AND "completedAt" IS NOT NULL AND "sizeBytes" IS NOT NULL
            ORDER BY "completedAt" DESC LIMIT ${OVERVIEW_SIZES}) s) AS sizes,
        (SELECT json_build_object('backupId', b.id, 'at', b.metadata->'locks'->>'at', 'blocking', b.metadata->'locks'->'blocking', 'waiting', b.metadata->'locks'->'waiting')
           FROM "BackupJob" b WHERE b."targetId" = t.id AND b.status = 'RUNNING' AND b.metadata->'locks'->>'at' IS NOT NULL
          ORDER BY b."createdAt" DESC LIMIT 1) AS locks
      FROM "Target" t`,
  ]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return targets.map((t) => {
    const r = byId.get(t.id);
    return {
      targetId: t.id,
      state: todayState({
        now,
        active: r?.active ?? false,
        finished: (r?.finished ?? []).map((j) => ({ status: j.status, kind: j.kind, finishedAt: new Date(j.finishedAt) })),
      }),
      lastSuccess: r?.lastSuccess ?? null,
      nextRunAt: nextRunOf(scheduleOf(t, loaded.settings), now),
      sizes: (r?.sizes ?? []).map(Number),
      locks: lockWaitOf(r?.locks ?? null, now),
    };
  });
}
