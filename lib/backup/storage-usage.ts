// How much the stored backups take: the sum of the stored sizes of successful backups
// (archive plus files part; a QUICK backup's manifest). FAILED and CANCELLED attempts
// leave nothing in storage, so they count zero.
import type { Db } from "../db";

export interface StorageUsage {
  totalBytes: number;
  /** STORAGE_WARN_BYTES, or null when no threshold is set. */
  warnBytes: number | null;
  overWarn: boolean;
  backups: number;
}

export async function storageUsage(db: Db, warnBytes?: number | null): Promise<StorageUsage> {
  const agg = await db.backupJob.aggregate({ where: { status: "SUCCEEDED" }, _sum: { sizeBytes: true }, _count: { _all: true } });
  const totalBytes = Number(agg._sum.sizeBytes ?? 0n);
  const warn = warnBytes ?? null;
  return { totalBytes, warnBytes: warn, overWarn: warn !== null && totalBytes > warn, backups: agg._count._all };
}
