// The codec between pg_dump and OpenPGP (DESIGN §4). pg_dump compresses with zlib in its
// own single thread, which is where a backup's time goes; with `-Z0` the archive leaves
// pg_dump uncompressed and is compressed here, on libuv's thread pool, beside pg_dump and
// the encryption. Stock tools undo it: `gpg -d | zstd -d | pg_restore` (docs/recovery.md).
//
// Archives written before issue 14 have no `compression` on their manifest part: pg_dump
// compressed them itself and nothing outside did, which is what `codec: "none"` means.
import { Duplex, PassThrough, Transform } from "node:stream";
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
 * (tests/zstd-tail, every split position).
 */
export const ZSTD_TAIL_HOLD_BYTES = 64;

function holdTail(keep: number): Transform {
  let held: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const all = held.length ? Buffer.concat([held, chunk]) : chunk;
      if (all.length <= keep) {
        held = Buffer.from(all);
        return cb();
      }
      held = Buffer.from(all.subarray(all.length - keep));
      cb(null, all.subarray(0, all.length - keep));
    },
    flush(cb) {
      cb(null, held.length ? held : undefined);
    },
  });
}

/** holdTail → decompressor as one stream; a failure on either side fails it (and both). */
function withHeldTail(decompressor: Transform): Duplex {
  const holder = holdTail(ZSTD_TAIL_HOLD_BYTES);
  holder.on("error", (e) => decompressor.destroy(e));
  holder.pipe(decompressor);
  return Duplex.from({ writable: holder, readable: decompressor });
}

/**
 * The decompressor for a stored part, chosen by its manifest: none (a PassThrough) for
 * parts without the field. Truncated input errors at the end, like decryption does.
 */
export function createDecompressor(compression: { codec: CompressionCodec } | undefined | null): Duplex {
  switch (compression?.codec ?? "none") {
    case "zstd":
      return withHeldTail(zlib.createZstdDecompress());
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
