// The files part of a restore, swapped in so that a crash at any moment leaves FILES_DIR
// wholly old or wholly new (decision 161). Everything happens inside FILES_DIR, on its own
// disk: a FILES_DIR that is a mount point of its own (a Docker volume, a Kubernetes volume)
// cannot be renamed ("EBUSY"), and the directory above it is often not Vaultline's to write.
//
//   1. the archive is extracted into FILES_DIR/.vaultline-restore-<id>/;
//   2. the marker .vaultline-restore-<id>.ready says the extraction is complete;
//   3. every entry of FILES_DIR (but Vaultline's own) moves into .vaultline-before-<id>/;
//   4. the marker .vaultline-restore-<id>.moved says the old entries are all aside;
//   5. every entry of the extraction moves up into FILES_DIR;
//   6. the markers go, then the old entries.
//
// Renames within one directory tree on one disk: no data is copied, and the old files are
// kept until the new ones are all in place. On start, recoverFilesSwaps() finishes a swap
// whose extraction was complete and discards one whose extraction was not. Swaps an older
// Vaultline left beside FILES_DIR (FILES_DIR.restore-<id>) are finished or discarded too.
import { constants } from "node:fs";
import { access, lstat, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { extractTarInto, notTheApplications, STAGING_PREFIX, type DiskCheck } from "./files";

const inside = (live: string, id: string) => ({
  fresh: path.join(live, `${STAGING_PREFIX}restore-${id}`),
  ready: path.join(live, `${STAGING_PREFIX}restore-${id}.ready`),
  moved: path.join(live, `${STAGING_PREFIX}restore-${id}.moved`),
  before: path.join(live, `${STAGING_PREFIX}before-${id}`),
});

async function exists(p: string | Buffer): Promise<boolean> {
  return stat(p).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return false;
      throw e;
    },
  );
}

/**
 * Why an entry of FILES_DIR cannot be moved aside, or null: a directory that is a mount of
 * its own (EBUSY), or one this user may not write (moving a directory rewrites its "..").
 * Files need only FILES_DIR itself to be writable, which the extraction already proved.
 */
async function unmovable(live: string, liveDev: number, name: Buffer): Promise<string | null> {
  const p = within(live, name);
  const s = await lstat(p);
  if (!s.isDirectory()) return null;
  const shown = name.toString("utf8");
  if (s.dev !== liveDev) return `${shown}/ is a mount of its own`;
  return access(p, constants.W_OK).then(
    () => null,
    () => `${shown}/ may not be written by Vaultline's user (uid ${process.getuid?.() ?? "?"})`,
  );
}

/**
 * An entry's names as bytes, and its path: names are bytes on Linux, and one that is not
 * UTF-8 read as text names no file (decision 163).
 */
const names = (dir: string) => readdir(dir, { encoding: "buffer" });
const within = (dir: string, name: Buffer) => Buffer.concat([Buffer.from(dir), Buffer.from("/"), name]);

/** Every entry moved aside goes back, and the extraction goes: FILES_DIR as it was. */
async function undo(live: string, id: string): Promise<void> {
  const n = inside(live, id);
  if (await exists(n.before)) {
    for (const e of await names(n.before)) await rename(within(n.before, e), within(live, e));
    await rm(n.before, { recursive: true, force: true });
  }
  await rm(n.fresh, { recursive: true, force: true });
  await rm(n.moved, { force: true });
  await rm(n.ready, { force: true });
}

/**
 * Steps 3 to 6, from wherever a crash stopped them; each is safe to run again. Answers a
 * note when the swap is done but the old files could not all be removed.
 */
async function finish(live: string, id: string): Promise<string | null> {
  const n = inside(live, id);
  if (!(await exists(n.moved))) {
    // Nothing is moved unless everything can be: half the old entries aside is the one state
    // the swap must never leave.
    const liveDev = (await stat(live)).dev;
    const entries = (await names(live)).filter((e) => !notTheApplications(e.toString("utf8")));
    const problems = (await Promise.all(entries.map((e) => unmovable(live, liveDev, e)))).filter((p): p is string => p !== null);
    if (problems.length) {
      await undo(live, id);
      throw new Error(
        `The files were not swapped in: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `, and ${problems.length - 3} more` : ""}. FILES_DIR keeps the files it had`,
      );
    }
    await mkdir(n.before, { recursive: true });
    try {
      for (const e of entries) await rename(within(live, e), within(n.before, e));
    } catch (e) {
      await undo(live, id);
      throw new Error(`The files were not swapped in: ${(e as Error).message}. FILES_DIR keeps the files it had`);
    }
    await writeFile(n.moved, "", { flush: true });
  }
  if (await exists(n.fresh)) {
    for (const e of await names(n.fresh)) {
      const to = within(live, e);
      // Made in FILES_DIR while the old entries were aside (an upload saved meanwhile): it goes
      // with them, as a write into the old directory would have gone with it.
      if (await exists(to)) await rename(to, within(n.before, Buffer.concat([e, Buffer.from(`.written-during-restore-${Date.now()}`)])));
      await rename(within(n.fresh, e), to);
    }
  }
  await rm(n.moved, { force: true });
  await rm(n.ready, { force: true });
  return removeOld(live, id);
}

/** The old entries and the empty extraction directory go; a failure is a note, not a failed swap. */
async function removeOld(live: string, id: string): Promise<string | null> {
  const n = inside(live, id);
  try {
    await rm(n.before, { recursive: true, force: true });
    await rm(n.fresh, { recursive: true, force: true });
    return null;
  } catch (e) {
    return `The files were restored, but the files from before the restore could not all be removed from ${n.before} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): remove it by hand`;
  }
}

/**
 * Extracts tar inside filesDir, then swaps it in. `checkDisk` is called as the extraction
 * grows (files.ts); when it throws, or the extraction fails otherwise, the partial copy is
 * removed and FILES_DIR is as it was. Answers a note when the files were swapped in but the
 * old ones could not all be removed.
 */
export async function swapInFiles(filesDir: string, restoreId: string, tar: Readable, opts: { checkDisk?: DiskCheck } = {}): Promise<string | null> {
  const live = path.resolve(filesDir);
  const n = inside(live, restoreId);
  await mkdir(live, { recursive: true });
  await rm(n.fresh, { recursive: true, force: true });
  try {
    await extractTarInto(tar, n.fresh, { checkDisk: opts.checkDisk });
  } catch (e) {
    await rm(n.fresh, { recursive: true, force: true });
    throw e;
  }
  await writeFile(n.ready, "", { flush: true });
  return finish(live, restoreId);
}

/** Completes or rolls back swaps a crash interrupted. Answers what it did, for the log. */
export async function recoverFilesSwaps(filesDir: string): Promise<string[]> {
  const live = path.resolve(filesDir);
  const done = await recoverBesideSwaps(live);
  let entries: string[];
  try {
    entries = await readdir(live);
  } catch {
    return done;
  }
  const ids = new Set<string>();
  for (const e of entries) {
    const m = /^\.vaultline-(?:restore|before)-([A-Za-z0-9_-]+)(?:\.ready|\.moved)?$/.exec(e);
    if (m) ids.add(m[1]);
  }
  for (const id of ids) {
    const n = inside(live, id);
    if (await exists(n.ready)) {
      try {
        const note = await finish(live, id);
        done.push(note ? `files swap ${id} finished; ${note}` : `files swap ${id} finished`);
      } catch (e) {
        done.push(`files swap ${id} rolled back: ${(e as Error).message}`);
      }
    } else if (await exists(n.before)) {
      // The markers go before the old entries: the swap had finished, its cleanup had not.
      const note = await removeOld(live, id);
      done.push(note ? `files swap ${id}: ${note}` : `files swap ${id} cleaned up`);
    } else {
      await rm(n.fresh, { recursive: true, force: true });
      done.push(`files swap ${id} rolled back`);
    }
  }
  return done;
}

/** Swaps an older Vaultline staged beside FILES_DIR (FILES_DIR.restore-<id>, .ready, FILES_DIR.before-<id>). */
async function recoverBesideSwaps(live: string): Promise<string[]> {
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
    const fresh = `${live}.restore-${id}`;
    const ready = `${live}.restore-${id}.ready`;
    const old = `${live}.before-${id}`;
    if (await exists(ready)) {
      try {
        if (await exists(fresh)) {
          if (await exists(live)) {
            if (await exists(old)) await rm(old, { recursive: true, force: true });
            await rename(live, old);
          }
          await rename(fresh, live);
        }
      } catch (e) {
        // A FILES_DIR of its own mount cannot be renamed (EBUSY), nor the copy beside it moved
        // onto it (EXDEV): the restore that staged it had already said its files failed, and
        // FILES_DIR keeps the files it had.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EBUSY" && code !== "EXDEV") throw e;
        await rm(fresh, { recursive: true, force: true });
        await rm(ready, { force: true });
        done.push(`files swap ${id} discarded: ${live} cannot be renamed (${code}), so it keeps the files it had`);
        continue;
      }
      await rm(ready, { force: true });
      await rm(old, { recursive: true, force: true });
      done.push(`files swap ${id} finished`);
    } else {
      await rm(fresh, { recursive: true, force: true });
      if (await exists(old)) {
        if (await exists(live)) await rm(old, { recursive: true, force: true });
        else await rename(old, live);
      }
      done.push(`files swap ${id} rolled back`);
    }
  }
  if (done.length) await mkdir(live, { recursive: true });
  return done;
}
