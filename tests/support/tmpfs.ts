// Real small disks for the tests that fill one: tmpfs mounts of a set size. Mounting needs
// root (as `.ci/run` runs); elsewhere those tests are skipped, and say so.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const PAGE = 4096;

export const mountTmpfs = (dir: string, bytes: number) => execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir]);

/** A tmpfs's size is set in whole pages. */
export const resizeTmpfs = (dir: string, bytes: number) => execFileSync("mount", ["-o", `remount,size=${Math.ceil(bytes / PAGE) * PAGE}`, dir]);

export const canMountTmpfs = (() => {
  const dir = mkdtempSync(path.join(tmpdir(), "vaultline-mount-probe-"));
  try {
    mountTmpfs(dir, 1 << 20);
    execFileSync("umount", [dir]);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
})();

/** Unmounts (lazily: a server may still hold a file) and removes the mount point. */
export function unmountTmpfs(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir]);
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}
