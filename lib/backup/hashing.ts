// Checksums computed while bytes flow past, so a multi-GB archive is hashed without a
// second read.
import { createHash } from "node:crypto";
import { Transform } from "node:stream";

export interface HashingStream {
  stream: Transform;
  /** SHA-256 hex of everything that passed; only meaningful once the stream has ended. */
  digest(): string;
  bytes(): number;
}

export function createHashingStream(): HashingStream {
  const hash = createHash("sha256");
  let count = 0;
  let hex: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      count += chunk.length;
      cb(null, chunk);
    },
  });
  return {
    stream,
    digest() {
      // Hash objects finalise once; cache so callers may ask more than once.
      hex ??= hash.digest("hex");
      return hex;
    },
    bytes: () => count,
  };
}
