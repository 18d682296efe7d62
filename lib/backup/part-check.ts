// Why a stored part could not be read back, said honestly. A codec error after decryption
// ("Unknown frame descriptor") only says "these bytes are not zstd": a wrong key, an archive
// damaged before encryption and a codec fault all look the same at that point. One more read
// of the part decides, in this order: the stored checksum, decryption with the same key to
// the end (OpenPGP's integrity check), and the plain checksum the backup recorded
// (`plainSha256`: the bytes `gpg -d` gives back).
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createDecryptStream, DecryptionError, type DecryptKey } from "./crypto";
import { stockDecompressCommand, type CompressionCodec } from "./compression";
import { createHashingStream } from "./hashing";
import type { Storage } from "./storage/types";

/** What the second read found. */
export type PartVerdict = "stored-changed" | "undecryptable" | "plain-mismatch" | "codec-refused";

/** A part that does not read back; the message names the part, the key id and what was checked. */
export class PartUnreadableError extends Error {
  constructor(
    message: string,
    public readonly verdict: PartVerdict,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PartUnreadableError";
  }
}

/** node:zlib's errors for a stream its codec cannot decode (damaged, truncated, or not that codec at all). */
export function isCodecError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? "";
  return /^(Z_|ZSTD_)/.test(code) || (e instanceof Error && /unexpected end of file/i.test(e.message));
}

export interface PartRef {
  name: string;
  key: string;
  sha256: string;
  plainSha256: string;
  compression?: { codec: CompressionCodec } | null;
}

const short = (hex: string) => `${hex.slice(0, 12)}…`;
const keyName = (keyId: string | null) => (keyId ? `key ${keyId}` : "the configured key");

/**
 * Reads the part again (stored bytes → SHA-256 → decrypt → SHA-256) and returns the honest
 * reason `cause` (the codec's or OpenPGP's error from the first read) stands for.
 */
export async function explainUnreadablePart(
  storage: Storage,
  part: PartRef,
  key: DecryptKey,
  keyId: string | null,
  cause: unknown,
): Promise<PartUnreadableError> {
  const codec = part.compression?.codec ?? "none";
  const refused = `${codec === "none" ? "the archive reader" : `the ${codec} decompressor`} refused the decrypted bytes (${(cause as Error)?.message ?? String(cause)})`;
  const stored = createHashingStream();
  const plain = createHashingStream();
  const discard = new Writable({ write: (_c, _e, cb) => cb() });
  let decryptFailure: unknown;
  try {
    await pipeline(await storage.get(part.key), stored.stream, createDecryptStream(key), plain.stream, discard);
  } catch (e) {
    if (!(e instanceof DecryptionError)) throw e;
    decryptFailure = e;
  }
  if (decryptFailure === undefined && stored.digest() !== part.sha256) {
    return new PartUnreadableError(
      `the ${part.name} part no longer matches its stored checksum (read ${stored.bytes()} bytes, SHA-256 ${short(stored.digest())}, expected ${short(part.sha256)}): it was altered or truncated in storage`,
      "stored-changed",
      { cause },
    );
  }
  if (decryptFailure !== undefined) {
    return new PartUnreadableError(
      `the ${part.name} part cannot be decrypted with ${keyName(keyId)}: ${(decryptFailure as Error).message}; ${refused}`,
      "undecryptable",
      { cause },
    );
  }
  if (plain.digest() !== part.plainSha256) {
    return new PartUnreadableError(
      `the ${part.name} part decrypted with ${keyName(keyId)} does not match the plain checksum recorded at backup time ` +
        `(SHA-256 ${short(plain.digest())}, expected ${short(part.plainSha256)}): wrong key for this key id, or an archive damaged before encryption; ${refused}`,
      "plain-mismatch",
      { cause },
    );
  }
  const stock = stockDecompressCommand(part.compression);
  return new PartUnreadableError(
    `the ${part.name} part decrypts with ${keyName(keyId)} to exactly the bytes written at backup time (plain checksum matches), yet ${refused}: ` +
      `the archive is intact; read it with stock tools (gpg -d${stock ? ` | ${stock}` : ""} | ${part.name === "files" ? "tar -x" : "pg_restore"}, docs/recovery.md)`,
    "codec-refused",
    { cause },
  );
}

/**
 * The error to report for a failed read of `part`: codec errors are explained by a second
 * read (above), a decryption failure is named with its part and key id, anything else
 * (pg_restore, storage, cancellation) is returned as it is.
 */
export async function explainPartFailure(storage: Storage, part: PartRef, key: DecryptKey, keyId: string | null, e: unknown): Promise<unknown> {
  if (e instanceof PartUnreadableError) return e;
  if (e instanceof DecryptionError) {
    return new PartUnreadableError(`the ${part.name} part cannot be decrypted with ${keyName(keyId)}: ${e.message}`, "undecryptable", { cause: e });
  }
  if (!isCodecError(e)) return e;
  try {
    return await explainUnreadablePart(storage, part, key, keyId, e);
  } catch {
    // The second read failed itself (storage gone): the first error is all there is.
    return e;
  }
}

/** The plain checksum did not match after a read that otherwise succeeded. */
export function plainMismatch(part: PartRef, got: string, keyId: string | null): PartUnreadableError {
  return new PartUnreadableError(
    `the ${part.name} part decrypted with ${keyName(keyId)} does not match the plain checksum recorded at backup time (SHA-256 ${short(got)}, expected ${short(part.plainSha256)})`,
    "plain-mismatch",
  );
}
