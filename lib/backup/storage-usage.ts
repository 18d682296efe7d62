// How much the stored backups take: the sum of the stored sizes of successful backups
// (archive plus files part; a QUICK backup's manifest). FAILED and CANCELLED attempts
// leave nothing in storage, so they count zero. Read from the tally the list's totals come
// from (its statement triggers keep the bytes beside the counts, decision 116): a few
// dozen rows whatever the catalogue's size.
import type { Db } from "../db";

export interface StorageUsage {
  totalBytes: number;
  /** STORAGE_WARN_BYTES, or null when no threshold is set. */
  warnBytes: number | null;
  overWarn: boolean;
  backups: number;
}

export async function storageUsage(db: Db, warnBytes?: number | null): Promise<StorageUsage> {
  const agg = await db.backupJobTally.aggregate({ where: { status: "SUCCEEDED" }, _sum: { n: true, bytes: true } });
  const totalBytes = Number(agg._sum.bytes ?? 0n);
  const warn = warnBytes ?? null;
  return { totalBytes, warnBytes: warn, overWarn: warn !== null && totalBytes > warn, backups: Number(agg._sum.n ?? 0n) };
}
