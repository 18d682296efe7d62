import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { removeOrphanSpools, restoreSpoolPrefix } from "./restore-spool";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "spool-sweep-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function spool(restoreId: string, suffix: string, ageHours = 0) {
  const d = path.join(dir, `${restoreSpoolPrefix(restoreId)}${suffix}`);
  await mkdir(d);
  await writeFile(path.join(d, "archive.dump"), "x");
  const t = new Date(Date.now() - ageHours * 3600_000);
  await utimes(d, t, t);
  return path.basename(d);
}

describe("removeOrphanSpools", () => {
  it("removes the spools of finished restores, keeps running and queued ones, and leaves other files alone", async () => {
    const failed = await spool("cmfailed01", "AbC123");
    const running = await spool("cmrunning1", "XyZ789");
    const queued = await spool("cmqueued01", "Qq1234");
    await mkdir(path.join(dir, "vaultline-parts-AAAAAA"));
    await writeFile(path.join(dir, "vaultline-restore-notes.txt"), "not a spool");
    const states = new Map([
      ["cmfailed01", "FAILED"],
      ["cmrunning1", "RUNNING"],
      ["cmqueued01", "QUEUED"],
    ]);
    const asked: string[][] = [];
    const removed = await removeOrphanSpools(async (ids) => (asked.push(ids), states), dir);
    expect(removed).toEqual([failed]);
    expect(asked[0].sort()).toEqual(["cmfailed01", "cmqueued01", "cmrunning1"]);
    expect((await readdir(dir)).sort()).toEqual([queued, running, "vaultline-parts-AAAAAA", "vaultline-restore-notes.txt"].sort());
  });

  it("a spool naming a restore the catalogue does not know goes only after a day", async () => {
    const fresh = await spool("cmunknown1", "Fresh1");
    const old = await spool("cmunknown2", "Old123", 25);
    expect(await removeOrphanSpools(async () => new Map(), dir)).toEqual([old]);
    expect(await readdir(dir)).toEqual([fresh]);
  });

  it("asks nothing when there is nothing to sweep", async () => {
    let asked = false;
    expect(
      await removeOrphanSpools(async () => {
        asked = true;
        return new Map();
      }, dir),
    ).toEqual([]);
    expect(asked).toBe(false);
  });
});
