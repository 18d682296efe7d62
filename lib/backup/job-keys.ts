// Where one backup's objects are, from its catalogue row: the keys the row recorded when
// it finished (the layout of the version that wrote them — before or after targets), else
// the current layout under its own target's environment and name.
import type { BackupContext } from "./context";
import { keysForJob, type BackupKeys, type StoredJobRef } from "./manifest";
import { contextForTargetKeys, DEFAULT_TARGET_ID } from "./targets";

export interface JobKeyRef extends StoredJobRef {
  targetId?: string;
}

export async function storedKeys(ctx: BackupContext, job: JobKeyRef): Promise<BackupKeys> {
  let ref: JobKeyRef = job;
  // A caller that selected only some columns: the rest from the row.
  if (job.storageKey === undefined || job.metadata === undefined || job.targetId === undefined) {
    const row = await ctx.db.backupJob.findUnique({ where: { id: job.id }, select: { storageKey: true, metadata: true, targetId: true } });
    if (row) ref = { ...row, ...Object.fromEntries(Object.entries(job).filter(([, v]) => v !== undefined)) } as JobKeyRef;
  }
  const targetId = ref.targetId ?? DEFAULT_TARGET_ID;
  if ((ctx.target?.id ?? DEFAULT_TARGET_ID) === targetId) return keysForJob(ctx, ref);
  const t = await ctx.db.target.findUnique({ where: { id: targetId }, select: { id: true, name: true, environment: true, isDefault: true } });
  return keysForJob(t ? contextForTargetKeys(ctx, t) : ctx, ref);
}
