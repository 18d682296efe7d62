// What retention keeps and prunes, as a pure function of the catalogue, the settings
// and the clock, so every rule is unit-tested without storage or a database. Deleting
// what the plan says to prune is the caller's job.

import { FINISHED_JOB_STATUSES, type BackupKind, type BackupTrigger, type JobStatus, type VerifyStatus } from "../validation/backups";

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
}

export interface RetentionPlan {
  keep: string[];
  prune: { id: string; reason: string }[];
}

/** A restore's safety net must outlive the days it takes to notice a bad restore. */
export const SAFETY_BACKUP_MIN_DAYS = 7;

const DAY_MS = 24 * 60 * 60 * 1000;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

// Newest first; completedAt then id break ties so the plan never depends on input order.
function newestFirst(a: RetentionCandidate, b: RetentionCandidate): number {
  return (
    b.createdAt.getTime() - a.createdAt.getTime() ||
    (b.completedAt?.getTime() ?? 0) - (a.completedAt?.getTime() ?? 0) ||
    (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  );
}

/**
 * Rules, in order; a backup is kept if any rule keeps it:
 * 1. QUEUED and RUNNING jobs are never touched.
 * 2. Anything created less than `days` ago is kept.
 * 3. PRE_RESTORE safety backups are kept for at least SAFETY_BACKUP_MIN_DAYS.
 * 4. The newest successful FULL backup that has not failed verification is kept whatever
 *    the policy says.
 * 5. The newest `keepLast` successful FULL and `keepQuick` successful QUICK backups are
 *    kept (every trigger counts, a safety backup is a restorable FULL like any other).
 *    A backup whose verification FAILED is not restorable: it takes no place in these
 *    counts (else `keepLast: 1` behind a failed newest FULL pruned every good one).
 * Everything else, successful or FAILED/CANCELLED, is pruned. Age is measured from
 * createdAt, the moment the snapshot was requested; "exactly `days` old" is pruned.
 * The returned lists keep the input order.
 */
export function planRetention(
  backups: readonly RetentionCandidate[],
  retention: RetentionPolicy,
  now: Date,
): RetentionPlan {
  const successful = (kind: RetentionKind) =>
    backups.filter((b) => b.status === "SUCCEEDED" && b.verifyStatus !== "FAILED" && b.kind === kind).sort(newestFirst);
  const fulls = successful("FULL");
  const quicks = successful("QUICK");
  const newestFullId = fulls[0]?.id;
  const keptByCount = new Set([
    ...fulls.slice(0, Math.max(0, retention.keepLast)).map((b) => b.id),
    ...quicks.slice(0, Math.max(0, retention.keepQuick)).map((b) => b.id),
  ]);
  const maxAgeMs = Math.max(0, retention.days) * DAY_MS;
  const safetyMaxAgeMs = Math.max(maxAgeMs, SAFETY_BACKUP_MIN_DAYS * DAY_MS);

  const plan: RetentionPlan = { keep: [], prune: [] };
  for (const b of backups) {
    const age = now.getTime() - b.createdAt.getTime();
    const kept =
      b.status === "QUEUED" ||
      b.status === "RUNNING" ||
      // An undatable row is never old enough to delete.
      Number.isNaN(age) ||
      age < maxAgeMs ||
      (b.trigger === "PRE_RESTORE" && age < safetyMaxAgeMs) ||
      b.id === newestFullId ||
      keptByCount.has(b.id) ||
      // Unknown future statuses are left alone rather than guessed at.
      !(FINISHED_JOB_STATUSES as readonly string[]).includes(b.status);
    if (kept) {
      plan.keep.push(b.id);
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
      if (b.trigger === "PRE_RESTORE") reason += `; safety backup older than ${SAFETY_BACKUP_MIN_DAYS} days`;
    }
    plan.prune.push({ id: b.id, reason });
  }
  return plan;
}
