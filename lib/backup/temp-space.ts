// The swap restore spools the decompressed archive to a private file in the OS temp dir
// (dump.ts, streamed-restore.ts): as large as pg_dump's archive of the whole database. A temp
// disk without that room failed the restore with ENOSPC once the spool filled it — after the
// safety backup, maybe an hour in, with an error naming a file no one knew about. The room is
// measured before anything is touched (the preview shows it), and again just before the spool.
import { statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { formatBytes } from "../format";
import type { ManifestPart } from "./manifest";

/** Beside the spool: its list files, and the S3 parts of a backup that starts meanwhile (decision 107). */
export const SPOOL_HEADROOM_BYTES = 64 * 1024 * 1024;

export interface TempSpace {
  dir: string;
  /** The decompressed archive plus SPOOL_HEADROOM_BYTES. */
  neededBytes: number;
  /** Available to this process (statfs `bavail`); null when the directory could not be measured. */
  freeBytes: number | null;
}

/**
 * What the spool holds: the bytes the codec was given (pg_dump's archive), or, for a part
 * written before issue 14 (no codec, pg_dump compressed it itself), the decrypted bytes.
 */
export function spoolBytes(part: Pick<ManifestPart, "compression" | "plainSizeBytes">): number {
  return part.compression?.inputBytes ?? part.plainSizeBytes;
}

/** `dir` defaults to where the spool goes: os.tmpdir(), read now (TMPDIR moves it). */
export async function measureTempSpace(part: Pick<ManifestPart, "compression" | "plainSizeBytes">, dir = tmpdir()): Promise<TempSpace> {
  const freeBytes = await statfs(dir).then(
    (s) => s.bavail * s.bsize,
    () => null,
  );
  return { dir, neededBytes: spoolBytes(part) + SPOOL_HEADROOM_BYTES, freeBytes };
}

/** Why the spool would not fit, or null. An unmeasured directory is not a refusal: mkdtemp says what is wrong with it. */
export function tempSpaceProblem(s: TempSpace): string | null {
  if (s.freeBytes === null || s.freeBytes >= s.neededBytes) return null;
  return (
    `The restore writes the decompressed backup to a temporary file in ${s.dir} and needs ${formatBytes(s.neededBytes)} free there; ` +
    `${formatBytes(s.freeBytes)} ${s.freeBytes === 1 ? "is" : "are"} free (${formatBytes(s.neededBytes - s.freeBytes)} short). Free space there, or set TMPDIR to a disk with room, and restore again`
  );
}
