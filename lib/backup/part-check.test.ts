import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { writeEncryptedObject } from "./archive";
import { createDecryptStream, type DecryptKey } from "./crypto";
import { createDecompressor } from "./compression";
import { createHashingStream } from "./hashing";
import { explainPartFailure, PartUnreadableError, type PartRef } from "./part-check";
import { LocalStorage } from "./storage/local";

const PASS = "part-check-passphrase";
const KEY_ID = "0123456789abcdef";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
// What pg_dump -Fc -Z0 writes, roughly: a header and text-like data.
const dump = Buffer.concat([Buffer.from("PGDMP\x01\x0f\x00"), Buffer.from("COPY public.customers (id, email) FROM stdin;\n".repeat(4000))]);
const zstd = zlib.zstdCompressSync(dump);

let dir: string;
let storage: LocalStorage;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vaultline-part-check-"));
  storage = new LocalStorage(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Stores `plain` encrypted under PASS, as a backup writes a part whose codec ran before. */
async function store(key: string, plain: Buffer): Promise<{ sha256: string; plainSha256: string }> {
  const w = await writeEncryptedObject({ source: Readable.from([plain]), storage, key, passphrase: PASS });
  return { sha256: w.storedSha256, plainSha256: w.plainSha256 };
}

/** The restore's read: stored → SHA-256 → decrypt → decompress → reader; its failure explained. */
async function restoreRead(part: PartRef, key: DecryptKey = PASS): Promise<unknown> {
  const stored = createHashingStream();
  try {
    await pipeline(await storage.get(part.key), stored.stream, createDecryptStream(key), createDecompressor(part.compression), new Writable({ write: (_c, _e, cb) => cb() }));
    return null;
  } catch (e) {
    return explainPartFailure(storage, part, key, KEY_ID, e);
  }
}

describe("a part that does not read back is explained, never reported as a bare codec error", () => {
  it("garbage after decryption (what a wrong session key gives): names the part, the key id and the plain checksum", async () => {
    // The decrypted bytes are not the zstd stream the backup recorded: zstd says only
    // "Unknown frame descriptor"; the plain checksum tells it was the wrong content.
    const s = await store("a/archive.dump.gpg", randomBytes(300_000));
    const part = { name: "database", key: "a/archive.dump.gpg", sha256: s.sha256, plainSha256: sha(zstd), compression: { codec: "zstd" as const } };
    const e = await restoreRead(part);
    expect(e).toBeInstanceOf(PartUnreadableError);
    expect((e as PartUnreadableError).verdict).toBe("plain-mismatch");
    expect((e as Error).message).toMatch(/^the database part decrypted with key 0123456789abcdef does not match the plain checksum recorded at backup time/);
    expect((e as Error).message).toContain(`expected ${sha(zstd).slice(0, 12)}`);
    expect((e as Error).message).toContain("zstd decompressor refused the decrypted bytes (Unknown frame descriptor)");
  });

  it("intact bytes the codec refuses: says the archive is intact and how to read it with stock tools", async () => {
    // Recorded as zstd, but the stored plaintext is the bare dump: the plain checksum matches.
    const s = await store("b/archive.dump.gpg", dump);
    const part = { name: "database", key: "b/archive.dump.gpg", sha256: s.sha256, plainSha256: s.plainSha256, compression: { codec: "zstd" as const } };
    const e = await restoreRead(part);
    expect((e as PartUnreadableError).verdict).toBe("codec-refused");
    expect((e as Error).message).toContain("decrypts with key 0123456789abcdef to exactly the bytes written at backup time (plain checksum matches)");
    expect((e as Error).message).toContain("gpg -d | zstd -d | pg_restore");
  });

  it("a wrong passphrase: the part and the key id are named with OpenPGP's reason", async () => {
    const s = await store("c/archive.dump.gpg", zstd);
    const part = { name: "database", key: "c/archive.dump.gpg", sha256: s.sha256, plainSha256: s.plainSha256, compression: { codec: "zstd" as const } };
    const e = await restoreRead(part, "not-the-passphrase");
    expect((e as PartUnreadableError).verdict).toBe("undecryptable");
    expect((e as Error).message).toMatch(/^the database part cannot be decrypted with key 0123456789abcdef: wrong passphrase or corrupt archive/);
  });

  it("a right key and a valid stream: nothing to explain", async () => {
    const s = await store("d/archive.dump.gpg", zstd);
    expect(await restoreRead({ name: "database", key: "d/archive.dump.gpg", sha256: s.sha256, plainSha256: s.plainSha256, compression: { codec: "zstd" } })).toBeNull();
  });

  it("an object changed in storage since its checksum was taken: said so first", async () => {
    const s = await store("e/archive.dump.gpg", randomBytes(10_000));
    const part = { name: "files", key: "e/archive.dump.gpg", sha256: "0".repeat(64), plainSha256: s.plainSha256, compression: { codec: "zstd" as const } };
    const e = await restoreRead(part);
    expect((e as PartUnreadableError).verdict).toBe("stored-changed");
    expect((e as Error).message).toMatch(/^the files part no longer matches its stored checksum/);
  });

  it("errors that are not about the bytes (pg_restore, storage) are returned as they are", async () => {
    const other = new Error("pg_restore failed: role \"x\" does not exist");
    const part = { name: "database", key: "d/archive.dump.gpg", sha256: "", plainSha256: "", compression: { codec: "zstd" as const } };
    expect(await explainPartFailure(storage, part, PASS, KEY_ID, other)).toBe(other);
  });
});
