// The S3 parts directories a killed upload process leaves behind (s3-spooled-upload.ts):
// removed once their process is gone and they have not changed for half an hour; a live
// process's, a fresh one's and anything not named like ours stay.
import { mkdir, mkdtemp, readdir, rename, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { partsDirPrefix, processAlive, removeDeadUploadSpools } from "./s3-spooled-upload";

let dir = "";
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function make(name: string, ageMs: number, now: number): Promise<void> {
  const full = path.join(dir, name);
  await mkdir(full);
  await writeFile(path.join(full, "part-1"), "x".repeat(1024));
  const t = new Date(now - ageMs);
  await utimes(full, t, t);
}

describe("removeDeadUploadSpools", () => {
  it("removes a dead process's directory after 30 minutes unchanged, and nothing else", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "upload-spool-test-"));
    const now = Date.now();
    const dead = spawnSync("true").pid!;
    expect(processAlive(dead)).toBe(false);
    await make(`vaultline-parts-${dead}-AbC123`, 31 * 60_000, now); // gone
    await make(`vaultline-parts-${dead}-Fresh1`, 5 * 60_000, now); // dead but changed recently
    await make(`vaultline-parts-${process.pid}-Mine12`, 48 * 3600_000, now); // this process
    await make(`vaultline-parts-1-Init12`, 48 * 3600_000, now); // pid 1 runs
    await make(`vaultline-parts-Old123`, 25 * 3600_000, now); // before the pid was in the name
    await make(`vaultline-parts-New123`, 2 * 3600_000, now);
    await make(`vaultline-restore-x-AbC123`, 48 * 3600_000, now); // not ours to judge
    const removed = await removeDeadUploadSpools(dir, now);
    expect(removed.sort()).toEqual([`vaultline-parts-${dead}-AbC123`, "vaultline-parts-Old123"].sort());
    expect((await readdir(dir)).sort()).toEqual(
      [`vaultline-parts-${dead}-Fresh1`, `vaultline-parts-${process.pid}-Mine12`, "vaultline-parts-1-Init12", "vaultline-parts-New123", "vaultline-restore-x-AbC123"].sort(),
    );
  });

  it("recognises the directories an upload makes: this process's are kept, the same name from a dead process goes", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "upload-spool-test-"));
    const made = path.basename(await mkdtemp(partsDirPrefix(dir)));
    const later = Date.now() + 31 * 60_000;
    expect(await removeDeadUploadSpools(dir, later, () => false)).toEqual([]);
    const dead = spawnSync("true").pid!;
    const orphan = made.replace(`-${process.pid}-`, `-${dead}-`);
    await rename(path.join(dir, made), path.join(dir, orphan));
    expect(await removeDeadUploadSpools(dir, later)).toEqual([orphan]);
  });

  it("asks whether the process runs: kept while it does, removed once it does not", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "upload-spool-test-"));
    const now = Date.now();
    await make("vaultline-parts-4242-AbC123", 48 * 3600_000, now);
    expect(await removeDeadUploadSpools(dir, now, () => true)).toEqual([]);
    expect(await removeDeadUploadSpools(dir, now, () => false)).toEqual(["vaultline-parts-4242-AbC123"]);
  });
});
