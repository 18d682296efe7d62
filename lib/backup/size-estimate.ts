// An upper estimate of the next archive's stored size, so S3 can size its multipart parts
// before the first byte (storage/part-size.ts). pg_database_size counts indexes, dead
// tuples and free space that a compressed custom-format archive never carries, so it is
// the safe bound; the previous archive × headroom covers a database whose size cannot be
// read (no permission on a managed service). The larger of the two wins.
import { withStatementTimeout, type Session } from "./pg-client";
import type { Db } from "../db";

/** Growth allowed between two backups before the estimate from the last one could run short. */
export const PREVIOUS_ARCHIVE_HEADROOM = 4;

export async function databaseSizeBytes(url: Session): Promise<number | null> {
  return withStatementTimeout(
    url,
    10_000,
    async (client) => Number((await client.query<{ n: string }>("SELECT pg_database_size(current_database())::text AS n")).rows[0].n),
    "vaultline-inspect",
  ).catch(() => null);
}

export function estimateArchiveBytes(databaseBytes: number | null, previousArchiveBytes: number | null): number | null {
  const fromPrevious = previousArchiveBytes === null ? null : previousArchiveBytes * PREVIOUS_ARCHIVE_HEADROOM;
  if (databaseBytes === null) return fromPrevious;
  return fromPrevious === null ? databaseBytes : Math.max(databaseBytes, fromPrevious);
}

/** The stored size of the target's newest successful FULL backup (absent = `default`), or null. */
export async function previousArchiveBytes(db: Pick<Db, "backupJob">, targetId = "default"): Promise<number | null> {
  const previous = await db.backupJob.findFirst({
    where: { kind: "FULL", status: "SUCCEEDED", sizeBytes: { not: null }, targetId },
    orderBy: { completedAt: "desc" },
    select: { sizeBytes: true },
  });
  return previous?.sizeBytes == null ? null : Number(previous.sizeBytes);
}
