// Few large chunks instead of many small ones, where a stage's cost is per chunk (decision 122).
//
// A zstd compressor emits a few kilobytes for each 64 KiB pipe read of pg_dump's output, and
// OpenPGP.js writes one partial-length packet per chunk it is given — so an archive of 54 MB
// was 11,621 packets of 16 bytes to 16 KiB. Encrypting it that way took 1.8 s instead of
// 0.5 s; decrypting it gives the same small chunks back, and each then costs a hash update
// and a trip to libuv's thread pool in the zstd reader.
import { Transform, type TransformCallback } from "node:stream";

/** What the coalescer gathers up to: OpenPGP packets of 64 KiB, one thread-pool trip per 64 KiB (256 KiB took 15 MB more of a backup's memory for no less CPU). */
export const STREAM_CHUNK_BYTES = 64 * 1024;

/** The buffering both shapes below share: what to pass on after each chunk, and at the end. */
class Gathered {
  #parts: Buffer[] = [];
  #bytes = 0;

  constructor(private readonly minBytes: number) {}

  /** The chunk to pass on now, if any: `b` itself when nothing is held and it is large enough. */
  add(b: Buffer): Buffer | undefined {
    if (this.#bytes === 0 && b.length >= this.minBytes) return b;
    this.#parts.push(b);
    this.#bytes += b.length;
    return this.#bytes < this.minBytes ? undefined : this.rest();
  }

  /** Whatever is held (at the end), or undefined. */
  rest(): Buffer | undefined {
    if (!this.#bytes) return undefined;
    const out = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#bytes);
    this.#parts = [];
    this.#bytes = 0;
    return out;
  }
}

/**
 * Passes the bytes through unchanged, in chunks of at least `minBytes` (the last may be
 * smaller); a chunk already that large goes on as it is. Holds at most one chunk's worth.
 */
export class Coalescer extends Transform {
  readonly #gathered: Gathered;

  constructor(minBytes = STREAM_CHUNK_BYTES) {
    super();
    this.#gathered = new Gathered(minBytes);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, cb: TransformCallback): void {
    cb(null, this.#gathered.add(chunk));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.#gathered.rest());
  }
}

/** The same over an async iterable of byte chunks (OpenPGP's side of crypto.ts). */
export async function* coalesced(source: AsyncIterable<unknown> | Iterable<unknown>, minBytes = STREAM_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const gathered = new Gathered(minBytes);
  for await (const c of source) {
    const b = typeof c === "string" ? Buffer.from(c) : Buffer.isBuffer(c) ? c : Buffer.from((c as Uint8Array).buffer, (c as Uint8Array).byteOffset, (c as Uint8Array).byteLength);
    const out = gathered.add(b);
    if (out) yield out;
  }
  const last = gathered.rest();
  if (last) yield last;
}
