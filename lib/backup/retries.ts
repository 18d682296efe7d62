// Retries of failed SCHEDULED backups: each retry is a new job linked to the first attempt
// (retryOfId = first attempt's id, attempt = n), queued with a delay. Manual, API and
// pre-deploy backups are not retried: someone is watching those and decides.
import type { BackupContext } from "./context";
import { onEngineEvent } from "./events";
import { enqueueBackup } from "./jobs";
import { audit } from "../audit";
import { componentLogger } from "../log";

const log = componentLogger("retries");

export interface RetryPolicy {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** Delay before attempt n+1 is delaysSeconds[n-1]; the last value repeats. */
  delaysSeconds: readonly number[];
}

/** 3 tries: the second 1 minute after the first fails, the third 5 minutes after that. */
// Issue 6: "retried with backoff (3 tries: 1, 5, 15 minutes)" — three retries, each delay
// used once, so four attempts in all.
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, delaysSeconds: [60, 300, 900] };

export function retryDelaySeconds(policy: RetryPolicy, failedAttempt: number): number {
  const d = policy.delaysSeconds;
  if (d.length === 0) return 0;
  return d[Math.min(Math.max(failedAttempt, 1), d.length) - 1];
}

interface JobLike {
  trigger: string;
  metadata: unknown;
}

/** How many tries this job's chain gets: recorded on the job when it was scheduled. */
export function maxAttemptsOf(job: JobLike, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const recorded = (job.metadata as { maxAttempts?: unknown } | null)?.maxAttempts;
  if (typeof recorded === "number" && Number.isInteger(recorded) && recorded >= 1) return recorded;
  return job.trigger === "SCHEDULED" ? policy.maxAttempts : 1;
}

export type RetryOutcome =
  | { retried: true; retryId: string; attempt: number; maxAttempts: number; delaySeconds: number }
  | { retried: false; reason: string };

/**
 * Queues the next attempt after a failed SCHEDULED backup. Idempotent: the next attempt
 * of a chain is written once, under a transaction-scoped advisory lock on the chain.
 */
export async function scheduleRetry(ctx: BackupContext, jobId: string, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<RetryOutcome> {
  const job = await ctx.db.backupJob.findUnique({ where: { id: jobId } });
  if (!job) return { retried: false, reason: "no such job" };
  if (job.status !== "FAILED") return { retried: false, reason: `job is ${job.status}` };
  if (job.trigger !== "SCHEDULED") return { retried: false, reason: "only scheduled backups are retried" };
  const maxAttempts = maxAttemptsOf(job, policy);
  if (job.attempt >= maxAttempts) return { retried: false, reason: `attempt ${job.attempt} of ${maxAttempts} was the last` };

  const firstId = job.retryOfId ?? job.id;
  const attempt = job.attempt + 1;
  const delaySeconds = retryDelaySeconds(policy, job.attempt);
  const dueAt = new Date(Date.now() + delaySeconds * 1000);
  const meta = (job.metadata ?? {}) as Record<string, unknown>;
  const created = await ctx.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vaultline:retry:${firstId}`}))`;
    const exists = await tx.backupJob.findFirst({ where: { retryOfId: firstId, attempt }, select: { id: true } });
    if (exists) return null;
    // A newer scheduled backup that already succeeded makes this retry pointless.
    const newer = await tx.backupJob.findFirst({
      // Of the same target: another target's success says nothing about this one.
      where: { trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: { gt: job.createdAt }, targetId: job.targetId },
      select: { id: true },
    });
    if (newer) return { skipped: newer.id };
    const row = await tx.backupJob.create({
      data: {
        // A retry is of the same target as the attempt it retries.
        targetId: job.targetId,
        kind: job.kind,
        trigger: "SCHEDULED",
        retryOfId: firstId,
        attempt,
        note: job.note,
        commitSha: job.commitSha,
        phase: `waiting to retry (attempt ${attempt} of ${maxAttempts})`,
        // The sweep re-queues a QUEUED job whose heartbeat is old; a delayed retry is
        // alive until it is due, so the sweep must not start it early.
        heartbeatAt: dueAt,
        metadata: {
          includeFiles: !!meta.includeFiles,
          ...(meta.scheduleSlot ? { scheduleSlot: meta.scheduleSlot } : {}),
          maxAttempts,
          retryDueAt: dueAt.toISOString(),
          phases: [{ phase: "queued", at: new Date().toISOString() }],
        },
      },
    });
    return { id: row.id };
  });
  if (!created) return { retried: false, reason: `attempt ${attempt} already exists` };
  if ("skipped" in created) return { retried: false, reason: `a newer scheduled backup (${created.skipped}) succeeded` };

  await audit(ctx.db, {
    actor: { type: "system", label: "retries" },
    action: "backup.retry_scheduled",
    target: created.id,
    targetId: job.targetId,
    details: { retryOfId: firstId, failedJobId: job.id, attempt, maxAttempts, delaySeconds, dueAt: dueAt.toISOString() },
  });
  await enqueueBackup(ctx, created.id, { startAfterSeconds: delaySeconds });
  log.info({ jobId: created.id, retryOfId: firstId, attempt, maxAttempts, delaySeconds }, "retry queued");
  return { retried: true, retryId: created.id, attempt, maxAttempts, delaySeconds };
}

/** Retries every failed scheduled backup this process runs. Returns the unsubscribe. */
export function startRetries(ctx: BackupContext, policy: RetryPolicy = DEFAULT_RETRY_POLICY): () => void {
  return onEngineEvent(async (e) => {
    if (e.type !== "backup.finished" || e.status !== "FAILED") return;
    const r = await scheduleRetry(ctx, e.jobId, policy);
    if (!r.retried && r.reason !== "no such job" && r.reason !== "only scheduled backups are retried") {
      log.info({ jobId: e.jobId, reason: r.reason }, "no retry");
    }
  });
}
