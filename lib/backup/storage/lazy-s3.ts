// The S3 driver, loaded on first use. Importing @aws-sdk/client-s3 costs ~34 MB of RSS
// (measured on Node 24: 43 → 77 MB); a process that never touches S3 — local storage, the
// web process answering lists — should not pay it, and the backup process's peak RSS
// (issue 14, ≤ 200 MB) is the sum of what it loaded and what it buffers.
import type { Readable } from "node:stream";
import type { S3Storage, S3StorageOptions } from "./s3";
import type { PutOptions, Storage, StoredObject } from "./types";

export class LazyS3Storage implements Storage {
  readonly kind = "s3" as const;
  readonly description: string;
  private loaded?: Promise<S3Storage>;

  constructor(private readonly opts: S3StorageOptions) {
    // As S3Storage words it (never credentials).
    this.description = `s3://${opts.bucket} (${opts.endpoint ?? `AWS ${opts.region}`})`;
  }

  /** The real driver (tests reach its client and part plan through it). */
  impl(): Promise<S3Storage> {
    this.loaded ??= import("./s3").then(({ S3Storage: Impl }) => new Impl(this.opts));
    return this.loaded;
  }

  async put(key: string, body: Readable, opts?: PutOptions) {
    return (await this.impl()).put(key, body, opts);
  }
  async putBytes(key: string, data: Buffer | string, contentType?: string) {
    return (await this.impl()).putBytes(key, data, contentType);
  }
  async get(key: string) {
    return (await this.impl()).get(key);
  }
  async getBytes(key: string) {
    return (await this.impl()).getBytes(key);
  }
  async head(key: string) {
    return (await this.impl()).head(key);
  }
  async delete(key: string) {
    return (await this.impl()).delete(key);
  }
  async *list(prefix: string): AsyncIterable<StoredObject> {
    yield* (await this.impl()).list(prefix);
  }
  async downloadUrl(key: string, expiresSeconds: number) {
    return (await this.impl()).downloadUrl(key, expiresSeconds);
  }
  async ping() {
    return (await this.impl()).ping();
  }
  async removeIncompleteUploads(prefix: string, busy: (key: string) => boolean) {
    return (await this.impl()).removeIncompleteUploads(prefix, busy);
  }
}
