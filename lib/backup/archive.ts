// Writing and verifying one encrypted part of a backup. Both directions are one streamed
// pass with back-pressure (DESIGN §4: no full copy in memory or on disk):
//   source → codec → SHA-256(plain) → OpenPGP encrypt → SHA-256(stored) → storage.put
//   storage.get → SHA-256(stored) → decrypt → SHA-256(plain) → decompress → pg_restore --list | tar parse
// "plain" is what `gpg -d` gives back, so both checksums can be checked with stock tools.
import { Transform, Writable, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createCompressor, createDecompressor, type PartCompression } from "./compression";
import { Coalescer } from "./coalesce";
import { createDecryptStream, createEncryptStream, DecryptionError, type DecryptKey, type EncryptKey } from "./crypto";
import { pgRestoreList, PgToolError } from "./dump";
import { countTarEntries, UnsafeTarEntryError } from "./files";
import { createHashingStream } from "./hashing";
import { explainUnreadablePart, isCodecError } from "./part-check";
import { ObjectNotFoundError, type Storage } from "./storage/types";
import type { CompressionSettings } from "../validation/settings";

export interface WriteEncryptedObjectOptions {
  source: Readable;
  storage: Storage;
  key: string;
  /** What encrypts: a passphrase, or a public key (crypto.ts). */
  passphrase: EncryptKey;
  signal?: AbortSignal;
  contentType?: string;
  /** The codec applied before encryption; none when omitted. */
  compression?: CompressionSettings;
  /** The stored size expected, for stores that plan multipart part sizes (S3). */
  expectedBytes?: number;
  onProgress?: (plainBytes: number, storedBytes: number) => void;
}

export interface WrittenObject {
  plainSha256: string;
  plainBytes: number;
  storedSha256: string;
  storedBytes: number;
  /** Set when a codec ran: what the manifest records for the part. */
  compression?: PartCompression;
}

/** The stored object is not what was sent; the object has been removed. */
export class StoredSizeMismatchError extends Error {
  constructor(key: string, expected: number, actual: number | null) {
    super(
      actual === null
        ? `stored object ${key} is missing right after upload`
        : `stored object ${key} has ${actual} bytes, expected ${expected}`,
    );
    this.name = "StoredSizeMismatchError";
  }
}

function isCollateral(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  // ABORT_ERR: the storage side aborts the chain when its own write fails (ENOSPC); the
  // storage error is the cause the operator must read, not the abort.
  return code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ERR_STREAM_DESTROYED" || code === "EPIPE" || code === "ABORT_ERR";
}

export async function writeEncryptedObject(opts: WriteEncryptedObjectOptions): Promise<WrittenObject> {
  const { source, storage, key, passphrase, signal } = opts;
  const plain = createHashingStream();
  const stored = createHashingStream();
  let inputBytes = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      inputBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const codec = opts.compression ?? { codec: "none", level: null };

  // The chain and the upload run together; whichever fails tears the other down (pipeline
  // destroys every stage, and put destroys its body), so neither side is left hanging.
  // The coalescer gives the hash and OpenPGP 64 KiB at a time, not the compressor's few KiB.
  const chain = pipeline(source, counted, createCompressor(codec), new Coalescer(), plain.stream, createEncryptStream(passphrase), stored.stream, { signal });
  const upload = storage.put(key, stored.stream, {
    signal,
    contentType: opts.contentType ?? "application/pgp-encrypted",
    expectedBytes: opts.expectedBytes,
    // Progress counts what the source produced (the dump), whatever the codec makes of it.
    onBytes: () => opts.onProgress?.(inputBytes, stored.bytes()),
  });
  const [chainResult, uploadResult] = await Promise.allSettled([chain, upload]);

  if (chainResult.status === "rejected" || uploadResult.status === "rejected") {
    if (signal?.aborted) {
      throw Object.assign(new Error("backup upload cancelled", { cause: signal.reason }), { name: "AbortError" });
    }
    const chainErr = chainResult.status === "rejected" ? chainResult.reason : undefined;
    const uploadErr = uploadResult.status === "rejected" ? uploadResult.reason : undefined;
    // Report the root cause: a dump failure breaks the upload, and an upload failure breaks the
    // chain with a mere "premature close".
    if (chainErr !== undefined && !isCollateral(chainErr)) throw chainErr;
    throw uploadErr ?? chainErr;
  }

  const storedBytes = stored.bytes();
  const head = await storage.head(key);
  if (uploadResult.value.size !== storedBytes || head?.size !== storedBytes) {
    await storage.delete(key).catch(() => undefined);
    throw new StoredSizeMismatchError(key, storedBytes, head ? head.size : null);
  }
  return {
    plainSha256: plain.digest(),
    plainBytes: plain.bytes(),
    storedSha256: stored.digest(),
    storedBytes,
    ...(opts.compression
      ? { compression: { codec: codec.codec, level: codec.level, pgDump: codec.codec === "none" ? "default" : "-Z0", inputBytes } }
      : {}),
  };
}

export interface VerifyOptions {
  storage: Storage;
  key: string;
  /** What decrypts: a passphrase, or a private key (crypto.ts). */
  passphrase: DecryptKey;
  /** SHA-256 of the stored (encrypted) object, from the manifest. */
  expectedSha256: string;
  /** SHA-256 of the plaintext, from the manifest; checked when given. */
  expectedPlainSha256?: string;
  binDir?: string;
  kind: "pgdump" | "tar";
  /** The part's codec, from its manifest; absent (older parts) means none. */
  compression?: { codec: PartCompression["codec"] };
  /** The manifest's key id, named in the reason when the part does not read back. */
  keyId?: string | null;
}

export interface VerifyResult {
  ok: boolean;
  storedSha256: string;
  storedBytes: number;
  reason?: string;
  /** pgdump: entries in the archive's table of contents; tar: entries in the archive. */
  tocEntries?: number;
}

/** Lines of `pg_restore --list` that name an archive entry (comments start with ';'). */
export function countTocEntries(list: string): number {
  return list.split("\n").filter((l) => l.trim() !== "" && !l.startsWith(";")).length;
}

/**
 * Re-reads a stored part end to end and checks it can be restored. Damage, truncation and a
 * wrong passphrase give ok:false with a reason; only storage being unreachable throws.
 */
export async function verifyStoredObject(opts: VerifyOptions): Promise<VerifyResult> {
  const { storage, key } = opts;
  let body: Readable;
  try {
    body = await storage.get(key);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) return { ok: false, storedSha256: "", storedBytes: 0, reason: `object missing: ${key}` };
    throw e;
  }

  const stored = createHashingStream();
  const plain = createHashingStream();
  const content = createDecompressor(opts.compression);
  const chain = pipeline(body, stored.stream, createDecryptStream(opts.passphrase), plain.stream, content);
  chain.catch(() => undefined);

  let entries: number;
  try {
    entries =
      opts.kind === "pgdump"
        ? countTocEntries(await pgRestoreList(content, opts.binDir))
        : await countTarEntries(content);
    await chain;
  } catch (e) {
    if (!isContentFailure(e)) throw e;
    // A second, hash-only read tells a damaged object (checksum differs) from a wrong key.
    const recheck = await hashObject(storage, key);
    if (recheck.sha256 !== opts.expectedSha256) {
      return { ok: false, ...mismatch(opts.expectedSha256, recheck) };
    }
    if (isCodecError(e) && opts.expectedPlainSha256) {
      // Not decompressible: a wrong key, damage before encryption, or the codec? A decrypting read decides.
      const part = { name: opts.kind === "tar" ? "files" : "database", key, sha256: opts.expectedSha256, plainSha256: opts.expectedPlainSha256, compression: opts.compression };
      const why = await explainUnreadablePart(storage, part, opts.passphrase, opts.keyId ?? null, e).catch(() => null);
      if (why) return { ok: false, storedSha256: recheck.sha256, storedBytes: recheck.bytes, reason: why.message };
    }
    return { ok: false, storedSha256: recheck.sha256, storedBytes: recheck.bytes, reason: contentReason(e, opts.kind) };
  }

  const result = { storedSha256: stored.digest(), storedBytes: stored.bytes() };
  if (result.storedSha256 !== opts.expectedSha256) {
    return { ok: false, ...mismatch(opts.expectedSha256, { sha256: result.storedSha256, bytes: result.storedBytes }) };
  }
  if (opts.expectedPlainSha256 && plain.digest() !== opts.expectedPlainSha256) {
    return {
      ok: false,
      ...result,
      reason: `decrypted content checksum mismatch: expected ${opts.expectedPlainSha256}, got ${plain.digest()}`,
    };
  }
  return { ok: true, ...result, tocEntries: entries };
}

function mismatch(expected: string, got: { sha256: string; bytes: number }) {
  return {
    storedSha256: got.sha256,
    storedBytes: got.bytes,
    reason: `stored object checksum mismatch: expected ${expected}, got ${got.sha256} (${got.bytes} bytes; object altered or truncated)`,
  };
}

/** Failures that mean "this object is bad", as opposed to "we could not look at it". */
function isContentFailure(e: unknown): boolean {
  return (
    e instanceof DecryptionError ||
    isCodecError(e) ||
    e instanceof PgToolError ||
    e instanceof UnsafeTarEntryError ||
    // tar-stream's parse errors are plain Errors; anything from the tar parser counts.
    (e instanceof Error && /tar|header|checksum|size mismatch|unexpected end/i.test(e.message))
  );
}

function contentReason(e: unknown, kind: "pgdump" | "tar"): string {
  if (e instanceof DecryptionError) return e.message;
  if (isCodecError(e)) return `archive does not decompress: ${(e as Error).message}`;
  const msg = e instanceof Error ? e.message : String(e);
  return kind === "pgdump" ? `archive unreadable by pg_restore: ${msg}` : `files archive unreadable: ${msg}`;
}

export async function hashObject(storage: Storage, key: string): Promise<{ sha256: string; bytes: number }> {
  const h = createHashingStream();
  const discard = new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
  await pipeline(await storage.get(key), h.stream, discard);
  return { sha256: h.digest(), bytes: h.bytes() };
}
