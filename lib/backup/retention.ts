// What retention keeps and prunes, as a pure function of the catalogue, the settings
// and the clock, so every rule is unit-tested without storage or a database. Deleting
// what the plan says to prune is the caller's job.

import { FINISHED_JOB_STATUSES, type BackupKind, type BackupTrigger, type JobStatus, type VerifyStatus } from "../validation/backups";
import { LocalCalendar, PERIOD_UNITS, periodIndex, periodLabel, type PeriodUnit } from "./retention-periods";

export type RetentionKind = BackupKind;
export type RetentionTrigger = BackupTrigger;
export type RetentionStatus = JobStatus;

export interface RetentionCandidate {
  id: string;
  kind: RetentionKind;
  trigger: RetentionTrigger;
  status: RetentionStatus;
  createdAt: Date;
  completedAt: Date | null;
  /** FAILED: a verification found it unrestorable; it never counts as a kept good backup. */
  verifyStatus?: VerifyStatus | null;
}

export interface RetentionPolicy {
  days: number;
  keepLast: number;
  keepQuick: number;
  /** GFS: the newest good FULL of each of the last N calendar days, ISO weeks, months, years (0 = off). */
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly: number;
}

/** Work that reads a backup's stored objects right now: pruning it would break that work. */
export type BusyReason = "restoring" | "drilling";

export interface RetentionOptions {
  /** The schedule's IANA time zone: GFS periods are its calendar days, weeks, months, years. */
  timeZone?: string;
  /** Backups in use, by id (restore-plan inputs gathered by the caller). */
  busy?: ReadonlyMap<string, BusyReason>;
}

export interface RetentionPlan {
  /** Every kept backup with every rule that keeps it, in the order of RULES below. */
  keep: { id: string; reasons: string[] }[];
  prune: { id: string; reason: string }[];
}

/** A restore's safety net must outlive the days it takes to notice a bad restore. */
export const SAFETY_BACKUP_MIN_DAYS = 7;

const DAY_MS = 24 * 60 * 60 * 1000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

const GFS_COUNTS: Record<PeriodUnit, keyof RetentionPolicy> = {
  daily: "keepDaily",
  weekly: "keepWeekly",
  monthly: "keepMonthly",
  yearly: "keepYearly",
};

// Newest first; completedAt then id break ties so the plan never depends on input order.
function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  return (
    b.createdAt.getTime() - a.createdAt.getTime() ||
    (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

/**
 * GFS: for each unit with a count N, the periods from the one holding today (in the
 * time zone) back N-1 periods; in each, the newest of `fulls` (already newest first).
 * A period without a backup keeps nothing and is not replaced by an older one.
 */
function gfsReasons(fulls: readonly RetentionCandidate[], policy: RetentionPolicy, now: Date, timeZone: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const units = PERIOD_UNITS.filter((u) => Number(policy[GFS_COUNTS[u]]) > 0);
  if (units.length === 0) return out;
  const calendar = new LocalCalendar(timeZone);
  const today = calendar.day(now);
  const windows = units.map((unit) => {
    const current = periodIndex(unit, today);
    return { unit, first: current - Number(policy[GFS_COUNTS[unit]]) + 1, last: current, taken: new Set<number>() };
  });
  for (const b of fulls) {
    if (Number.isNaN(b.createdAt.getTime())) continue;
    const day = calendar.day(b.createdAt);
    let older = true;
    for (const w of windows) {
      const index = periodIndex(w.unit, day);
      if (index >= w.first) older = false;
      if (index < w.first || index > w.last || w.taken.has(index)) continue;
      w.taken.add(index);
      const reasons = out.get(b.id) ?? [];
      reasons.push(`${w.unit} ${periodLabel(w.unit, day)}`);
      out.set(b.id, reasons);
    }
    // Newest first: once a backup is before every window, so is the rest.
    if (older) break;
  }
  return out;
}

/**
 * Rules; a backup is kept if any rule keeps it, and the plan names every rule that does:
 * 1. QUEUED and RUNNING jobs are never touched ("queued", "running"); neither is a row
 *    whose date cannot be read ("undated") or whose status is unknown.
 * 2. A backup being restored or drilled is kept ("restoring", "drilling").
 * 3. Anything created less than `days` ago is kept ("within 30 days").
 * 4. PRE_RESTORE safety backups are kept for at least SAFETY_BACKUP_MIN_DAYS
 *    ("safety backup < 7 days").
 * 5. The newest successful FULL backup that has not failed verification ("newest full"),
 *    and the newest whose verification PASSED ("newest verified full"), are kept whatever
 *    the policy says.
 * 6. The newest `keepLast` successful FULL ("last 10") and `keepQuick` successful QUICK
 *    ("last 10 quick") backups are kept (every trigger counts, a safety backup is a
 *    restorable FULL like any other). A backup whose verification FAILED is not
 *    restorable: it takes no place in these counts (else `keepLast: 1` behind a failed
 *    newest FULL pruned every good one).
 * 7. GFS: the newest such FULL of each of the last `keepDaily` calendar days, `keepWeekly`
 *    ISO weeks (Monday to Sunday), `keepMonthly` months and `keepYearly` years, counted
 *    in `timeZone` and including the current one ("daily 2026-11-30", "weekly 2026-W48",
 *    "monthly 2026-11", "yearly 2026").
 * Everything else, successful or FAILED/CANCELLED, is pruned. Age is measured from
 * createdAt, the moment the snapshot was requested; "exactly `days` old" is pruned.
 * The returned lists keep the input order.
 */
export function planRetention(
  backups: readonly RetentionCandidate[],
  retention: RetentionPolicy,
  now: Date,
  opts: RetentionOptions = {},
): RetentionPlan {
  const good = (b: RetentionCandidate, kind: RetentionKind) => b.status === "SUCCEEDED" && b.verifyStatus !== "FAILED" && b.kind === kind;
  const fulls = backups.filter((b) => good(b, "FULL")).sort(newestFirst);
  const quicks = backups.filter((b) => good(b, "QUICK")).sort(newestFirst);
  const newestFullId = fulls[0]?.id;
  const newestVerifiedId = fulls.find((b) => b.verifyStatus === "PASSED")?.id;
  const lastFull = new Set(fulls.slice(0, Math.max(0, retention.keepLast)).map((b) => b.id));
  const lastQuick = new Set(quicks.slice(0, Math.max(0, retention.keepQuick)).map((b) => b.id));
  const gfs = gfsReasons(fulls, retention, now, opts.timeZone ?? "UTC");
  const maxAgeMs = Math.max(0, retention.days) * DAY_MS;
  const safetyMinMs = SAFETY_BACKUP_MIN_DAYS * DAY_MS;
  const gfsOn = PERIOD_UNITS.some((u) => Number(retention[GFS_COUNTS[u]]) > 0);

  const plan: RetentionPlan = { keep: [], prune: [] };
  for (const b of backups) {
    const age = now.getTime() - b.createdAt.getTime();
    const reasons: string[] = [];
    if (b.status === "QUEUED" || b.status === "RUNNING") reasons.push(b.status.toLowerCase());
    // Unknown future statuses are left alone rather than guessed at.
    else if (!(FINISHED_JOB_STATUSES as readonly string[]).includes(b.status)) reasons.push(`status ${b.status}`);
    // An undatable row is never old enough to delete.
    if (Number.isNaN(age)) reasons.push("undated");
    const busy = opts.busy?.get(b.id);
    if (busy) reasons.push(busy);
    if (age < maxAgeMs) reasons.push(`within ${plural(retention.days, "day")}`);
    if (b.trigger === "PRE_RESTORE" && age < safetyMinMs) reasons.push(`safety backup < ${SAFETY_BACKUP_MIN_DAYS} days`);
    if (b.id === newestFullId) reasons.push("newest full");
    if (b.id === newestVerifiedId) reasons.push("newest verified full");
    if (lastFull.has(b.id)) reasons.push(`last ${retention.keepLast}`);
    if (lastQuick.has(b.id)) reasons.push(`last ${retention.keepQuick} quick`);
    reasons.push(...(gfs.get(b.id) ?? []));
    if (reasons.length > 0) {
      plan.keep.push({ id: b.id, reasons });
      continue;
    }
    const older = `older than ${plural(retention.days, "day")}`;
    let reason: string;
    if (b.status !== "SUCCEEDED") {
      reason = `${b.status} and ${older}`;
    } else {
      const limit = b.kind === "FULL" ? retention.keepLast : retention.keepQuick;
      reason =
        b.verifyStatus === "FAILED"
          ? `${older} and failed verification`
          : `${older} and not among the newest ${limit} successful ${b.kind} backups`;
      if (gfsOn && b.kind === "FULL" && b.verifyStatus !== "FAILED") reason += "; not the newest of a kept day, week, month or year";
      if (b.trigger === "PRE_RESTORE") reason += `; safety backup older than ${SAFETY_BACKUP_MIN_DAYS} days`;
    }
    plan.prune.push({ id: b.id, reason });
  }
  return plan;
}
