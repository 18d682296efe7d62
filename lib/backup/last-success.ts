// "When did we last have a good backup?" — the one answer the missed-backup alert, the
// health check, the metrics and today's banner share. Only a backup that holds the
// database counts: a QUICK backup records the commit and schema only, so it never counts,
// even when the schedule takes QUICK backups (docs/decisions.md).
import type { Db } from "../db";
import { DEFAULT_TARGET_ID } from "../validation/targets";

/** completedAt of the target's (omitted = `default`) newest successful FULL backup, or null. */
export async function lastGoodBackupAt(db: Db, targetId: string = DEFAULT_TARGET_ID): Promise<Date | null> {
  const row = await db.backupJob.findFirst({
    where: { targetId, status: "SUCCEEDED", kind: "FULL" },
    orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
    select: { completedAt: true, createdAt: true },
  });
  return row ? (row.completedAt ?? row.createdAt) : null;
}
