// A copy restore's files (decision 191): a restore into a copy beside the live database
// (decision 169) left the backup's files part out, and the uploads that go with the copy's rows
// — the attachment a user deleted yesterday — had to be dug out of the archive by hand. With
// RESTORE_COPY_FILES_DIR, the files part is extracted there, into a directory named as the copy
// database, and goes when the copy is dropped (now or when its time is up). Never inside
// FILES_DIR: the application serves and backs up what is there.
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { extractTarInto, type DiskCheck } from "./files";
import { filesFit, type FilesDiskPlan } from "./files-disk";
import { formatBytes } from "../format";
import { isWithin } from "../path-within";
import type { BackupContext } from "./context";

/** Where a copy restore of this target puts the backup's files, or why it puts them nowhere. */
export function filesCopyDirFor(ctx: Pick<BackupContext, "restoreCopyFilesDir" | "filesDir">): { dir: string; notRestored?: undefined } | { dir: null; notRestored: string } {
  const dir = ctx.restoreCopyFilesDir;
  if (!dir) {
    return {
      dir: null,
      notRestored: "The backup's files part was not restored: a copy restores the database only unless RESTORE_COPY_FILES_DIR names a directory for its files, and FILES_DIR is as it was.",
    };
  }
  // A target's own files directory is its settings', which the environment's check cannot see.
  if (ctx.filesDir && isWithin(dir, ctx.filesDir)) {
    return {
      dir: null,
      notRestored: `The backup's files part was not restored: RESTORE_COPY_FILES_DIR (${path.resolve(dir)}) is inside this target's files directory (${path.resolve(ctx.filesDir)}), which the application serves and backs up. FILES_DIR is as it was.`,
    };
  }
  return { dir };
}

/** Where a copy's files go: `<dir>/<copy database>`. */
export function filesCopyPath(dir: string, copyDatabase: string): string {
  return path.join(path.resolve(dir), copyDatabase);
}

/** The extraction until it is complete: never taken for a finished copy. */
const partialPath = (dir: string, copyDatabase: string) => path.join(path.resolve(dir), `.${copyDatabase}.partial`);

/**
 * Extracts the files part into `<dir>/.<copy>.partial`, then renames it to `<dir>/<copy>`: a
 * crash or a failure leaves no directory that looks complete (the partial one is removed).
 * Answers the finished directory.
 */
export async function extractFilesCopy(dir: string, copyDatabase: string, tar: Readable, opts: { checkDisk?: DiskCheck } = {}): Promise<string> {
  const to = filesCopyPath(dir, copyDatabase);
  const partial = partialPath(dir, copyDatabase);
  await mkdir(path.resolve(dir), { recursive: true });
  await rm(partial, { recursive: true, force: true });
  try {
    await extractTarInto(tar, partial, opts);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
  await rename(partial, to);
  return to;
}

/** Removes a copy's files, finished or partial. Answers whether there were any. */
export async function removeFilesCopy(dir: string, copyDatabase: string): Promise<boolean> {
  const to = filesCopyPath(dir, copyDatabase);
  const had = (await stat(to).catch(() => null)) !== null;
  await rm(to, { recursive: true, force: true });
  return (await removePartialFilesCopy(dir, copyDatabase)) || had;
}

/** Removes an extraction a crash cut short, keeping a finished one. Answers whether there was one. */
export async function removePartialFilesCopy(dir: string, copyDatabase: string): Promise<boolean> {
  const partial = partialPath(dir, copyDatabase);
  const had = (await stat(partial).catch(() => null)) !== null;
  await rm(partial, { recursive: true, force: true });
  return had;
}

/** Why the copy's files are not restored: they will not fit above the reserve; null when they fit or the disk was not measured. */
export function filesCopyDiskProblem(plan: FilesDiskPlan): string | null {
  if (filesFit(plan)) return null;
  return (
    `The backup's files need about ${formatBytes(plan.neededBytes)} in RESTORE_COPY_FILES_DIR (${plan.dir}), whose disk has ${formatBytes(plan.freeBytes)} free, ` +
    `and a restore keeps ${formatBytes(plan.reserveBytes)} of it free (DISK_RESERVE_MB). Free space on that disk (or lower DISK_RESERVE_MB), and restore again`
  );
}
