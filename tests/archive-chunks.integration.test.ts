// ChunkMerger (lib/backup/archive-chunks.ts, decision 125): a `pg_dump -Z0` archive's
// per-row data chunks joined, on a database like an application's (owners, partitions, a
// large object, a materialized view) plus a row larger than a merged chunk.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { adminUrl, createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { chunks } from "./support/chunks";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { pgBinary } from "../lib/backup/dump";
import { ChunkMerger, MERGED_CHUNK_BYTES } from "../lib/backup/archive-chunks";
import { archiveHead } from "../lib/backup/archive-offsets";

let url: string;
let piped: Buffer;
let zlib: Buffer;
let dir: string;
const made: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vl-chunks-"));
  url = await createDatabase("chunks_src");
  await buildAppDatabase((u, text) => sql(u, text), adminUrl(), url);
  await sql(url, `CREATE TABLE public.wide AS SELECT g, md5(g::text) AS h, repeat('x', g % 300) AS pad FROM generate_series(1, 20000) g`);
  // Rows larger than a merged chunk: pg_dump writes each as one chunk, passed through whole.
  await sql(url, `CREATE TABLE public.huge AS SELECT g, repeat(md5(g::text), ${(MERGED_CHUNK_BYTES * 3) / 32}) AS body FROM generate_series(1, 3) g`);
  piped = execFileSync("pg_dump", ["-Fc", "-Z0", "--dbname", url], { maxBuffer: 1 << 30 });
  zlib = execFileSync("pg_dump", ["-Fc", "--dbname", url], { maxBuffer: 1 << 30 });
}, 120_000);

afterAll(async () => {
  for (const d of made) await dropDatabase(d).catch(() => undefined);
  if (url) await dropDatabase(url);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function merge(parts: Buffer[], maxToc?: number): Promise<{ out: Buffer; counts: ChunkMerger["counts"] }> {
  const merger = new ChunkMerger(maxToc);
  const got: Buffer[] = [];
  await pipeline(Readable.from(parts), merger, new Writable({ write: (c: Buffer, _e, cb) => (got.push(Buffer.from(c)), cb()) }));
  return { out: Buffer.concat(got), counts: merger.counts };
}

/** The fingerprint without database-level state (pg_restore into a made database does not carry it). */
async function fingerprint(u: string) {
  const all = await catalogFingerprint(sql, u);
  return Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith("database")));
}

let n = 0;
/** What pg_restore makes of an archive: its SQL script, every row of data included. */
async function script(archive: Buffer): Promise<string> {
  const file = path.join(dir, `a${n++}.dump`);
  await writeFile(file, archive);
  const text = execFileSync(pgBinary("pg_restore"), ["-f", "-", file], { maxBuffer: 1 << 30 }).toString();
  // \restrict's key is new each run (PostgreSQL 15.14).
  return text.replace(/^\\(un)?restrict .*$/gm, "");
}

/** Each data block's chunks: their bodies joined, how many, and whether the block ended. */
function blocks(archive: Buffer): { type: number; data: string; chunks: number; ended: boolean }[] {
  const head = archiveHead(archive);
  if (!head || "unreadable" in head) throw new Error("not readable");
  const int = (at: number) => (archive[at] ? -1 : 1) * archive.readUIntLE(at + 1, head.intSize);
  const w = 1 + head.intSize;
  const out: { type: number; data: string; chunks: number; ended: boolean }[] = [];
  let i = head.tocEnd;
  while (i < archive.length) {
    const type = archive[i];
    i += 1 + w;
    const b = { data: [] as Buffer[], chunks: 0, ended: false };
    const chunkList = () => {
      for (;;) {
        if (i + w > archive.length) return false;
        const len = int(i);
        i += w;
        if (len === 0) return true;
        b.data.push(archive.subarray(i, Math.min(i + len, archive.length)));
        b.chunks++;
        i += len;
      }
    };
    if (type === 3) {
      for (;;) {
        if (i + w > archive.length) break;
        const oid = int(i);
        i += w;
        if (oid === 0) { b.ended = true; break; }
        b.data.push(Buffer.from(`oid ${oid}:`));
        if (!chunkList()) break;
      }
    } else b.ended = chunkList();
    // A digest: Vitest compares Buffers element by element, slowly.
    out.push({ type, data: createHash("sha256").update(Buffer.concat(b.data)).digest("hex"), chunks: b.chunks, ended: b.ended });
    if (!b.ended) break; // cut here
  }
  return out;
}

describe("merging a -Z0 archive's data chunks", () => {
  it("gives pg_restore the same archive, data and all, in a fraction of the chunks", async () => {
    for (const seed of [1, 2, 3]) {
      const { out, counts } = await merge(chunks(piped, seed));
      expect(counts.merging).toBe(true);
      const before = blocks(piped);
      const after = blocks(out);
      expect(after.map((b) => b.data)).toEqual(before.map((b) => b.data));
      expect(after.every((b) => b.ended)).toBe(true);
      // Table data only: large objects pass untouched (their chunks are counted apart).
      const dataChunks = (bs: typeof before) => bs.filter((b) => b.type === 1).reduce((s, b) => s + b.chunks, 0);
      const chunksBefore = dataChunks(before);
      const chunksAfter = dataChunks(after);
      expect(before.some((b) => b.type === 3)).toBe(true);
      expect(after.filter((b) => b.type === 3)).toEqual(before.filter((b) => b.type === 3));
      expect(counts.chunksIn).toBe(chunksBefore);
      expect(counts.chunksOut).toBe(chunksAfter);
      expect(chunksAfter * 20).toBeLessThan(chunksBefore);
      // The header and TOC are untouched.
      const h = archiveHead(piped) as { tocEnd: number };
      expect(out.subarray(0, h.tocEnd)).toEqual(piped.subarray(0, h.tocEnd));
      if (seed === 1) expect(await script(out)).toBe(await script(piped));
    }
    // The rows larger than a merged chunk went through as their own chunks.
    // (3 rows and the end-of-data line: 4 chunks before, 3 whole + 1 merged after; every
    // other block of more than one chunk shrinks.)
    const before = blocks(piped);
    const after = blocks((await merge([piped])).out);
    const kept = before.filter((b, i) => b.type === 1 && b.chunks > 1 && after[i].chunks === b.chunks);
    expect(kept.map((b) => b.chunks)).toEqual([4]);
  });

  it("restores to the same catalogue and data", async () => {
    const { out } = await merge([piped]);
    const t = await createDatabase("chunks_dst");
    made.push(t);
    const file = path.join(dir, "merged.dump");
    await writeFile(file, out);
    execFileSync(pgBinary("pg_restore"), ["--single-transaction", "--exit-on-error", "--dbname", t, file], { maxBuffer: 1 << 26, env: { ...process.env, PGDATABASE: "" } });
    expect(await fingerprint(t)).toEqual(await fingerprint(url));
  });

  it("passes an archive pg_dump compressed itself, or that is not an archive, byte for byte", async () => {
    const z = await merge(chunks(zlib, 4));
    expect(z.counts).toMatchObject({ merging: false, why: "compressed inside pg_dump" });
    expect(z.out.equals(zlib)).toBe(true);
    const junk = Buffer.from("not a pg_dump archive at all, just text".repeat(100));
    const j = await merge(chunks(junk, 5));
    expect(j.counts.merging).toBe(false);
    expect(j.out.equals(junk)).toBe(true);
    // A TOC larger than the bound is passed through unread.
    const small = Array.from({ length: Math.ceil(piped.length / 100) }, (_, i) => piped.subarray(i * 100, i * 100 + 100));
    const big = await merge(small, 1024);
    expect(big.counts).toMatchObject({ merging: false, why: "table of contents too large to read" });
    expect(big.out.equals(piped)).toBe(true);
  });

  it("an archive cut anywhere comes out cut at the same data: nothing invented, nothing lost", async () => {
    const h = archiveHead(piped) as { tocEnd: number };
    let s = 7;
    const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s / 0x7fffffff);
    for (let k = 0; k < 40; k++) {
      const at = h.tocEnd + Math.floor(rand() * (piped.length - h.tocEnd));
      const cut = piped.subarray(0, at);
      const { out } = await merge(chunks(cut, k));
      const before = blocks(cut);
      const after = blocks(out);
      expect(after.map((b) => b.data), `cut at ${at}`).toEqual(before.map((b) => b.data));
      expect(after.map((b) => b.ended), `cut at ${at}`).toEqual(before.map((b) => b.ended));
    }
  });
});
