// The swap restore spools the decompressed archive to a private temp directory
// (dump.ts, streamed-restore.ts) and removes it when done. A restore process killed with
// -9 cannot: its directory — as large as the database's archive — would stay in the temp
// dir until reboot, and the next backups' S3 parts spool there too. The directory is named
// after its restore, and the restore housekeeping removes the ones whose restore is over.
import { readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

const PREFIX = "vaultline-restore-";
/** mkdtemp adds six characters. */
const NAME = /^vaultline-restore-([A-Za-z0-9_]+)-[A-Za-z0-9]{6}$/;
/** A directory naming no restore this catalogue knows is left alone this long (another install may share the temp dir). */
const FOREIGN_AFTER_MS = 24 * 3600_000;

export function restoreSpoolPrefix(restoreId: string): string {
  return `${PREFIX}${restoreId}-`;
}

/**
 * Removes spool directories of restores that are no longer running. `states` answers, for
 * restore ids, the status of those the catalogue knows. Answers the directories removed.
 */
export async function removeOrphanSpools(states: (ids: string[]) => Promise<Map<string, string>>, dir = tmpdir(), now = Date.now()): Promise<string[]> {
  const found = new Map<string, string[]>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = NAME.exec(name);
    if (m) found.set(m[1], [...(found.get(m[1]) ?? []), name]);
  }
  if (!found.size) return [];
  const known = await states([...found.keys()]);
  const removed: string[] = [];
  for (const [id, names] of found) {
    const status = known.get(id);
    if (status === "RUNNING" || status === "QUEUED") continue;
    for (const name of names) {
      const full = path.join(dir, name);
      if (status === undefined) {
        const s = await stat(full).catch(() => null);
        if (!s || now - s.mtimeMs < FOREIGN_AFTER_MS) continue;
      }
      await rm(full, { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
