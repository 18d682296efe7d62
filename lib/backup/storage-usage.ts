// How much the stored backups take: the sum of the stored sizes of successful backups
// (archive plus files part; a QUICK backup's manifest). FAILED and CANCELLED attempts
// leave nothing in storage, so they count zero. Read from the tally the list's totals come
// from (its statement triggers keep the bytes beside the counts, decision 116): a few
// dozen rows whatever the catalogue's size.
//
// Local storage also reports its disk (decision 159): free and total space, the reserve a
// backup leaves free (DISK_RESERVE_MB), and whether the next backup — the largest FULL of the
// last 8 days — fits above it, so the dashboard and the health check say so the day before
// the nightly backup stops for want of room.
import { statfs } from "node:fs/promises";
import type { Db } from "../db";
import { LocalStorage } from "./storage/local";
import type { Storage } from "./storage/types";

export interface StorageDisk {
  dir: string;
  freeBytes: number;
  totalBytes: number;
  reserveBytes: number;
  /** The largest FULL backup of the last 8 days: what the next one is taken to need (0: none). */
  nextBackupBytes: number;
  /** The next backup fits above the reserve. */
  fits: boolean;
}

export interface StorageUsage {
  totalBytes: number;
  /** STORAGE_WARN_BYTES, or null when no threshold is set. */
  warnBytes: number | null;
  overWarn: boolean;
  backups: number;
  /** Local storage's disk; null for S3 (or when not asked). */
  disk: StorageDisk | null;
}

/** The window whose largest FULL backup stands for the next one. */
const RECENT_FULL_MS = 8 * 86_400_000;

export async function storageDisk(db: Pick<Db, "backupJob">, storage: Storage, now = new Date()): Promise<StorageDisk | null> {
  if (!(storage instanceof LocalStorage)) return null;
  const [s, largest] = await Promise.all([
    statfs(storage.root),
    db.backupJob.findFirst({
      where: { kind: "FULL", status: "SUCCEEDED", sizeBytes: { not: null }, completedAt: { gte: new Date(now.getTime() - RECENT_FULL_MS) } },
      orderBy: { sizeBytes: "desc" },
      select: { sizeBytes: true },
    }),
  ]);
  const freeBytes = s.bavail * s.bsize;
  const nextBackupBytes = largest?.sizeBytes == null ? 0 : Number(largest.sizeBytes);
  return { dir: storage.root, freeBytes, totalBytes: s.blocks * s.bsize, reserveBytes: storage.reserveBytes, nextBackupBytes, fits: freeBytes - storage.reserveBytes >= nextBackupBytes };
}

export async function storageUsage(db: Db, warnBytes?: number | null, storage?: Storage): Promise<StorageUsage> {
  const [agg, disk] = await Promise.all([
    db.backupJobTally.aggregate({ where: { status: "SUCCEEDED" }, _sum: { n: true, bytes: true } }),
    storage ? storageDisk(db, storage) : null,
  ]);
  const totalBytes = Number(agg._sum.bytes ?? 0n);
  const warn = warnBytes ?? null;
  return { totalBytes, warnBytes: warn, overWarn: warn !== null && totalBytes > warn, backups: Number(agg._sum.n ?? 0n), disk };
}
