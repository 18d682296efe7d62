// ChunkMerger (lib/backup/archive-chunks.ts, decision 131): a `pg_dump -Z0` archive's
// per-row data chunks joined in place, on a database like an application's (owners,
// partitions, a large object, a materialized view) plus rows larger than a joined chunk.
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
import { ChunkMerger, MERGED_CHUNK_BYTES, type MergeCounts } from "../lib/backup/archive-chunks";
import { archiveHead, ArchiveOffsetIndexer } from "../lib/backup/archive-offsets";

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
  // Rows larger than a joined chunk: each passes as pg_dump wrote it.
  await sql(url, `CREATE TABLE public.huge AS SELECT g, repeat(md5(g::text), ${(MERGED_CHUNK_BYTES * 3) / 32}) AS body FROM generate_series(1, 3) g`);
  piped = execFileSync(pgBinary("pg_dump"), ["-Fc", "-Z0", "--dbname", url], { maxBuffer: 1 << 30 });
  zlib = execFileSync(pgBinary("pg_dump"), ["-Fc", "--dbname", url], { maxBuffer: 1 << 30 });
}, 120_000);

afterAll(async () => {
  for (const d of made) await dropDatabase(d).catch(() => undefined);
  if (url) await dropDatabase(url);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The merger changes its input in place: each test gives it copies. */
async function merge(parts: Buffer[], maxToc?: number): Promise<{ out: Buffer; counts: MergeCounts; pieces: { in: Buffer[]; out: Buffer[] } }> {
  const merger = new ChunkMerger(maxToc);
  const given = parts.map((p) => Buffer.from(p));
  const got: Buffer[] = [];
  await pipeline(Readable.from(given), merger, new Writable({ write: (c: Buffer, _e, cb) => (got.push(c), cb()) }));
  return { out: Buffer.concat(got), counts: merger.counts, pieces: { in: given, out: got } };
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

interface Block {
  type: number;
  data: string;
  chunks: number;
  ended: boolean;
  /** Every chunk of table data ends with a row's newline. */
  rowEnds: boolean;
}

/** Each data block's chunks: their bodies joined, how many, and whether the block ended. */
function blocks(archive: Buffer): Block[] {
  const head = archiveHead(archive);
  if (!head || "unreadable" in head) throw new Error("not readable");
  const int = (at: number) => (archive[at] ? -1 : 1) * archive.readUIntLE(at + 1, head.intSize);
  const w = 1 + head.intSize;
  const out: Block[] = [];
  let i = head.tocEnd;
  while (i < archive.length) {
    const type = archive[i];
    i += 1 + w;
    const b = { data: [] as Buffer[], chunks: 0, ended: false, rowEnds: true };
    const chunkList = () => {
      for (;;) {
        if (i + w > archive.length) return false;
        const len = int(i);
        i += w;
        if (len === 0) return true;
        const body = archive.subarray(i, Math.min(i + len, archive.length));
        b.data.push(body);
        b.chunks++;
        if (body[body.length - 1] !== 0x0a) b.rowEnds = false;
        i += len;
      }
    };
    if (type === 3) {
      for (;;) {
        if (i + w > archive.length) break;
        const oid = int(i);
        i += w;
        if (oid === 0) {
          b.ended = true;
          break;
        }
        b.data.push(Buffer.from(`oid ${oid}:`));
        if (!chunkList()) break;
      }
    } else b.ended = chunkList();
    // A digest: Vitest compares Buffers element by element, slowly.
    out.push({ type, data: createHash("sha256").update(Buffer.concat(b.data)).digest("hex"), chunks: b.chunks, ended: b.ended, rowEnds: b.rowEnds });
    if (!b.ended) break; // cut here
  }
  return out;
}

const dataChunks = (bs: Block[]) => bs.filter((b) => b.type === 1).reduce((s, b) => s + b.chunks, 0);

describe("joining a -Z0 archive's row chunks", () => {
  it("gives pg_restore the same archive, data and all, in a fraction of the chunks, whole rows each", async () => {
    const before = blocks(piped);
    expect(before.some((b) => b.type === 3)).toBe(true);
    for (const seed of [1, 2, 3]) {
      const { out, counts } = await merge(chunks(piped, seed));
      expect(counts.merging).toBe(true);
      const after = blocks(out);
      expect(after.map((b) => b.data)).toEqual(before.map((b) => b.data));
      expect(after.every((b) => b.ended)).toBe(true);
      // Each chunk is whole rows: the restore may cut a table after any of them (decision 126).
      expect(after.filter((b) => b.type === 1).every((b) => b.rowEnds)).toBe(true);
      // Large objects pass untouched.
      expect(after.filter((b) => b.type === 3)).toEqual(before.filter((b) => b.type === 3));
      expect(counts.chunksIn).toBe(dataChunks(before));
      expect(counts.chunksOut).toBe(dataChunks(after));
      // The header and TOC are untouched.
      const h = archiveHead(piped) as { tocEnd: number };
      expect(out.subarray(0, h.tocEnd).equals(piped.subarray(0, h.tocEnd))).toBe(true);
      if (seed === 1) expect(await script(out)).toBe(await script(piped));
    }
    // In pieces of 64 KiB, as pg_dump's stdout comes: a fortieth of the chunks or fewer.
    const piece = 64 * 1024;
    const whole = await merge(Array.from({ length: Math.ceil(piped.length / piece) }, (_, i) => piped.subarray(i * piece, (i + 1) * piece)));
    const after = blocks(whole.out);
    expect(dataChunks(after) * 40).toBeLessThan(dataChunks(before));
    // Given whole, every block of table data with more than one chunk shrinks but one: its
    // 3 rows are each larger than a joined chunk and stay their own chunks (with pg_dump's
    // end-of-data line after them, 4).
    const one = blocks((await merge([piped])).out);
    const kept = before.filter((b, i) => b.type === 1 && b.chunks > 1 && one[i].chunks === b.chunks);
    expect(kept.map((b) => b.chunks)).toEqual([4]);
  });

  it("allocates nothing per piece: every data piece leaves in its own memory, never longer", async () => {
    const piece = 64 * 1024;
    const { pieces } = await merge(Array.from({ length: Math.ceil(piped.length / piece) }, (_, i) => piped.subarray(i * piece, (i + 1) * piece)));
    const inputs = new Set(pieces.in.map((b) => b.buffer));
    // The first piece holds the TOC and, with the TOC read, may be joined with the next; every later one is its input's prefix.
    const later = pieces.out.slice(2);
    expect(later.length).toBeGreaterThan(10);
    for (const o of later) {
      expect(inputs.has(o.buffer)).toBe(true);
      expect(o.length).toBeLessThanOrEqual(piece);
    }
  });

  it("restores to the same catalogue and data, with the restore's cuts after whole rows", async () => {
    const { out } = await merge(chunks(piped, 9));
    const t = await createDatabase("chunks_dst");
    made.push(t);
    const file = path.join(dir, "merged.dump");
    await writeFile(file, out);
    execFileSync(pgBinary("pg_restore"), ["--single-transaction", "--exit-on-error", "--dbname", t, file], { maxBuffer: 1 << 26, env: { ...process.env, PGDATABASE: "" } });
    expect(await fingerprint(t)).toEqual(await fingerprint(url));
    // The swap restore's indexer still finds places to cut a big table (decision 126).
    const cuts: number[] = [];
    const indexer = new ArchiveOffsetIndexer(undefined, { onSplit: (_id, at) => cuts.push(at) }, { splitBytes: 16 * 1024, splitAfter: 0 });
    await pipeline(Readable.from([out]), indexer, new Writable({ write: (_c, _e, cb) => cb() }));
    expect(indexer.index().disabled).toBeUndefined();
    expect(cuts.length).toBeGreaterThan(10);
    for (const at of cuts) expect(out[at - 1]).toBe(0x0a);
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

  it("stops joining at anything it does not understand, and passes the rest as it came", async () => {
    const h = archiveHead(piped) as { tocEnd: number };
    // A block type no archive has, in the middle of the data: what came before is joined, the rest is byte for byte.
    const at = blocks(piped).length > 2 ? findBlockStart(piped, h.tocEnd, 2) : -1;
    expect(at).toBeGreaterThan(h.tocEnd);
    const bad = Buffer.from(piped);
    bad[at] = 9;
    const { out, counts } = await merge(chunks(bad, 6));
    expect(counts).toMatchObject({ merging: false, why: "unexpected data block type 9" });
    const rest = bad.subarray(at);
    expect(out.subarray(out.length - rest.length).equals(rest)).toBe(true);
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

/** Position of the `k`th data block's type byte (0-based). */
function findBlockStart(archive: Buffer, tocEnd: number, k: number): number {
  const head = archiveHead(archive) as { intSize: number };
  const int = (at: number) => (archive[at] ? -1 : 1) * archive.readUIntLE(at + 1, head.intSize);
  const w = 1 + head.intSize;
  let i = tocEnd;
  for (let b = 0; ; b++) {
    if (b === k) return i;
    const type = archive[i];
    i += 1 + w;
    const list = () => {
      for (let len = int(i); ; len = int(i)) {
        i += w;
        if (len === 0) return;
        i += len;
      }
    };
    if (type === 3) for (let oid = int(i); ; oid = int(i)) {
      i += w;
      if (oid === 0) break;
      list();
    }
    else list();
  }
}
