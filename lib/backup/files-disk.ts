// A restore's files part is extracted inside FILES_DIR beside the files there now, which are
// kept until the new ones are all in place (files-swap.ts): for a while FILES_DIR's disk holds
// both. That disk is usually the application's own (its uploads), and full, the application
// cannot save an upload either. So the restore measures it before anything changes and
// refuses when the files part will not fit above DISK_RESERVE_MB; the extraction then looks
// at it every so often and stops before the reserve goes (decision 161).
import { stat } from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../format";
import { diskSpace } from "./disk-reserve";
import type { ManifestPart } from "./manifest";

export interface FilesDiskPlan {
  /** FILES_DIR, where the files part is extracted. */
  dir: string;
  /** The files part's tar: what the extracted files take, within the tar's headers and padding. */
  neededBytes: number;
  /** Free space for a writer that is not root; null when the disk could not be measured. */
  freeBytes: number | null;
  totalBytes: number | null;
  reserveBytes: number;
}

/** The files part's tar bytes (the files part is written without a codec; a codec's input is the tar). */
export const filesPartBytes = (part: Pick<ManifestPart, "plainSizeBytes" | "compression">): number =>
  part.compression && part.compression.codec !== "none" ? part.compression.inputBytes : part.plainSizeBytes;

/** The nearest directory that exists, from `dir` up: a recovery instance's FILES_DIR may not exist yet. */
async function existingDir(dir: string): Promise<string> {
  let d = path.resolve(dir);
  for (;;) {
    if ((await stat(d).catch(() => null))?.isDirectory()) return d;
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
}

export async function planFilesDisk(filesDir: string, part: Pick<ManifestPart, "plainSizeBytes" | "compression">, reserveBytes: number): Promise<FilesDiskPlan> {
  const space = await diskSpace(await existingDir(filesDir));
  return { dir: path.resolve(filesDir), neededBytes: filesPartBytes(part), freeBytes: space?.freeBytes ?? null, totalBytes: space?.totalBytes ?? null, reserveBytes };
}

/** The files part fits above the reserve, or the disk was not measured. */
export function filesFit(plan: FilesDiskPlan): boolean {
  return plan.freeBytes === null || plan.freeBytes - plan.reserveBytes >= plan.neededBytes;
}

/** Why the restore refuses: the files part will not fit on FILES_DIR's disk above the reserve; null when it fits or the disk was not measured. */
export function filesDiskProblem(plan: FilesDiskPlan): string | null {
  if (filesFit(plan)) return null;
  return (
    `The backup's files need about ${formatBytes(plan.neededBytes)} in FILES_DIR (${plan.dir}), whose disk has ${formatBytes(plan.freeBytes)} free, ` +
    `and a restore keeps ${formatBytes(plan.reserveBytes)} of it free (DISK_RESERVE_MB) — the files there now stay until the new ones are all in place. ` +
    `Free space on that disk (or lower DISK_RESERVE_MB), and restore again`
  );
}
