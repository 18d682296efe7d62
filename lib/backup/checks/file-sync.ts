// File sync: rows that point at files which are not on disk, and files on disk that no
// row points at. Seed 004's broken images came from restoring the database and the
// uploads directory from different moments; both directions show that mismatch.
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import {
  FILE_SYNC_SAMPLE_SIZE,
  type FileSyncDetails,
  type FileSyncEntry,
  type FileSyncResult,
} from "../../validation/checks";
import { errorMessage, quoteIdent, quoteTable, readOnlyOnce } from "./read-only";

/** Every regular file under dir, as a POSIX path relative to dir. Symlinked directories are not followed (loops). */
export async function listFiles(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  async function walk(abs: string, rel: string) {
    for (const d of await readdir(abs, { withFileTypes: true })) {
      const a = path.join(abs, d.name);
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) await walk(a, r);
      else if (d.isFile()) out.add(r);
      else if (d.isSymbolicLink() && (await stat(a).catch(() => null))?.isFile()) out.add(r);
    }
  }
  await walk(dir, "");
  return out;
}

/**
 * The path relative to dir that a column value refers to, or null when the value is
 * not under the prefix (an external URL, say) and so not this check's business.
 */
export function relativePath(value: string, prefix?: string): string | null {
  let v = value.trim();
  if (prefix) {
    if (!v.startsWith(prefix)) return null;
    const rest = v.slice(prefix.length);
    // "/uploads/ads" must not claim "/uploads/ads-old/x.webp".
    if (!prefix.endsWith("/") && rest !== "" && !rest.startsWith("/")) return null;
    v = rest;
  }
  v = v.replace(/\\/g, "/").replace(/^\/+/, "");
  // A value escaping dir ("../x") normalises to a path no file in dir has: reported missing.
  return path.posix.normalize(v);
}

// Dotfiles (.gitkeep, .DS_Store) live in upload folders without being uploads.
const isHidden = (rel: string) => rel.split("/").some((s) => s.startsWith("."));

async function referencedValues(url: string, entry: FileSyncEntry): Promise<string[]> {
  const col = quoteIdent(entry.column);
  return readOnlyOnce(url, entry.timeoutMs, async (client) => {
    const r = await client.query<{ v: unknown }>(
      `SELECT DISTINCT ${col} AS v FROM ${quoteTable(entry.table)} WHERE ${col} IS NOT NULL`,
    );
    // Array columns (text[] of image paths) are common; each element is a reference.
    return r.rows
      .flatMap((row) => (Array.isArray(row.v) ? row.v : [row.v]))
      .filter((v) => v !== null && v !== undefined)
      .map(String)
      .filter((v) => v.trim() !== "");
  });
}

const files = (n: number) => (n === 1 ? "1 file" : `${n} files`);

async function checkEntry(url: string, entry: FileSyncEntry, base: FileSyncDetails) {
  const dirStat = await stat(entry.dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new Error(`directory ${entry.dir} does not exist`);
  const [values, onDisk] = await Promise.all([referencedValues(url, entry), listFiles(entry.dir)]);

  const referenced = new Set<string>();
  const missing = new Set<string>();
  let skipped = 0;
  for (const value of values) {
    const rel = relativePath(value, entry.prefix);
    if (rel === null) {
      skipped++;
      continue;
    }
    referenced.add(rel);
    if (!onDisk.has(rel)) missing.add(value);
  }
  const orphans = [...onDisk].filter((f) => !referenced.has(f) && !isHidden(f)).sort();
  const missingList = [...missing].sort();

  const ref = `${entry.table}.${entry.column}`;
  const status: FileSyncResult["status"] = missingList.length ? "fail" : orphans.length ? "warn" : "pass";
  const parts: string[] = [];
  if (missingList.length) parts.push(`${files(missingList.length)} referenced by ${ref} missing from ${entry.dir}`);
  if (orphans.length) parts.push(`${files(orphans.length)} in ${entry.dir} not referenced by ${ref}`);
  const summary =
    status === "pass"
      ? `Every file referenced by ${ref} (${referenced.size}) exists in ${entry.dir}, and every file there is referenced.`
      : `${parts.join("; ")}.`.replace(/^./, (c) => c.toUpperCase());
  return {
    status,
    summary,
    details: {
      ...base,
      referenced: referenced.size,
      filesOnDisk: onDisk.size,
      skipped,
      missingCount: missingList.length,
      orphanCount: orphans.length,
      missing: missingList.slice(0, FILE_SYNC_SAMPLE_SIZE),
      orphans: orphans.slice(0, FILE_SYNC_SAMPLE_SIZE),
    },
  };
}

export async function runFileSync(url: string, entries: FileSyncEntry[]): Promise<FileSyncResult[]> {
  const results: FileSyncResult[] = [];
  for (const entry of entries) {
    const started = performance.now();
    const base: FileSyncDetails = {
      ...(entry.description ? { description: entry.description } : {}),
      table: entry.table,
      column: entry.column,
      dir: entry.dir,
      ...(entry.prefix !== undefined ? { prefix: entry.prefix } : {}),
    };
    const head = { id: `files:${entry.name}`, name: entry.name, kind: "files" as const };
    try {
      const r = await checkEntry(url, entry, base);
      results.push({ ...head, ...r, durationMs: Math.round(performance.now() - started) });
    } catch (e) {
      const error = errorMessage(e, entry.timeoutMs);
      results.push({
        ...head,
        status: "error",
        summary: `${entry.name} could not run: ${error}`,
        details: { ...base, error },
        durationMs: Math.round(performance.now() - started),
      });
    }
  }
  return results;
}
