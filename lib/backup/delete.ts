// Deleting a backup: objects first, then the row (so a crash in between leaves a row
// pointing at nothing — visible and retryable — never an unlisted object).
import type { BackupContext } from "./context";
import { keysForJob, type StoredJobRef } from "./manifest";
import { contextForTargetKeys } from "./targets";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { tryDestructiveLock } from "./locks";
import { ACTIVE_JOB_STATUSES } from "../validation/backups";

/** Runs fn holding the destructive-operation slot of ctx's target (absent = `default`), or answers 409. */
export async function withDestructiveSlot<T>(ctx: BackupContext, what: string, fn: () => Promise<T>): Promise<T> {
  const targetId = ctx.target?.id ?? "default";
  const lock = await tryDestructiveLock(ctx.appDatabaseUrl, targetId);
  if (!lock) throw new ApiError("OPERATION_IN_PROGRESS", `Another restore, rollback, delete or pruning of this target is running; ${what} was not started`);
  try {
    const active = await ctx.db.restoreJob.count({ where: { status: { in: [...ACTIVE_JOB_STATUSES] }, targetId } });
    if (active > 0) throw new ApiError("OPERATION_IN_PROGRESS", `A restore is in progress; ${what} was not started`);
    return await fn();
  } finally {
    await lock.release();
  }
}

/** ctx is the job's target's (its keys are under the target's environment and name). */
export async function removeBackupObjects(ctx: BackupContext, job: StoredJobRef) {
  const keys = keysForJob(ctx, job);
  // Parts before the manifest: a listing never shows a manifest whose parts are gone.
  await ctx.storage.delete(keys.archive);
  await ctx.storage.delete(keys.files);
  // Re-encrypted parts carry their key's id in their names (reencrypt.ts).
  for await (const o of ctx.storage.list(`${keys.dir}/`)) if (o.key !== keys.manifest) await ctx.storage.delete(o.key);
  await ctx.storage.delete(keys.manifest);
}

export async function deleteBackup(appCtx: BackupContext, id: string, actor: Actor) {
  const found = await appCtx.db.backupJob.findUnique({ where: { id }, include: { target: true } });
  if (!found) throw notFound("Backup");
  // The backup's own target: its lock, its keys (no connection is made, so no URL is read).
  const ctx = contextForTargetKeys(appCtx, found.target);
  return withDestructiveSlot(ctx, "the delete", async () => {
    const job = await ctx.db.backupJob.findUnique({ where: { id } });
    if (!job) throw notFound("Backup");
    if (job.status === "QUEUED" || job.status === "RUNNING") {
      throw new ApiError("CONFLICT", "The backup is still running; cancel it first");
    }
    if (job.status === "SUCCEEDED" && job.kind === "FULL") {
      // Counted among this target's backups: another target's FULL backup restores nothing here.
      const others = await ctx.db.backupJob.count({ where: { status: "SUCCEEDED", kind: "FULL", id: { not: id }, targetId: job.targetId } });
      if (others === 0) throw new ApiError("CONFLICT", "This is the only successful FULL backup; take another before deleting it");
    }
    await removeBackupObjects(ctx, job);
    await ctx.db.backupJob.delete({ where: { id } });
      await audit(ctx.db, {
      actor,
      action: "backup.deleted",
      target: id,
      targetId: job.targetId,
      details: { target: ctx.target, kind: job.kind, status: job.status, sizeBytes: job.sizeBytes === null ? null : Number(job.sizeBytes), createdAt: job.createdAt.toISOString() },
    });
  });
}
