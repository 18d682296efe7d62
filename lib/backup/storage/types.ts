// The storage contract every backend satisfies. Storage, not the database, is the source
// of truth for which backups exist (DESIGN §3), so every method is about objects by key.
import type { Readable } from "node:stream";

export interface StoredObject {
  key: string;
  size: number;
  lastModified?: Date;
}

export class ObjectNotFoundError extends Error {
  constructor(public readonly key: string) {
    super(`object not found: ${key}`);
    this.name = "ObjectNotFoundError";
  }
}

/** The store cannot be reached or refuses us; the message is safe to show an operator. */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}

/** A key that could address something outside the store (`..`, absolute, NUL…). */
export class InvalidKeyError extends Error {
  constructor(key: string, why: string) {
    super(`invalid storage key ${JSON.stringify(key)}: ${why}`);
    this.name = "InvalidKeyError";
  }
}

export interface PutOptions {
  signal?: AbortSignal;
  contentType?: string;
  /**
   * About how many bytes body will have (an upper estimate). S3 sizes its multipart parts
   * from it so the upload stays within the part-count limit; local storage ignores it.
   */
  expectedBytes?: number;
  /** Called with the number of bytes just accepted, for progress reporting. */
  onBytes?: (n: number) => void;
}

export interface Storage {
  readonly kind: "local" | "s3";
  /** e.g. "s3://bucket (endpoint)" or "/abs/dir" — never credentials. */
  readonly description: string;
  /**
   * Streams body to key. Resolves only once the object is complete and durable. If body
   * errors or signal aborts, the partial object/multipart upload is removed/aborted and
   * the promise rejects.
   */
  put(key: string, body: Readable, opts?: PutOptions): Promise<{ size: number }>;
  /** Small objects: manifests, audit lines. Atomic like put. */
  putBytes(key: string, data: Buffer | string, contentType?: string): Promise<void>;
  appendLine?: never;
  /** Rejects ObjectNotFoundError. */
  get(key: string): Promise<Readable>;
  /** Small objects only: the whole object is buffered. Rejects ObjectNotFoundError. */
  getBytes(key: string): Promise<Buffer>;
  head(key: string): Promise<StoredObject | null>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with prefix; order is not guaranteed. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Presigned GET URL valid expiresSeconds (S3), or null for local (caller streams instead). */
  downloadUrl(key: string, expiresSeconds: number): Promise<string | null>;
  /** Rejects StorageUnavailableError with a readable reason. */
  ping(): Promise<void>;
  /**
   * Removes unfinished uploads under prefix — S3 multipart uploads, local temp files —
   * left by a killed process or an abort the store did not receive, except those for
   * which busy(key) is true. Returns how many were removed.
   */
  removeIncompleteUploads(prefix: string, busy: (key: string) => boolean): Promise<number>;
}
