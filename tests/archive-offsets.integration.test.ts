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
import { Readable } from "node:stream";
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
