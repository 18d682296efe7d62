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

type CopyFilesSetting = Pick<BackupContext, "restoreCopyFilesDir" | "restoreCopyFilesDirSetBy" | "filesDir">;

/** The setting that named the directory, for the words: the target's own or the environment's. */
export function copyFilesSettingName(ctx: Pick<BackupContext, "restoreCopyFilesDirSetBy">): string {
  return ctx.restoreCopyFilesDirSetBy === "target" ? "the target's copy files directory" : "RESTORE_COPY_FILES_DIR";
}

/** Where a copy restore of this target puts the backup's files, or why it puts them nowhere. */
export function filesCopyDirFor(ctx: CopyFilesSetting): { dir: string; notRestored?: undefined } | { dir: null; notRestored: string } {
  const dir = ctx.restoreCopyFilesDir;
  if (!dir) {
    return {
      dir: null,
      notRestored:
        "The backup's files part was not restored: a copy restores the database only unless a directory is named for its files (RESTORE_COPY_FILES_DIR, or the target's settings: A restore into a copy puts the files in), and FILES_DIR is as it was.",
    };
  }
  // A target's own files directory is its settings', which the environment's check cannot see.
  if (ctx.filesDir && isWithin(dir, ctx.filesDir)) {
    return {
      dir: null,
      notRestored: `The backup's files part was not restored: ${copyFilesSettingName(ctx)} (${path.resolve(dir)}) is inside this target's files directory (${path.resolve(ctx.filesDir)}), which the application serves and backs up. FILES_DIR is as it was.`,
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

/**
 * Removes a dropped copy's files, and answers where they were (null: there were none). Taken
 * from where the restore recorded them (decision 192), so a RESTORE_COPY_FILES_DIR changed
 * since does not leave them behind, but only a directory named as the copy and never inside
 * the target's files directory; a restore before decision 192 recorded none, and today's
 * setting says where they would be.
 */
export async function removeCopyFiles(
  ctx: CopyFilesSetting,
  r: { previousDatabase: string | null; copyFilesPath?: string | null },
): Promise<string | null> {
  const copy = r.previousDatabase;
  if (!copy) return null;
  const recorded = r.copyFilesPath && path.basename(r.copyFilesPath) === copy && !(ctx.filesDir && isWithin(r.copyFilesPath, ctx.filesDir)) ? path.dirname(r.copyFilesPath) : null;
  const dirs = [...new Set([recorded, filesCopyDirFor(ctx).dir].filter((d): d is string => !!d).map((d) => path.resolve(d)))];
  let removed: string | null = null;
  for (const dir of dirs) if ((await removeFilesCopy(dir, copy)) && !removed) removed = filesCopyPath(dir, copy);
  return removed;
}

/** Removes an extraction a crash cut short, keeping a finished one. Answers whether there was one. */
export async function removePartialFilesCopy(dir: string, copyDatabase: string): Promise<boolean> {
  const partial = partialPath(dir, copyDatabase);
  const had = (await stat(partial).catch(() => null)) !== null;
  await rm(partial, { recursive: true, force: true });
  return had;
}

/** Why the copy's files are not restored: they will not fit above the reserve; null when they fit or the disk was not measured. */
export function filesCopyDiskProblem(plan: FilesDiskPlan, setting = "RESTORE_COPY_FILES_DIR"): string | null {
  if (filesFit(plan)) return null;
  return (
    `The backup's files need about ${formatBytes(plan.neededBytes)} in ${setting} (${plan.dir}), whose disk has ${formatBytes(plan.freeBytes)} free, ` +
    `and a restore keeps ${formatBytes(plan.reserveBytes)} of it free (DISK_RESERVE_MB). Free space on that disk (or lower DISK_RESERVE_MB), and restore again`
  );
}
