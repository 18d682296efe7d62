// The files part of a restore, swapped in so that a crash at any moment leaves FILES_DIR
// wholly old or wholly new: the archive is extracted beside the live directory, a marker
// says the extraction is complete, and only then is the live directory moved aside and the
// new one moved in. On start, recoverFilesSwaps() finishes a swap whose marker exists and
// discards one whose extraction never completed.
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { extractTarInto } from "./files";

const names = (live: string, id: string) => ({
  fresh: `${live}.restore-${id}`,
  ready: `${live}.restore-${id}.ready`,
  old: `${live}.before-${id}`,
});

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return false;
      throw e;
    },
  );
}

async function finish(live: string, id: string): Promise<void> {
  const n = names(live, id);
  if (await exists(n.fresh)) {
    if (await exists(live)) {
      if (await exists(n.old)) await rm(n.old, { recursive: true, force: true });
      await rename(live, n.old);
    }
    await rename(n.fresh, live);
  }
  await rm(n.ready, { force: true });
  await rm(n.old, { recursive: true, force: true });
}

/** Extracts tar into a directory beside filesDir, then swaps it in. */
export async function swapInFiles(filesDir: string, restoreId: string, tar: Readable): Promise<void> {
  const live = path.resolve(filesDir);
  const n = names(live, restoreId);
  await rm(n.fresh, { recursive: true, force: true });
  await extractTarInto(tar, n.fresh);
  await writeFile(n.ready, "", { flush: true });
  await finish(live, restoreId);
}

/** Completes or rolls back swaps a crash interrupted. Answers what it did, for the log. */
export async function recoverFilesSwaps(filesDir: string): Promise<string[]> {
  const live = path.resolve(filesDir);
  const parent = path.dirname(live);
  const base = path.basename(live);
  let entries: string[];
  try {
    entries = await readdir(parent);
  } catch {
    return [];
  }
  const done: string[] = [];
  const ids = new Set<string>();
  for (const e of entries) {
    const m = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(restore|before)-([A-Za-z0-9_-]+)(\\.ready)?$`).exec(e);
    if (m) ids.add(m[2]);
  }
  for (const id of ids) {
    const n = names(live, id);
    if (await exists(n.ready)) {
      await finish(live, id);
      done.push(`files swap ${id} finished`);
    } else {
      await rm(n.fresh, { recursive: true, force: true });
      if (await exists(n.old)) {
        if (await exists(live)) await rm(n.old, { recursive: true, force: true });
        else await rename(n.old, live);
      }
      done.push(`files swap ${id} rolled back`);
    }
  }
  if (done.length) await mkdir(live, { recursive: true });
  return done;
}
