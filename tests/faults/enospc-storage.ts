// A storage driver whose disk "fills up": writes succeed until `budgetBytes` have been
// accepted, then fail with ENOSPC exactly like a full filesystem (errno -28), whether the
// overflow happens in the streamed archive or in the small manifest write.
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PutOptions, Storage, StoredObject } from "../../lib/backup/storage/types";

export function enospcError(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
}

export class FullDiskStorage implements Storage {
  readonly kind: Storage["kind"];
  readonly description: string;
  used = 0;

  constructor(
    private readonly inner: Storage,
    public budgetBytes: number,
  ) {
    this.kind = inner.kind;
    this.description = `${inner.description} (fills up after ${budgetBytes} bytes)`;
  }

  put(key: string, body: Readable, opts?: PutOptions): Promise<{ size: number }> {
    const limiter = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        if (this.used + chunk.length > this.budgetBytes) return cb(enospcError());
        this.used += chunk.length;
        cb(null, chunk);
      },
    });
    pipeline(body, limiter).catch(() => undefined);
    return this.inner.put(key, limiter, opts);
  }

  async putBytes(key: string, data: Buffer | string, contentType?: string): Promise<void> {
    const n = Buffer.byteLength(data);
    if (this.used + n > this.budgetBytes) throw enospcError();
    this.used += n;
    return this.inner.putBytes(key, data, contentType);
  }

  get(key: string): Promise<Readable> {
    return this.inner.get(key);
  }
  getBytes(key: string): Promise<Buffer> {
    return this.inner.getBytes(key);
  }
  head(key: string): Promise<StoredObject | null> {
    return this.inner.head(key);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<StoredObject> {
    return this.inner.list(prefix);
  }
  downloadUrl(key: string, expiresSeconds: number): Promise<string | null> {
    return this.inner.downloadUrl(key, expiresSeconds);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  removeIncompleteUploads(prefix: string, busy: (key: string) => boolean): Promise<number> {
    return this.inner.removeIncompleteUploads(prefix, busy);
  }
}
