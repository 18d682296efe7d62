// Restore history as the API shows it (DESIGN §6 Restore JSON).
import type { Db } from "../db";
import type { RestoreActivityDto, RestoreDto } from "../validation/restores";
import { notFound } from "../errors";
import { backupStatuses } from "./related";
import { requireTarget } from "./targets";
import type { TargetRefDto } from "../validation/backups";

const include = {
  initiatedBy: { select: { id: true, displayName: true, email: true, role: true } },
  target: { select: { id: true, name: true, environment: true } },
} as const;

type Row = Awaited<ReturnType<Db["restoreJob"]["findFirstOrThrow"]>> & {
  initiatedBy: { id: string; displayName: string; email: string; role: string } | null;
  target: TargetRefDto;
};

/** A swap restore whose previous database is still kept, not undone yet. */
export function canUndo(r: { status: string; strategy: string | null; previousDatabase: string | null; keepUntil: Date | null; previousDroppedAt: Date | null; undoneAt: Date | null }, now = new Date()): boolean {
  return (
    r.status === "SUCCEEDED" && r.strategy === "swap" && !!r.previousDatabase && !r.previousDroppedAt && !r.undoneAt && !!r.keepUntil && r.keepUntil > now
  );
}

export function toRestoreDto(r: Row): RestoreDto {
  return {
    id: r.id,
    target: r.target,
    backupId: r.backupId,
    safetyBackupId: r.safetyBackupId,
    status: r.status,
    phase: r.phase,
    startedAt: r.startedAt?.toISOString() ?? null,
    completedAt: r.completedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    durationSeconds: r.durationSeconds,
    failureReason: r.failureReason,
    preview: r.preview,
    checks: r.checks,
    strategy: r.strategy,
    ownership: r.ownership,
    createRoles: r.createRoles,
    defaultTablespace: r.defaultTablespace,
    endBlockingSessions: r.endBlockingSessions,
    previousDatabase: r.previousDatabase,
    copyFilesPath: r.copyFilesPath,
    keepUntil: r.keepUntil?.toISOString() ?? null,
    previousDroppedAt: r.previousDroppedAt?.toISOString() ?? null,
    undoneAt: r.undoneAt?.toISOString() ?? null,
    swapSeconds: r.swapSeconds,
    progress: r.totalBytes === null ? null : { readBytes: Number(r.readBytes ?? 0), loadedBytes: Number(r.loadedBytes ?? 0), totalBytes: Number(r.totalBytes) },
    activity: r.status === "RUNNING" ? ((r.activity as RestoreActivityDto | null) ?? null) : null,
    warnings: r.warnings,
    canUndo: canUndo(r),
    initiatedBy: r.initiatedBy,
  };
}

/** One target's restores (omitted = `default`), newest first. */
export async function listRestores(db: Db, q: { limit: number; offset: number; target?: string }) {
  const { id: targetId } = await requireTarget(db, q.target);
  const [rows, total] = await Promise.all([
    db.restoreJob.findMany({ where: { targetId }, include, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: q.limit, skip: q.offset }),
    db.restoreJob.count({ where: { targetId } }),
  ]);
  const statuses = await backupStatuses(db, rows.flatMap((r) => (r.safetyBackupId ? [r.backupId, r.safetyBackupId] : [r.backupId])));
  const restores = rows.map((r) => ({
    ...toRestoreDto(r),
    backupStatus: statuses.get(r.backupId) ?? null,
    safetyBackupStatus: r.safetyBackupId ? (statuses.get(r.safetyBackupId) ?? null) : null,
  }));
  return { restores, total, limit: q.limit, offset: q.offset };
}

/**
 * GET /api/restores/:id: the restore, its backups' statuses now (as in the list) and its safety
 * backup's phase and bytes, which a client polling the restore alone otherwise would not see
 * move while the safety backup — often the longer part — runs.
 */
export async function getRestore(db: Db, id: string): Promise<RestoreDto> {
  const row = await db.restoreJob.findUnique({ where: { id }, include });
  if (!row) throw notFound("Restore");
  // Both backups in one read.
  const ids = row.safetyBackupId ? [row.backupId, row.safetyBackupId] : [row.backupId];
  const found = await db.backupJob.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, phase: true, progressBytes: true } });
  const safety = found.find((b) => b.id === row.safetyBackupId);
  return {
    ...toRestoreDto(row),
    backupStatus: found.find((b) => b.id === row.backupId)?.status ?? null,
    safetyBackupStatus: safety?.status ?? null,
    safetyBackup: safety ? { status: safety.status, phase: safety.phase, progressBytes: Number(safety.progressBytes) } : null,
  };
}
