// Backups in any S3-compatible store (AWS, B2, R2, MinIO, s3rver). Large objects go up
// as multipart uploads that are aborted on failure, so a failed or cancelled backup
// leaves neither an object nor billable orphaned parts behind.
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { componentLogger } from "../../log";
import { assertSafeKey, assertSafePrefix } from "./keys";
import { planMultipart, type PartPlan } from "./part-size";
import { spooledMultipartUpload } from "./s3-spooled-upload";
import {
  ObjectNotFoundError,
  StorageUnavailableError,
  type PutOptions,
  type Storage,
  type StoredObject,
} from "./types";

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Omit for AWS itself; any S3-compatible endpoint otherwise. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle?: boolean;
  /** Total attempts per request including the first (SDK default 3). */
  maxAttempts?: number;
  connectionTimeoutMs?: number;
  /** Socket inactivity limit per request. */
  requestTimeoutMs?: number;
  /** A fixed part size; omitted, each upload plans its own from its expected size (part-size.ts). */
  partSize?: number;
  queueSize?: number;
  /** The store's part-count limit (S3: 10,000); lowered in tests. */
  maxParts?: number;
  /** Parts an upload may hold at once (in flight + filling); bounds its temp disk, or memory with partsInMemory. */
  bufferBudgetBytes?: number;
  /** Hold parts in memory (lib-storage) instead of temp files when they fit the budget (decision 107). */
  partsInMemory?: boolean;
  /** Where parts wait; default the OS temp dir. */
  spoolDir?: string;
}

const log = componentLogger("storage-s3");

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "TimeoutError",
  "RequestTimeout",
]);

type SdkError = Error & { code?: string; $metadata?: { httpStatusCode?: number }; errors?: unknown[] };

function errorCode(e: unknown): string | undefined {
  const err = e as SdkError | undefined;
  if (!err) return undefined;
  if (err.code) return err.code;
  // Node's happy-eyeballs connect reports every address it tried inside an AggregateError.
  if (Array.isArray(err.errors) && err.errors.length > 0) return errorCode(err.errors[0]);
  if (err.name && err.name !== "Error") return err.name;
  return undefined;
}

function httpStatus(e: unknown): number | undefined {
  return (e as SdkError | undefined)?.$metadata?.httpStatusCode;
}

function isNotFound(e: unknown): boolean {
  const code = errorCode(e);
  return code === "NoSuchKey" || code === "NotFound" || httpStatus(e) === 404;
}

export class S3Storage implements Storage {
  readonly kind = "s3" as const;
  readonly description: string;
  readonly client: S3Client;
  readonly bucket: string;
  private readonly fixed?: { partSize: number; queueSize: number };
  private readonly maxParts?: number;
  private readonly bufferBudgetBytes?: number;
  private readonly partsInMemory?: boolean;
  private readonly spoolDir?: string;
  private readonly where: string;
  /** The plan of the latest put(), for tests and logs. */
  lastPlan?: PartPlan;

  constructor(opts: S3StorageOptions) {
    this.bucket = opts.bucket;
    this.where = opts.endpoint ?? `AWS ${opts.region}`;
    this.description = `s3://${opts.bucket} (${this.where})`;
    if (opts.partSize) this.fixed = { partSize: opts.partSize, queueSize: opts.queueSize ?? 4 };
    this.maxParts = opts.maxParts;
    this.bufferBudgetBytes = opts.bufferBudgetBytes;
    this.partsInMemory = opts.partsInMemory;
    this.spoolDir = opts.spoolDir;
    const config: S3ClientConfig = {
      region: opts.region,
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? false,
      // With the SDK's default (WHEN_SUPPORTED) a streamed body is sent aws-chunked with a
      // trailing CRC, which s3rver and some S3 clones store verbatim: silently corrupt objects.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: opts.maxAttempts,
      requestHandler: {
        connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
        requestTimeout: opts.requestTimeoutMs,
      },
    };
    if (opts.accessKeyId && opts.secretAccessKey) {
      config.credentials = { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  /** Turns connection, credential and bucket failures into one readable error; others pass through. */
  private mapError(e: unknown, always = false): unknown {
    if (e instanceof StorageUnavailableError || e instanceof ObjectNotFoundError) return e;
    const code = errorCode(e);
    const status = httpStatus(e);
    if (code && CONNECTION_CODES.has(code)) {
      return new StorageUnavailableError(`S3 endpoint ${this.where} unreachable: ${code}`, { cause: e });
    }
    if (code === "NoSuchBucket") {
      return new StorageUnavailableError(`S3 bucket ${this.bucket} does not exist at ${this.where}`, { cause: e });
    }
    if (
      status === 401 ||
      status === 403 ||
      code === "InvalidAccessKeyId" ||
      code === "SignatureDoesNotMatch" ||
      code === "AccessDenied"
    ) {
      return new StorageUnavailableError(
        `S3 ${this.where} refused access to bucket ${this.bucket}: ${code ?? `HTTP ${status}`} (check S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY and the bucket policy)`,
        { cause: e },
      );
    }
    if (status !== undefined && status >= 500) {
      return new StorageUnavailableError(`S3 ${this.where} failed: ${code ?? "error"} (HTTP ${status})`, { cause: e });
    }
    if (always) {
      return new StorageUnavailableError(`S3 ${this.where} failed: ${code ?? (e as Error)?.message ?? String(e)}`, {
        cause: e,
      });
    }
    return e;
  }

  async put(key: string, body: Readable, opts: PutOptions = {}): Promise<{ size: number }> {
    assertSafeKey(key);
    let size = 0;
    let failure: unknown;
    const counted = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        opts.onBytes?.(chunk.length);
        cb(null, chunk);
      },
    });
    // Errors reach the Upload by destroying the stream it reads; lib-storage then waits for
    // in-flight parts and aborts the multipart upload before done() rejects.
    const fed = pipeline(body, counted).catch((e: unknown) => {
      failure ??= e;
    });
    const onAbort = () => {
      failure ??= abortError(opts.signal?.reason);
      counted.destroy(failure as Error);
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    // Fixed 8 MiB parts stop at ~78 GiB (10,000 parts): the size is planned per upload.
    const plan = this.fixed
      ? { ...this.fixed, capacityBytes: this.fixed.partSize * (this.maxParts ?? 10_000), bufferBytes: (this.fixed.queueSize + 1) * this.fixed.partSize, spool: false }
      : planMultipart({ expectedBytes: opts.expectedBytes, maxParts: this.maxParts, bufferBudgetBytes: this.bufferBudgetBytes, partsInMemory: this.partsInMemory });
    this.lastPlan = plan;
    if (opts.expectedBytes && plan.partSize > 8 * 1024 * 1024) {
      log.info({ key, expectedBytes: opts.expectedBytes, partSize: plan.partSize, queueSize: plan.queueSize, spool: plan.spool }, "multipart parts sized for a large archive");
    }
    const upload = plan.spool
      ? spooledMultipartUpload({ client: this.client, bucket: this.bucket, key, body: counted, partSize: plan.partSize, queueSize: plan.queueSize, contentType: opts.contentType, spoolDir: this.spoolDir, signal: opts.signal })
      : new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: opts.contentType },
          partSize: plan.partSize,
          queueSize: plan.queueSize,
          leavePartsOnError: false,
        }).done();
    try {
      await upload;
    } catch (e) {
      if (failure !== undefined && failure !== e) {
        // lib-storage reports a failed AbortMultipartUpload instead of the original error.
        log.warn(
          { key, err: (e as Error)?.message },
          "upload failed; if the store rejected AbortMultipartUpload, orphaned parts may remain (add a lifecycle rule)",
        );
      }
      counted.destroy();
      throw this.mapError(failure ?? e);
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      await fed;
    }
    if (failure !== undefined) {
      // The body failed after its last byte was accepted: the object exists but must not count.
      await this.delete(key).catch(() => undefined);
      throw this.mapError(failure);
    }
    return { size };
  }

  async putBytes(key: string, data: Buffer | string, contentType?: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: data, ContentType: contentType }),
      );
    } catch (e) {
      throw this.mapError(e);
    }
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!res.Body) throw new ObjectNotFoundError(key);
      return res.Body as Readable;
    } catch (e) {
      if (isNotFound(e)) throw new ObjectNotFoundError(key);
      throw this.mapError(e);
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    const body = await this.get(key);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks);
  }

  async head(key: string): Promise<StoredObject | null> {
    assertSafeKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.mapError(e);
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (isNotFound(e)) return;
      throw this.mapError(e);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertSafePrefix(prefix);
    let token: string | undefined;
    do {
      let res;
      try {
        res = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, ContinuationToken: token }),
        );
      } catch (e) {
        throw this.mapError(e);
      }
      for (const o of res.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async downloadUrl(key: string, expiresSeconds: number): Promise<string | null> {
    assertSafeKey(key);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: expiresSeconds,
    });
  }

  async removeIncompleteUploads(prefix: string, busy: (key: string) => boolean): Promise<number> {
    assertSafePrefix(prefix);
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        );
        for (const u of page.Uploads ?? []) {
          if (!u.Key || !u.UploadId || busy(u.Key)) continue;
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
          removed++;
        }
        if (!page.IsTruncated) break;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (e) {
      throw this.mapError(e);
    }
    return removed;
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (isNotFound(e)) {
        throw new StorageUnavailableError(`S3 bucket ${this.bucket} does not exist at ${this.where}`, { cause: e });
      }
      throw this.mapError(e, true);
    }
  }
}

function abortError(reason: unknown): Error {
  const err = new Error("upload cancelled", { cause: reason });
  err.name = "AbortError";
  return err;
}
