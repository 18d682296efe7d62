// Issue 14 §2: the swap restore writes data offsets into the spooled archive
// (lib/backup/archive-offsets.ts). The piped `pg_dump -Fc -Z0` of an application-like
// database (partitions, a large object, several schemas), indexed while it streams by in
// chunks of random size and then patched, must be byte for byte the archive `pg_dump -f`
// writes for the same database — apart from the creation time in the header. Anything the
// indexer does not understand leaves the file as it was.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { adminUrl, createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { chunks } from "./support/chunks";
import { ArchiveOffsetIndexer, writeDataOffsets } from "../lib/backup/archive-offsets";

let url: string;
let dir: string;
let piped: Buffer;
let filed: Buffer;

const dump = (args: string[]) => execFileSync("pg_dump", ["-Fc", "-Z0", ...args, "--dbname", url], { maxBuffer: 1 << 30 });

beforeAll(async () => {
  url = await createDatabase("offsets");
  await buildAppDatabase((u, text) => sql(u, text), adminUrl(), url);
  // Enough rows that tables span many blocks and chunks split headers.
  await sql(url, `CREATE TABLE public.wide AS SELECT g, md5(g::text) AS h, repeat('x', g % 300) AS pad FROM generate_series(1, 20000) g`);
  dir = mkdtempSync(path.join(tmpdir(), "offsets-"));
  piped = dump([]); // to stdout: a pipe, no offsets
  dump(["-f", path.join(dir, "filed.dump")]);
  filed = readFileSync(path.join(dir, "filed.dump"));
}, 120_000);

afterAll(async () => {
  if (url) await dropDatabase(url);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function spool(buf: Buffer, seed: number, name: string) {
  const file = path.join(dir, name);
  const indexer = new ArchiveOffsetIndexer();
  await pipeline(Readable.from(chunks(buf, seed)), indexer, createWriteStream(file));
  return { file, index: indexer.index() };
}

/** The header's creation time: 7 ints after magic, version, sizes, format and compression. */
function maskTime(b: Buffer): Buffer {
  const c = Buffer.from(b);
  const intLen = 1 + c[8];
  c.fill(0, 11 + intLen, 11 + intLen + 7 * intLen);
  return c;
}

describe("data offsets for a piped archive", () => {
  it("the piped archive has none, the filed one has them, and they differ only there and in the time", () => {
    expect(piped.length).toBe(filed.length);
    expect(maskTime(piped).equals(maskTime(filed))).toBe(false);
  });

  for (const seed of [1, 7, 42]) {
    it(`indexing in random chunks (seed ${seed}) and patching gives pg_dump -f's bytes`, async () => {
      const { file, index } = await spool(piped, seed, `piped-${seed}.dump`);
      expect(index.disabled).toBeUndefined();
      expect(index.blocks.size).toBe(8); // customers, two order partitions, invoices, audit_log, odd.name, wide; the large objects
      const r = await writeDataOffsets(file, index);
      expect(r).toEqual({ written: index.blocks.size });
      expect(maskTime(readFileSync(file)).equals(maskTime(filed))).toBe(true);
    });
  }

  it("pg_restore --jobs=2 restores the patched archive", async () => {
    const { file, index } = await spool(piped, 3, "restore.dump");
    await writeDataOffsets(file, index);
    const target = await createDatabase("offsets_restored");
    try {
      execFileSync("pg_restore", ["--jobs=2", "--no-owner", "--no-privileges", "--exit-on-error", "--dbname", target, file]);
      const q = `SELECT count(*)::int AS n, sum(g)::text AS s, md5(string_agg(h || pad, '' ORDER BY g)) AS m FROM public.wide`;
      expect(await sql(target, q)).toEqual(await sql(url, q));
    } finally {
      await dropDatabase(target);
    }
  });

  it("leaves a truncated archive, a foreign file or an archive already with offsets as they were", async () => {
    const truncated = await spool(piped.subarray(0, Math.floor(piped.length * 0.7)), 5, "truncated.dump");
    expect(truncated.index.disabled).toMatch(/ended inside/);
    const before = readFileSync(truncated.file);
    expect(await writeDataOffsets(truncated.file, truncated.index)).toHaveProperty("skipped");
    expect(readFileSync(truncated.file).equals(before)).toBe(true);

    const foreign = path.join(dir, "foreign.bin");
    writeFileSync(foreign, Buffer.from("PGDMP\x01\x0e\x00 not really an archive at all, just bytes"));
    const junk = await spool(readFileSync(foreign), 9, "foreign.dump");
    expect(junk.index.disabled).toBeDefined();

    // An archive written by pg_dump -f: every offset already set, nothing to write.
    copyFileSync(path.join(dir, "filed.dump"), path.join(dir, "filed-copy.dump"));
    const already = await spool(filed, 11, "already.dump");
    expect(await writeDataOffsets(already.file, already.index)).toEqual({ written: 0 });
    expect(readFileSync(already.file).equals(filed)).toBe(true);
  });
});

describe("where a table's rows may be cut (parts loaded side by side)", () => {
  /** Every block start and cut the indexer reports for `buf`, fed in chunks of random size. */
  async function cutsOf(buf: Buffer, seed: number, splitBytes: number, splitAfter = 0) {
    const blocks: { dumpId: number; start: number }[] = [];
    const cuts: { dumpId: number; at: number }[] = [];
    const indexer = new ArchiveOffsetIndexer(undefined, { onBlock: (dumpId, start) => blocks.push({ dumpId, start }), onSplit: (dumpId, at) => cuts.push({ dumpId, at }) }, { splitBytes, splitAfter });
    await pipeline(Readable.from(chunks(buf, seed)), indexer, new Writable({ write: (_c, _e, cb) => cb() }));
    return { blocks, cuts, index: indexer.index() };
  }
  /** The chunks of the block of `dumpId` starting at `start`: where each header is, and its body. */
  function chunksOf(buf: Buffer, start: number, intSize: number): { at: number; body: Buffer }[] {
    const readInt = (p: number) => {
      let v = 0;
      for (let k = intSize; k >= 1; k--) v = v * 256 + buf[p + k];
      return buf[p] ? -v : v;
    };
    const out: { at: number; body: Buffer }[] = [];
    let p = start + 1 + 1 + intSize;
    for (;;) {
      const len = readInt(p);
      if (len === 0) return out;
      out.push({ at: p, body: buf.subarray(p + 1 + intSize, p + 1 + intSize + len) });
      p += 1 + intSize + len;
    }
  }

  for (const seed of [3, 11]) {
    it(`cuts only between whole rows, at least splitBytes apart, in table data only (chunks seed ${seed})`, async () => {
      const splitBytes = 4096;
      const { blocks, cuts, index } = await cutsOf(piped, seed, splitBytes);
      expect(index.disabled).toBeUndefined();
      expect(cuts.length).toBeGreaterThan(50);
      const byId = new Map(blocks.map((b) => [b.dumpId, b.start]));
      const list = execFileSync("pg_restore", ["-l", path.join(dir, "filed.dump")]).toString();
      const blobIds = new Set([...list.matchAll(/^(\d+); \d+ \d+ (?:BLOBS|LARGE OBJECTS)/gm)].map((m) => Number(m[1])));
      expect(blobIds.size).toBeGreaterThan(0);
      const last = new Map<number, number>();
      for (const c of cuts) {
        expect(blobIds.has(c.dumpId)).toBe(false);
        const heads = chunksOf(piped, byId.get(c.dumpId)!, index.intSize);
        const k = heads.findIndex((h) => h.at === c.at);
        // A chunk header, after a chunk whose last byte ends a row, never the first chunk.
        expect(k).toBeGreaterThan(0);
        expect(heads[k - 1].body[heads[k - 1].body.length - 1]).toBe(0x0a);
        expect(c.at - (last.get(c.dumpId) ?? byId.get(c.dumpId)!)).toBeGreaterThanOrEqual(splitBytes);
        last.set(c.dumpId, c.at);
      }
      // The same cuts whatever the chunking of the stream.
      expect((await cutsOf(piped, seed + 100, splitBytes)).cuts).toEqual(cuts);
    });
  }

  it("never cuts an archive compressed inside pg_dump (its chunks are pieces of a zlib stream)", async () => {
    const zlib = execFileSync("pg_dump", ["-Fc", "-Z6", "--dbname", url], { maxBuffer: 1 << 30 });
    const { blocks, cuts, index } = await cutsOf(zlib, 5, 1);
    expect(index.disabled).toBeUndefined();
    expect(blocks.length).toBeGreaterThan(3);
    expect(cuts).toEqual([]);
  });

  it("cuts a block only splitAfter bytes into it: tables smaller than that are never cut", async () => {
    const all = await cutsOf(piped, 4, 4096);
    const splitAfter = 1024 * 1024;
    const { blocks, cuts } = await cutsOf(piped, 4, 4096, splitAfter);
    const start = new Map(blocks.map((b) => [b.dumpId, b.start]));
    expect(cuts.length).toBeGreaterThan(0);
    expect(cuts.length).toBeLessThan(all.cuts.length);
    for (const c of cuts) expect(c.at - start.get(c.dumpId)!).toBeGreaterThanOrEqual(splitAfter);
    // Past that point, the cuts come as often as before.
    const late = all.cuts.filter((c) => c.at - start.get(c.dumpId)! >= splitAfter + 8192);
    expect(late.length).toBeGreaterThan(0);
    expect(cuts.length).toBeGreaterThanOrEqual(late.length);
  });

  it("reports no cuts without a splitBytes or an onSplit hook", async () => {
    expect((await cutsOf(piped, 9, 0)).cuts).toEqual([]);
  });
});
