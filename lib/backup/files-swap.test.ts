// The files swap at every point a crash can stop it: recovery leaves FILES_DIR wholly old
// or wholly new, never empty, half-extracted or mixed.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { recoverFilesSwaps } from "./files-swap";

let root: string;
let live: string;
const id = "r1";

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await readdir(dir)) out[f] = await readFile(path.join(dir, f), "utf8");
  return out;
}

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vaultline-files-swap-"));
  live = path.join(root, "uploads");
  await mkdir(live);
  await writeFile(path.join(live, "a.txt"), "old");
});
afterEach(async () => rm(root, { recursive: true, force: true }));

async function extracted(complete: boolean) {
  await mkdir(`${live}.restore-${id}`);
  await writeFile(path.join(`${live}.restore-${id}`, "b.txt"), "new");
  if (complete) await writeFile(`${live}.restore-${id}.ready`, "");
}

describe("recoverFilesSwaps", () => {
  it("crash mid-extraction: the half-extracted copy is discarded, the old directory stays", async () => {
    await extracted(false);
    expect(await recoverFilesSwaps(live)).toEqual([`files swap ${id} rolled back`]);
    expect(await tree(live)).toEqual({ "a.txt": "old" });
    expect(await readdir(root)).toEqual(["uploads"]);
  });

  it("crash after the extraction completed, before any rename: the swap is finished", async () => {
    await extracted(true);
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual({ "b.txt": "new" });
    expect(await readdir(root)).toEqual(["uploads"]);
  });

  it("crash between the two renames (no live directory at all): the swap is finished", async () => {
    await extracted(true);
    await rename(live, `${live}.before-${id}`);
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual({ "b.txt": "new" });
    expect(await readdir(root)).toEqual(["uploads"]);
  });

  it("crash after both renames, before cleanup: the old copy is removed", async () => {
    await extracted(true);
    await rename(live, `${live}.before-${id}`);
    await rename(`${live}.restore-${id}`, live);
    await recoverFilesSwaps(live);
    expect(await tree(live)).toEqual({ "b.txt": "new" });
    expect(await readdir(root)).toEqual(["uploads"]);
  });

  it("nothing to do when no swap was interrupted", async () => {
    expect(await recoverFilesSwaps(live)).toEqual([]);
    expect(await tree(live)).toEqual({ "a.txt": "old" });
  });
});
