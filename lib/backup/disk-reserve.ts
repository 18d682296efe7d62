// The free space Vaultline leaves on a disk it writes a copy to (DISK_RESERVE_MB): local
// storage's archives (decision 159) and a restore's files part (decision 161). The disk is
// often shared — with PostgreSQL, with the application's own uploads — and full, it stops
// them too. A write looks at the disk before its first byte, every so often, and after its
// last, and stops with DiskReserveError below the reserve. A look is not a reservation:
// another writer can still fill the disk between two looks.
import { statfs } from "node:fs/promises";
import { formatBytes } from "../format";

/** How often a write looks (one statfs): every 16 MiB, or a quarter of a smaller reserve, at least every 64 KiB. */
export const diskCheckInterval = (reserveBytes: number): number => Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(reserveBytes / 4)));

/** A write stopped before it took the disk's last `reserveBytes`. */
export class DiskReserveError extends Error {
  readonly code = "DISK_RESERVE";
  constructor(what: string, dir: string, freeBytes: number, totalBytes: number, reserveBytes: number, advice: string) {
    super(
      `Stopped before the ${what} disk filled up: ${dir} had ${formatBytes(freeBytes)} free of ${formatBytes(totalBytes)}, ` +
        `less than the ${formatBytes(reserveBytes)} Vaultline leaves free (DISK_RESERVE_MB). ${advice}`,
    );
    this.name = "DiskReserveError";
  }
}

/** A disk's free space for a writer that is not root (statfs bavail), or null when it cannot be measured. */
export async function diskSpace(dir: string): Promise<{ freeBytes: number; totalBytes: number } | null> {
  const s = await statfs(dir).catch(() => null);
  return s ? { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize } : null;
}

/**
 * A check that throws DiskReserveError when `dir`'s disk has less than `reserveBytes` free.
 * An unmeasurable disk is not a stop: the write itself says what is wrong with it.
 */
export function reserveCheck(dir: string, reserveBytes: number, words: { what: string; shownDir?: string; advice: string }): () => Promise<void> {
  return async () => {
    if (reserveBytes <= 0) return;
    const s = await diskSpace(dir);
    if (s && s.freeBytes < reserveBytes) throw new DiskReserveError(words.what, words.shownDir ?? dir, s.freeBytes, s.totalBytes, reserveBytes, words.advice);
  };
}
