// The codec between pg_dump and OpenPGP (DESIGN §4). pg_dump compresses with zlib in its
// own single thread, which is where a backup's time goes; with `-Z0` the archive leaves
// pg_dump uncompressed and is compressed here, on libuv's thread pool, beside pg_dump and
// the encryption. Stock tools undo it: `gpg -d | zstd -d | pg_restore` (docs/recovery.md).
//
// Archives written before issue 14 have no `compression` on their manifest part: pg_dump
// compressed them itself and nothing outside did, which is what `codec: "none"` means.
import { PassThrough, type Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";
import type { CompressionSettings } from "../validation/settings";

export type CompressionCodec = CompressionSettings["codec"];

/** What the manifest records for a part: enough to read it back with stock tools. */
export type PartCompression = {
  codec: CompressionCodec;
  /** The codec's level; null for "none". */
  level: number | null;
  /** pg_dump's own compression: "-Z0" when the codec above does the work, else "default". */
  pgDump: "-Z0" | "default";
  /** Bytes pg_dump wrote, before the codec. */
  inputBytes: number;
};

/** Extra pg_dump arguments for a setting: the outer codec replaces pg_dump's own zlib. */
export function pgDumpCompressionArgs(c: CompressionSettings): string[] {
  return c.codec === "none" ? [] : ["--compress=0"];
}

/** A streaming compressor; back-pressure passes through, memory stays at the codec's window. */
export function createCompressor(c: CompressionSettings): Transform {
  switch (c.codec) {
    case "zstd":
      // No ZSTD_c_nbWorkers: with workers Node's stream fails ("stream.push() after EOF",
      // nodejs/node#59899). One codec thread runs beside pg_dump and the main thread anyway.
      return zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: c.level } });
    case "gzip":
      return zlib.createGzip({ level: c.level });
    case "none":
      return new PassThrough();
  }
}

/**
 * Node's zstd compressor ends its output with an empty 9-byte frame after the real one
 * (nodejs/node#66078), and Node's decompressor drops whatever follows the end of a frame in
 * the same input chunk (nodejs/node#64741). So when a chunk boundary fell inside that last
 * frame — decryption's chunking varies from read to read — the decompressor started on the
 * frame's middle and failed with "Unknown frame descriptor": an intact archive that did not
 * restore, now and then. Holding back the last bytes until the end makes the final chunk
 * carry the end of the real frame and the whole empty frame together, which reads cleanly
 * (compression.test.ts splits an archive at every position of its tail).
 */
export const ZSTD_TAIL_HOLD_BYTES = 64;

/**
 * Output chunk of the zstd reader: 1 MiB instead of zlib's 16 KiB, so a restore's pipeline
 * (the codec's callbacks, the index, spool writes, the loaders' wake-ups) runs a 64th as
 * many times. 128 KiB (decision 113) left 0.2–0.3 s more of the restore's CPU (decision 124).
 */
const DECOMPRESS_CHUNK = 1024 * 1024;

/** Node's zstd decompressor, fed everything but the last bytes until the input ends. */
class TailHeldZstdDecompress extends zlib.ZstdDecompress {
  #held: Buffer = Buffer.alloc(0);
  #flushing = false;

  override _transform(chunk: Buffer, encoding: BufferEncoding, cb: TransformCallback): void {
    // zlib's own _flush feeds an empty chunk through _transform: pass it (and the tail) on.
    if (this.#flushing) return super._transform(chunk, encoding, cb);
    const all = this.#held.length ? Buffer.concat([this.#held, chunk]) : chunk;
    // zlib's own test for the input's last chunk (it then checks the frame is complete):
    // hand everything over at once, so its length never passes for that chunk's by accident.
    if (this.writableEnded && this.writableLength === chunk.byteLength) {
      this.#held = Buffer.alloc(0);
      return super._transform(all, encoding, cb);
    }
    if (all.length <= ZSTD_TAIL_HOLD_BYTES) {
      this.#held = Buffer.from(all);
      return cb();
    }
    this.#held = Buffer.from(all.subarray(all.length - ZSTD_TAIL_HOLD_BYTES));
    super._transform(all.subarray(0, all.length - ZSTD_TAIL_HOLD_BYTES), encoding, cb);
  }

  override _flush(cb: TransformCallback): void {
    this.#flushing = true;
    const tail = this.#held;
    this.#held = Buffer.alloc(0);
    if (!tail.length) return super._flush(cb);
    // The encoding is ignored for Buffers.
    super._transform(tail, "binary", (err) => (err ? cb(err) : super._flush(cb)));
  }
}

/**
 * The decompressor for a stored part, chosen by its manifest: none (a PassThrough) for
 * parts without the field. Truncated input errors at the end, like decryption does.
 */
export function createDecompressor(compression: { codec: CompressionCodec } | undefined | null): Transform {
  switch (compression?.codec ?? "none") {
    case "zstd":
      return new TailHeldZstdDecompress({ chunkSize: DECOMPRESS_CHUNK });
    case "gzip":
      return zlib.createGunzip();
    default:
      return new PassThrough();
  }
}

/** The shell step stock tools need between `gpg -d` and `pg_restore`, for messages and docs. */
export function stockDecompressCommand(compression: { codec: CompressionCodec } | undefined | null): string | null {
  switch (compression?.codec ?? "none") {
    case "zstd":
      return "zstd -d";
    case "gzip":
      return "gzip -d";
    default:
      return null;
  }
}
