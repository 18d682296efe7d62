// The catalogue of backup jobs as the API shows it (DESIGN §6 Backup JSON).
import type { Db } from "../db";
import type { BackupDto, ListBackupsInput } from "../validation/backups";
import { notFound } from "../errors";

export const backupInclude = {
  initiatedBy: { select: { id: true, displayName: true, email: true, role: true } },
} as const;

type Row = Awaited<ReturnType<Db["backupJob"]["findFirstOrThrow"]>> & {
  initiatedBy: { id: string; displayName: string; email: string; role: string } | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toBackupDto(r: Row): BackupDto {
  return {
    id: r.id,
    kind: r.kind,
    trigger: r.trigger,
    status: r.status,
    initiatedBy: r.initiatedBy,
    storageKey: r.storageKey,
    sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes),
    checksumSha256: r.checksumSha256,
    encrypted: r.encrypted,
    durationSeconds: r.durationSeconds,
    startedAt: iso(r.startedAt),
    completedAt: iso(r.completedAt),
    createdAt: r.createdAt.toISOString(),
    failureReason: r.failureReason,
    commitSha: r.commitSha,
    note: r.note,
    verifiedAt: iso(r.verifiedAt),
    verifyStatus: r.verifyStatus,
    phase: r.phase,
    progressBytes: Number(r.progressBytes),
    attempt: r.attempt,
    retryOfId: r.retryOfId,
  };
}

export async function listBackups(db: Db, q: ListBackupsInput) {
  const where = { status: q.status, kind: q.kind, trigger: q.trigger };
  const [rows, total] = await Promise.all([
    db.backupJob.findMany({
      where,
      include: backupInclude,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: q.limit,
      skip: q.offset,
    }),
    db.backupJob.count({ where }),
  ]);
  return { backups: rows.map(toBackupDto), total, limit: q.limit, offset: q.offset };
}

export async function getBackupRow(db: Db, id: string) {
  const row = await db.backupJob.findUnique({ where: { id }, include: backupInclude });
  if (!row) throw notFound("Backup");
  return row;
}
