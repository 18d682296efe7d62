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

  // Regression: Node's compressor ends with an empty 9-byte frame, and Node's decompressor
  // dropped the rest of a chunk after a frame's end; a read whose chunk boundary fell inside
  // that frame failed with "Unknown frame descriptor" (an intact backup that did not restore).
  it("reads an archive whatever the chunk boundaries, including inside the trailing empty frame", async () => {
    const small = chunks.slice(0, 6);
    const want = Buffer.concat(small);
    const packed = await collect(small, createCompressor({ codec: "zstd", level: 1 }));
    // The trailing empty frame this guards against (nodejs/node#66078): magic, header, last raw block of 0 bytes.
    expect(packed.subarray(-9).toString("hex")).toBe("28b52ffd2000010000");
    // Two ways a last chunk arrives: already written when the input ends, or before it ends.
    const late = async (pieces: Buffer[]) => {
      const out: Buffer[] = [];
      const d = createDecompressor({ codec: "zstd" });
      const done = pipeline(d, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
      for (const p of pieces) {
        d.write(p);
        await new Promise((r) => setTimeout(r, 2));
      }
      d.end();
      await done;
      return Buffer.concat(out);
    };
    for (let split = packed.length - 72; split < packed.length; split++) {
      const pieces = [packed.subarray(0, split), packed.subarray(split)];
      expect((await collect(pieces, createDecompressor({ codec: "zstd" }))).equals(want), `split at ${split - packed.length}`).toBe(true);
      expect((await late(pieces)).equals(want), `split at ${split - packed.length}, ended later`).toBe(true);
    }
    for (const size of [9, 1000, 16_384]) {
      const pieces: Buffer[] = [];
      for (let o = 0; o < packed.length; o += size) pieces.push(packed.subarray(o, o + size));
      expect((await collect(pieces, createDecompressor({ codec: "zstd" }))).equals(want), `chunks of ${size}`).toBe(true);
    }
  }, 60_000);

  it("passes the decompressor's own error on (a damaged frame header), rather than hanging", async () => {
    const packed = Buffer.from(await collect(chunks, createCompressor({ codec: "zstd", level: 1 })));
    packed.fill(0xff, 0, 4);
    await expect(collect([packed.subarray(0, 5000), packed.subarray(5000)], createDecompressor({ codec: "zstd" }))).rejects.toThrow();
  });

  it("turns pg_dump's own compression off only when a codec takes over, and names the stock tool", () => {
    expect(pgDumpCompressionArgs({ codec: "zstd", level: 1 })).toEqual(["--compress=0"]);
    expect(pgDumpCompressionArgs({ codec: "gzip", level: 9 })).toEqual(["--compress=0"]);
    expect(pgDumpCompressionArgs({ codec: "none", level: null })).toEqual([]);
    expect(stockDecompressCommand({ codec: "zstd" })).toBe("zstd -d");
    expect(stockDecompressCommand(undefined)).toBeNull();
  });
});
