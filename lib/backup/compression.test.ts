import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Readable, Writable, type Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createCompressor, createDecompressor, pgDumpCompressionArgs, stockDecompressCommand } from "./compression";
import type { CompressionSettings } from "../validation/settings";

async function collect(source: Buffer[], stage: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  await pipeline(Readable.from(source), stage, sink);
  return Buffer.concat(out);
}

// Text-like input (compressible) with random runs (not), in 64 KiB chunks as pg_dump writes them.
const chunks = Array.from({ length: 64 }, (_, i) => Buffer.concat([Buffer.from(`row ${i}\tcustomer ${i % 7}\t2026-01-01\n`.repeat(1500)), randomBytes(4096)]));
const input = Buffer.concat(chunks);

describe("compression codecs", () => {
  const settings: CompressionSettings[] = [
    { codec: "zstd", level: 1 },
    { codec: "zstd", level: 19 },
    { codec: "gzip", level: 6 },
    { codec: "none", level: null },
  ];

  it.each(settings)("round-trips $codec $level, smaller unless none", async (c) => {
    const packed = await collect(chunks, createCompressor(c));
    if (c.codec === "none") expect(packed.equals(input)).toBe(true);
    else expect(packed.length).toBeLessThan(input.length / 2);
    expect((await collect([packed], createDecompressor({ codec: c.codec }))).equals(input)).toBe(true);
  });

  it("reads a part without the field (written before issue 14) as it is", async () => {
    expect((await collect(chunks, createDecompressor(undefined))).equals(input)).toBe(true);
  });

  it("errors on a truncated zstd stream instead of ending short", async () => {
    const packed = await collect(chunks, createCompressor({ codec: "zstd", level: 1 }));
    await expect(collect([packed.subarray(0, packed.length - 100)], createDecompressor({ codec: "zstd" }))).rejects.toThrow();
  });

  it("turns pg_dump's own compression off only when a codec takes over, and names the stock tool", () => {
    expect(pgDumpCompressionArgs({ codec: "zstd", level: 1 })).toEqual(["--compress=0"]);
    expect(pgDumpCompressionArgs({ codec: "gzip", level: 9 })).toEqual(["--compress=0"]);
    expect(pgDumpCompressionArgs({ codec: "none", level: null })).toEqual([]);
    expect(stockDecompressCommand({ codec: "zstd" })).toBe("zstd -d");
    expect(stockDecompressCommand(undefined)).toBeNull();
  });
});
