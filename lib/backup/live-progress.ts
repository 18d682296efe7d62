// How far a restore's database part has got, read by its heartbeat (decision 136). The
// producer (the streamed restore, or the in-place apply) hands over counters it already
// keeps; nothing is counted twice and nothing is written per chunk.

export interface LiveProgress {
  /**
   * What the counts are bytes of: pg_dump's archive as the restore spools it (the streamed
   * swap restore), or the stored object as it is read (where nothing is spooled, what is read
   * is what is applied: the pipes between wait for the database).
   */
  unit: "archive" | "stored";
  /** Read in: through the checksum, decryption and decompression. */
  read(): number;
  /** Whose rows are in the database (or, unit "stored", applied). */
  loaded(): number;
  /**
   * Once every row is in: the indexes and constraints made, of those the archive has (the
   * streamed swap restore's last step, decision 157); null before, and where not counted.
   */
  items?(): { made: number; of: number } | null;
}

/** The counts as a restore row stores them, each at most `total` (the last chunk may overshoot an estimate). */
export function progressColumns(p: LiveProgress, total: number): { readBytes: bigint; loadedBytes: bigint; totalBytes: bigint } {
  const clamp = (n: number) => BigInt(Math.max(0, Math.min(Math.floor(n), total)));
  return { readBytes: clamp(p.read()), loadedBytes: clamp(p.loaded()), totalBytes: BigInt(total) };
}
