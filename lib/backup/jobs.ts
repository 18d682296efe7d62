// Job lifecycle (DESIGN §4): queue, heartbeat, stale detection, cancel.
import type { BackupContext } from "./context";
import type { Actor } from "../audit";
import { audit } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES, wakeLocalWorkers } from "../queue";
import { componentLogger } from "../log";
import type { BackupKind, BackupTrigger } from "../validation/backups";
import { keysForJob, legacyBackupKeys, RESERVED_TARGET_SEGMENTS } from "./manifest";
import { emitEngineEvent } from "./events";
import { tryDestructiveLock } from "./locks";
import { adoptFromManifest } from "./reconcile";
import { requireQuickCommit } from "./commit";
import { contextForTargetKeys, DEFAULT_TARGET_ID, requireTarget, targetRef } from "./targets";

const log = componentLogger("admin-backups");

/** A RUNNING job whose heartbeat is older than this has lost its worker. */
export const STALE_AFTER_MS = 2 * 60_000;

export interface NewBackup {
  kind: BackupKind;
  trigger: BackupTrigger;
  initiatedById?: string | null;
  note?: string | null;
  commitSha?: string | null;
  includeFiles?: boolean;
  retryOfId?: string | null;
  attempt?: number;
  /** The target's id (not its name): absent = `default`. */
  targetId?: string;
}

export async function enqueueBackup(ctx: BackupContext, jobId: string, opts: { startAfterSeconds?: number } = {}) {
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.backup, { jobId }, { singletonKey: jobId, startAfter: opts.startAfterSeconds });
  if (!opts.startAfterSeconds) wakeLocalWorkers(QUEUES.backup);
}

/** Writes a QUEUED row and its queue message; the caller answers 202 with the id. */
export async function createBackupJob(ctx: BackupContext, input: NewBackup, actor: Actor, opts: { startAfterSeconds?: number } = {}) {
  // Resolved now, so a QUICK backup that could record no commit is refused with a 400
  // instead of succeeding empty.
  // An unknown target is a 404 (UnknownTargetError), never a foreign-key error.
  const target = await requireTarget(ctx.db, input.targetId ?? DEFAULT_TARGET_ID);
  // APP_COMMIT_SHA / APP_REPO_DIR describe the default target's app; another target's QUICK
  // backup names its commit itself.
  const app = ctx.appContext ?? ctx;
  const commitSha =
    input.kind === "QUICK"
      ? await requireQuickCommit(input.commitSha, target.isDefault ? app.appCommitSha : undefined, target.isDefault ? app.appRepoDir : undefined)
      : (input.commitSha ?? null);
  // FILES_DIR is the default target's; another target bundles files only with its own filesDir.
  const includeFiles = !!input.includeFiles;
  const job = await ctx.db.backupJob.create({
    data: {
      targetId: target.id,
      kind: input.kind,
      trigger: input.trigger,
      initiatedById: input.initiatedById ?? null,
      note: input.note ?? null,
      commitSha,
      retryOfId: input.retryOfId ?? null,
      attempt: input.attempt ?? 1,
      metadata: { includeFiles, phases: [{ phase: "queued", at: new Date().toISOString() }] },
    },
  });
  await audit(ctx.db, {
    actor,
    action: "backup.requested",
    target: job.id,
    targetId: target.id,
    details: { kind: job.kind, trigger: job.trigger, note: job.note, commitSha: job.commitSha, target: targetRef(target) },
  });
  await enqueueBackup(ctx, job.id, opts);
  log.info({ jobId: job.id, kind: job.kind, trigger: job.trigger, target: target.name }, "backup queued");
  return job;
}

/**
 * Cancels a job. A QUEUED job is cancelled at once; a RUNNING one is flagged and its
 * worker aborts at the next heartbeat (the partial upload is aborted there).
 */
export async function cancelBackup(ctx: BackupContext, id: string, actor: Actor) {
  const job = await ctx.db.backupJob.findUnique({ where: { id } });
  if (!job) throw notFound("Backup");
  if (job.status === "QUEUED") {
    const r = await ctx.db.backupJob.updateMany({
      where: { id, status: "QUEUED" },
      data: { status: "CANCELLED", completedAt: new Date(), failureReason: `Cancelled by ${actor.label ?? actor.type}`, phase: "cancelled" },
    });
    if (r.count === 0) return cancelBackup(ctx, id, actor);
  } else if (job.status === "RUNNING") {
    await ctx.db.$executeRaw`UPDATE "BackupJob" SET metadata = metadata || jsonb_build_object('cancelRequestedAt', now()::text, 'cancelRequestedBy', ${actor.label ?? actor.type}::text) WHERE id = ${id}`;
  } else {
    throw new ApiError("CONFLICT", `The backup is already ${job.status.toLowerCase()}`);
  }
  await audit(ctx.db, { actor, action: "backup.cancel_requested", target: id, targetId: job.targetId, details: { statusWas: job.status } });
  return ctx.db.backupJob.findUniqueOrThrow({ where: { id } });
}

/**
 * Marks jobs whose worker died FAILED (RUNNING with a heartbeat older than 2 minutes) and
 * removes what they may have left in storage; re-queues QUEUED jobs that lost their queue
 * message. Run at worker start and every minute.
 */
export async function sweepStaleJobs(ctx: BackupContext, now = new Date()): Promise<{ failed: string[]; requeued: string[] }> {
  // While a restore (or delete, or pruning) runs, the catalogue may be mid-replacement — a
  // restored row captured RUNNING in its own dump, say: the sweep waits for its next turn.
  const lock = await tryDestructiveLock(ctx.appDatabaseUrl);
  if (!lock) return { failed: [], requeued: [] };
  try {
    return await sweepUnderLock(ctx, now);
  } finally {
    await lock.release();
  }
}

async function sweepUnderLock(ctx: BackupContext, now: Date): Promise<{ failed: string[]; requeued: string[] }> {
  const cutoff = new Date(now.getTime() - STALE_AFTER_MS);
  const stale = await ctx.db.backupJob.findMany({
    where: { status: "RUNNING", OR: [{ heartbeatAt: { lt: cutoff } }, { heartbeatAt: null, startedAt: { lt: cutoff } }] },
    include: { target: true },
  });
  const failed: string[] = [];
  for (const job of stale) {
    // Each job's keys are under its own target's environment and name.
    const tctx = contextForTargetKeys(ctx, job.target);
    // A manifest is written only after a backup completed: such a backup succeeded, whatever
    // its row says, and its objects are never deleted. A job started by a version before
    // targets wrote at the old layout.
    const keys = keysForJob(tctx, job);
    const legacy = legacyBackupKeys(tctx.prefix, tctx.env, job.id, job.createdAt);
    if ((await adoptFromManifest(ctx, keys.manifest)) || (await adoptFromManifest(ctx, legacy.manifest))) {
      log.warn({ jobId: job.id }, "stale RUNNING row had a manifest: recorded as SUCCEEDED from it");
      continue;
    }
    const r = await ctx.db.backupJob.updateMany({
      where: { id: job.id, status: "RUNNING", updatedAt: job.updatedAt },
      data: {
        status: "FAILED",
        completedAt: now,
        phase: "failed",
        failureReason: `The worker stopped responding (no heartbeat since ${(job.heartbeatAt ?? job.startedAt)?.toISOString()}); the process probably died. Nothing from this attempt is kept.`,
      },
    });
    if (r.count === 0) continue;
    failed.push(job.id);
    await Promise.all([keys.archive, keys.files, keys.manifest].map((k) => ctx.storage.delete(k).catch(() => {})));
    await audit(ctx.db, { actor: { type: "system", label: "sweep" }, action: "backup.failed", target: job.id, targetId: job.targetId, details: { reason: "stale heartbeat" } });
    log.warn({ jobId: job.id }, "stale running backup marked FAILED");
    // Retries and failure notifications follow a swept job like any other failure.
    await emitEngineEvent({ type: "backup.finished", jobId: job.id, status: "FAILED" });
  }
  const lost = await ctx.db.backupJob.findMany({
    where: {
      status: "QUEUED",
      OR: [{ heartbeatAt: { lt: cutoff } }, { heartbeatAt: null, createdAt: { lt: new Date(now.getTime() - 10 * 60_000) } }],
    },
    select: { id: true },
  });
  for (const j of lost) await enqueueBackup(ctx, j.id);
  await removeOrphanedUploads(ctx).catch((e: Error) => log.warn({ err: e.message }, "could not clean unfinished uploads"));
  return { failed, requeued: lost.map((j) => j.id) };
}

/**
 * Aborts unfinished uploads (S3 multipart, local temp files) that no RUNNING job owns: a
 * killed worker, or an abort sent while the store was down, leaves them billable and
 * invisible. Keys carry their job id (`…/<id>/archive.dump.gpg`).
 */
export async function removeOrphanedUploads(ctx: BackupContext): Promise<number> {
  const running = new Set((await ctx.db.backupJob.findMany({ where: { status: "RUNNING" }, select: { id: true } })).map((j) => j.id));
  // A re-encryption uploads beside a finished backup's parts (reencrypt.ts): its upload is busy too.
  for (const r of await ctx.db.keyReencryption.findMany({ select: { backupId: true } })) running.add(r.backupId);
  // Under every environment a target uses — and only those: another Vaultline may share the bucket.
  const envs = new Set([ctx.catalogueEnv ?? ctx.env, ctx.env]);
  for (const t of await ctx.db.target.findMany({ where: { isDefault: false }, select: { environment: true } })) envs.add(t.environment);
  let removed = 0;
  for (const env of envs) {
    const base = `${ctx.prefix}/${env}/`;
    removed += await ctx.storage.removeIncompleteUploads(base, (key) => {
      // Records beside the targets' folders (targets/<id>.json, the audit mirror, …) are
      // small writes of no job: never swept, or a sweep running alongside would delete a
      // temp file just before its rename (seen in CI: a backup failed with ENOENT).
      if (RESERVED_TARGET_SEGMENTS.includes(key.slice(base.length).split("/")[0])) return true;
      const parts = key.split("/");
      return running.has(parts[parts.length - 2] ?? "");
    });
  }
  if (removed) log.warn({ removed }, "removed unfinished uploads left by failed attempts");
  return removed;
}

export interface RunningJobHandle {
  phase(name: string): Promise<void>;
  progress(bytes: number): void;
  stop(): void;
}

/**
 * Writes heartbeatAt + progress every heartbeatMs, records phase changes in
 * metadata.phases, and aborts the run when a cancel was requested.
 */
export function startHeartbeat(ctx: BackupContext, jobId: string, abort: AbortController): RunningJobHandle {
  let bytes = 0;
  let stopped = false;
  const beat = async () => {
    const rows = await ctx.db.$queryRaw<{ cancel: string | null }[]>`
      UPDATE "BackupJob" SET "heartbeatAt" = now(), "progressBytes" = ${BigInt(bytes)}, "updatedAt" = now()
       WHERE id = ${jobId} RETURNING metadata->>'cancelRequestedAt' AS cancel`;
    if (rows[0]?.cancel && !abort.signal.aborted) abort.abort(new CancelledError(`Cancelled at ${rows[0].cancel}`));
  };
  let beating = false;
  const timer = setInterval(() => {
    if (stopped || beating) return;
    beating = true;
    beat()
      .catch((e: Error) => log.warn({ jobId, err: e.message }, "heartbeat failed"))
      .finally(() => (beating = false));
  }, ctx.heartbeatMs);
  return {
    async phase(name) {
      await ctx.db.$executeRaw`
        UPDATE "BackupJob" SET phase = ${name}, "heartbeatAt" = now(), "progressBytes" = ${BigInt(bytes)}, "updatedAt" = now(),
               metadata = jsonb_set(metadata, '{phases}', COALESCE(metadata->'phases', '[]'::jsonb) || jsonb_build_array(jsonb_build_object('phase', ${name}::text, 'at', now()::text)))
         WHERE id = ${jobId}`;
      log.info({ jobId, phase: name }, "backup phase");
    },
    progress(n) {
      bytes = n;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export class CancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CancelledError";
  }
}

export class TimeoutError extends Error {
  constructor(minutes: number) {
    super(`The backup took longer than ${minutes} minutes (BACKUP_TIMEOUT_MINUTES) and was stopped`);
    this.name = "TimeoutError";
  }
}
