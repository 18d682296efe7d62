// What a backup page needs beyond the row: the restore a safety backup was taken for (so a
// CANCELLED, empty one says why it never ran), and, for an id no longer in the catalogue,
// its tombstone — when and by which rule it went — read from the audit log, which keeps
// "backup.deleted" (by hand) and "retention.pruned" (by policy) events.
import { manifestForDisplay } from "./detail";
import type { Db } from "../db";
import type { BackupLocksDto } from "../validation/backups";
import type { BackupContext } from "./context";
import { ApiError } from "../errors";
import { backupSelect, toBackupDto } from "./catalog";

export interface SafetyFor {
  restoreId: string;
  /** The backup the restore was restoring. */
  backupId: string;
  restoreStatus: string;
  restoreFailureReason: string | null;
  at: string;
}

export interface BackupTombstone {
  id: string;
  how: "deleted" | "pruned";
  at: string;
  by: string | null;
  /** The retention rule that pruned it, or null for a delete by hand. */
  reason: string | null;
  kind: string | null;
  trigger: string | null;
  status: string | null;
  createdAt: string | null;
  sizeBytes: number | null;
}

export async function safetyBackupFor(db: Db, backupId: string): Promise<SafetyFor | null> {
  const r = await db.restoreJob.findFirst({
    where: { safetyBackupId: backupId },
    orderBy: { createdAt: "desc" },
    select: { id: true, backupId: true, status: true, failureReason: true, createdAt: true },
  });
  return r ? { restoreId: r.id, backupId: r.backupId, restoreStatus: r.status, restoreFailureReason: r.failureReason, at: r.createdAt.toISOString() } : null;
}

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : null);
const num = (v: unknown) => (typeof v === "number" ? v : null);

export async function backupTombstone(db: Db, id: string): Promise<BackupTombstone | null> {
  const [deleted, pruned] = await Promise.all([
    db.auditEvent.findFirst({ where: { action: "backup.deleted", target: id }, orderBy: { at: "desc" } }),
    db.auditEvent.findFirst({ where: { action: "retention.pruned", details: { path: ["ids"], array_contains: [id] } }, orderBy: { at: "desc" } }),
  ]);
  const event = [deleted, pruned].filter((e) => e !== null).sort((a, b) => b.at.getTime() - a.at.getTime())[0];
  if (!event) return null;
  const d = (event.details ?? {}) as Obj;
  const entry =
    event.action === "retention.pruned" && Array.isArray(d.backups) ? ((d.backups as Obj[]).find((b) => b && b.id === id) ?? {}) : d;
  return {
    id,
    how: event.action === "retention.pruned" ? "pruned" : "deleted",
    at: event.at.toISOString(),
    by: event.actorLabel ?? event.actorType,
    reason: event.action === "retention.pruned" ? str(entry.reason) : null,
    kind: str(entry.kind),
    trigger: str(entry.trigger),
    status: str(entry.status),
    createdAt: str(entry.createdAt),
    sizeBytes: num(entry.sizeBytes),
  };
}

/** Which of these ids are still in the catalogue, with their status. */
export async function backupStatuses(db: Db, ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db.backupJob.findMany({ where: { id: { in: unique } }, select: { id: true, status: true } });
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** GET /api/backups/:id's answer; a removed backup is a 404 carrying its tombstone. */
export async function backupDetail(ctx: BackupContext, id: string, requestId: string, showKeyId = false) {
  const row = await ctx.db.backupJob.findUnique({ where: { id }, select: { ...backupSelect, metadata: true } });
  if (!row) {
    const tombstone = await backupTombstone(ctx.db, id);
    throw new ApiError("NOT_FOUND", "Backup not found", tombstone ? { tombstone } : undefined);
  }
  const [manifest, safetyFor] = await Promise.all([
    row.status === "SUCCEEDED" ? manifestForDisplay(ctx, row, requestId, showKeyId) : null,
    row.trigger === "PRE_RESTORE" ? safetyBackupFor(ctx.db, id) : null,
  ]);
  return { ...toBackupDto(row), manifest, metadata: row.metadata, safetyFor, locks: locksOf(row.metadata, row.status) };
}

/**
 * metadata.locks as the backup wrote it (decision 175). A backup the worker lost mid-dump
 * (killed, its row failed by the sweep) may have left a live sample: only who waited stays.
 */
function locksOf(metadata: unknown, status: string): BackupLocksDto | null {
  const l = (metadata as { locks?: BackupLocksDto } | null)?.locks;
  if (!l || typeof l !== "object" || !Array.isArray(l.blocked)) return null;
  if (status === "RUNNING") return l;
  return l.blocked.length ? { at: null, waiting: [], blocking: [], blocked: l.blocked } : null;
}
