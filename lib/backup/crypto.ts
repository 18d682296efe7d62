// OpenPGP symmetric encryption of archives, in the format stock `gpg --decrypt` reads
// (DESIGN §1: recoverable without the dashboard). Everything streams: memory stays flat
// however large the archive is.
import { Duplex, Readable } from "node:stream";
import * as openpgp from "openpgp";
import { coalesced } from "./coalesce";

export const ENCRYPTION_ALGORITHM = "openpgp-aes256" as const;

/** Per-call settings; openpgp's global config is left alone so other users are unaffected. */
const ENCRYPT_CONFIG: openpgp.PartialConfig = {
  // AEAD (SEIPDv2) packets are not readable by gpg 2.2, which many servers still ship.
  aeadProtect: false,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  // pg_dump -Fc is already compressed; a second pass would only cost CPU.
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  // Argon2 S2K is not understood by gpg 2.2.
  s2kType: openpgp.enums.s2k.iterated,
};

const DECRYPT_CONFIG: openpgp.PartialConfig = {
  // Without this openpgp buffers the whole plaintext until the final integrity check. We
  // stream instead; the integrity failure still surfaces, as an error at the end of the
  // stream, and restores verify the stored checksum before feeding pg_restore anyway.
  allowUnauthenticatedStream: true,
};

/** Wrong key, flipped bytes, truncation: anything that makes an archive undecryptable. */
export class DecryptionError extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`wrong passphrase or corrupt archive (${detail})`, options);
    this.name = "DecryptionError";
  }
}

/**
 * A pull-based web stream over a Node stream: openpgp asks for a chunk only when it can
 * take one, so back-pressure reaches the source (Readable.toWeb buffers more eagerly).
 */
function toWeb(source: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(typeof value === "string" ? Buffer.from(value) : (value as Uint8Array));
      },
      async cancel(reason) {
        await it.return?.(reason);
      },
    },
    { highWaterMark: 1 },
  );
}

function fromWeb(stream: ReadableStream<Uint8Array>): Readable {
  // Small object-mode buffer: each chunk is already up to 64 KiB; see NOTES.md on memory.
  return Readable.fromWeb(stream as import("node:stream/web").ReadableStream<Uint8Array>, {
    highWaterMark: 4,
    objectMode: true,
  });
}

function detail(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * What encrypts: a passphrase (symmetric, the default) or an armored OpenPGP public key
 * (write-only backups, issue 16 §3: the server cannot read what it wrote).
 */
export type EncryptKey = string | { publicKey: string };
/** What decrypts: a passphrase, or an armored private key (with its passphrase when it has one). */
export type DecryptKey = string | { privateKey: string; passphrase?: string };

/** The primary-key fingerprint (lowercase hex) of an armored public or private key; throws a readable error. */
export async function keyFingerprint(armored: string): Promise<string> {
  try {
    return (await openpgp.readKey({ armoredKey: armored })).getFingerprint();
  } catch (e) {
    throw new Error(`not an armored OpenPGP key (${detail(e)})`);
  }
}

async function encryptionOptions(key: EncryptKey) {
  if (typeof key === "string") return { passwords: [key] };
  const publicKey = await openpgp.readKey({ armoredKey: key.publicKey });
  return { encryptionKeys: publicKey.isPrivate() ? publicKey.toPublic() : publicKey };
}

async function decryptionOptions(key: DecryptKey) {
  if (typeof key === "string") return { passwords: [key] };
  let privateKey = await openpgp.readPrivateKey({ armoredKey: key.privateKey });
  if (!privateKey.isDecrypted()) {
    if (!key.passphrase) throw new DecryptionError("the private key is protected by a passphrase; supply it too");
    privateKey = await openpgp.decryptKey({ privateKey, passphrase: key.passphrase });
  }
  return { decryptionKeys: privateKey };
}

async function encryptIterable(input: AsyncIterable<unknown>, key: EncryptKey): Promise<Readable> {
  // One partial-length packet per chunk given: small chunks made encryption 3.6 times slower.
  const message = await openpgp.createMessage({ binary: toWeb(coalesced(input)), format: "binary" });
  const encrypted = await openpgp.encrypt({
    message,
    ...(await encryptionOptions(key)),
    format: "binary",
    config: ENCRYPT_CONFIG,
  });
  return fromWeb(encrypted as ReadableStream<Uint8Array>);
}

/** Remembers an error raised by the source itself, so it is not mistaken for bad data. */
function tracked(source: AsyncIterable<unknown>): { iterable: AsyncIterable<unknown>; error(): unknown } {
  let failure: unknown;
  const iterable = (async function* () {
    try {
      yield* source;
    } catch (e) {
      failure = e;
      throw e;
    }
  })();
  return { iterable, error: () => failure };
}

async function decryptIterable(input: AsyncIterable<unknown>, key: DecryptKey): Promise<Readable> {
  // A storage read that fails midway (connection reset) is a storage problem, not a wrong key.
  const source = tracked(input);
  const classify = (e: unknown) =>
    source.error() ?? (e instanceof DecryptionError ? e : new DecryptionError(detail(e), { cause: e }));
  let plain: Readable;
  try {
    const options = await decryptionOptions(key);
    const message = await openpgp.readMessage({ binaryMessage: toWeb(source.iterable), config: DECRYPT_CONFIG });
    const result = await openpgp.decrypt({
      message,
      ...options,
      format: "binary",
      config: DECRYPT_CONFIG,
    });
    plain = fromWeb(result.data as ReadableStream<Uint8Array>);
  } catch (e) {
    throw classify(e);
  }
  // Errors detected later (integrity check at the end, truncation) arrive through the stream.
  return Readable.from(
    (async function* () {
      try {
        // An archive's packets come out as they went in; older archives' are a few KiB each.
        yield* coalesced(plain);
      } catch (e) {
        throw classify(e);
      }
    })(),
    { objectMode: true, highWaterMark: 4 },
  );
}

/** Encrypts input with AES-256 under a passphrase or to a public key; the result is a binary OpenPGP message. */
export function encryptStream(input: Readable, key: EncryptKey): Promise<Readable> {
  return encryptIterable(input, key);
}

/** Rejects, or errors the returned stream, with DecryptionError on a wrong key or damaged data. */
export function decryptStream(input: Readable, key: DecryptKey): Promise<Readable> {
  return decryptIterable(input, key);
}

/** encryptStream as a Duplex, for use in the middle of stream.pipeline(). */
export function createEncryptStream(key: EncryptKey): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<unknown>) {
    yield* await encryptIterable(source, key);
  });
}

/** decryptStream as a Duplex, for use in the middle of stream.pipeline(). */
export function createDecryptStream(key: DecryptKey): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<unknown>) {
    yield* await decryptIterable(source, key);
  });
}
