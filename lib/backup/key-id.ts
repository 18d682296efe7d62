// The encryption key's id (issue 12 §3): random, generated with the key, never derived
// from it — a value computed from the passphrase (the old HMAC "fingerprint", in every
// manifest) lets anyone holding a manifest test passphrase guesses offline at HMAC speed.
// - Embedded mode: `npm start` generates the id beside the passphrase in
//   $DATA_DIR/secrets.json and passes it as BACKUP_ENCRYPTION_KEY_ID.
// - A passphrase from the environment: the id lives in the EncryptionKey table with a slow
//   salted verifier (scrypt N=2^14, r=8, p=5: ~16 MiB and ~0.2 s per guess) used only to
//   recognise the key on the next start; the verifier is never in manifests or API answers.
//   Those parameters are one of OWASP's equivalent scrypt settings (Password Storage Cheat
//   Sheet), the one with the least memory: the worker computes it once per process, beside
//   a running backup, under the 200 MB bound (decision 120). Verifiers made with other
//   parameters (2^15/8/1 before 2026-12-02) still match, and are rewritten when they do.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHmac } from "node:crypto";
import { promisify } from "node:util";
import type { Db } from "../db";

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const PARAMS = { N: 2 ** 14, r: 8, p: 5, maxmem: 64 * 1024 * 1024 };
export const VERIFIER_PARAMS: Readonly<{ N: number; r: number; p: number }> = { N: PARAMS.N, r: PARAMS.r, p: PARAMS.p };
const LOCK = 7_265_302;

export const KEY_ID = /^[0-9a-f]{16}$/;

export function newKeyId(): string {
  return randomBytes(8).toString("hex");
}

async function makeVerifier(passphrase: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(passphrase, salt, 32, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Whether a verifier was made with other parameters than today's (it is rewritten when it matches). */
export function verifierOutdated(verifier: string): boolean {
  const [kind, n, r, p] = verifier.split("$");
  return kind === "scrypt" && (Number(n) !== PARAMS.N || Number(r) !== PARAMS.r || Number(p) !== PARAMS.p);
}

export async function verifierMatches(passphrase: string, verifier: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = verifier.split("$");
  if (kind !== "scrypt" || !hash) return false;
  const want = Buffer.from(hash, "base64");
  const got = await scrypt(passphrase, Buffer.from(salt, "base64"), want.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: PARAMS.maxmem });
  return timingSafeEqual(got, want);
}

// Per catalogue (a test, or a drill, may hold several) and passphrase.
const cache = new WeakMap<Db, Map<string, Promise<string>>>();

/**
 * The id of `passphrase`'s key: `configured` when given (embedded mode), else the
 * EncryptionKey row whose verifier matches, created on first use. Cached per client.
 */
export function keyIdFor(db: Db, passphrase: string, configured?: string): Promise<string> {
  if (configured) return Promise.resolve(configured);
  let byPassphrase = cache.get(db);
  if (!byPassphrase) cache.set(db, (byPassphrase = new Map()));
  const known = byPassphrase;
  let p = known.get(passphrase);
  if (!p) {
    p = findOrCreate(db, passphrase);
    p.catch(() => known.delete(passphrase));
    known.set(passphrase, p);
  }
  return p;
}

async function findOrCreate(db: Db, passphrase: string): Promise<string> {
  // Serialised so that two replicas starting with a new key agree on one id.
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK})`;
      for (const row of await tx.encryptionKey.findMany({ orderBy: { createdAt: "asc" } })) {
        if (!(await verifierMatches(passphrase, row.verifier))) continue;
        if (verifierOutdated(row.verifier)) await tx.encryptionKey.update({ where: { id: row.id }, data: { verifier: await makeVerifier(passphrase) } });
        return row.id;
      }
      const id = newKeyId();
      await tx.encryptionKey.create({ data: { id, verifier: await makeVerifier(passphrase) } });
      return id;
    },
    { timeout: 60_000, maxWait: 60_000 },
  );
}

/**
 * The fingerprint manifests carried before key ids (HMAC-SHA256 of a constant under the
 * passphrase, 64 bits). Only compared with old manifests, never written or shown.
 */
export function legacyKeyFingerprint(passphrase: string): string {
  return createHmac("sha256", passphrase).update("vaultline-key-fingerprint").digest("hex").slice(0, 16);
}

/**
 * Whether the configured key is the one a manifest was made with: true, false, or null
 * when the manifest names a key id this catalogue cannot judge (a catalogue rebuilt
 * elsewhere): then only decryption can tell. Never creates a key record, so checking with
 * a wrong passphrase leaves nothing behind.
 */
export async function sameKey(
  db: Db,
  encryption: { keyId?: string; keyFingerprint?: string },
  passphrase: string,
  configured?: string,
): Promise<boolean | null> {
  if (encryption.keyId) {
    if (configured && encryption.keyId === configured) return true;
    const row = await db.encryptionKey.findUnique({ where: { id: encryption.keyId } });
    return row ? verifierMatches(passphrase, row.verifier) : null;
  }
  if (encryption.keyFingerprint) return encryption.keyFingerprint === legacyKeyFingerprint(passphrase);
  return null;
}

// Per catalogue, id and passphrase: one scrypt per configured key and process.
const recorded = new WeakMap<Db, Map<string, Promise<boolean | null>>>();

/**
 * Whether `passphrase` is the one the catalogue recorded for key `id`: true, false, or null
 * when the catalogue holds no passphrase verifier for that id (embedded mode, a catalogue
 * rebuilt elsewhere, a public key). Never creates a record.
 */
export function recordedKeyMatches(db: Db, id: string, passphrase: string): Promise<boolean | null> {
  let known = recorded.get(db);
  if (!known) recorded.set(db, (known = new Map()));
  const cacheKey = `${id}\u0000${passphrase}`;
  let p = known.get(cacheKey);
  if (!p) {
    const map = known;
    p = db.encryptionKey.findUnique({ where: { id } }).then((row) => (row?.verifier.startsWith("scrypt$") ? verifierMatches(passphrase, row.verifier) : null));
    p.catch(() => map.delete(cacheKey));
    known.set(cacheKey, p);
  }
  return p;
}

/** A verifier for `passphrase` in the EncryptionKey format (tests record keys with it). */
export function verifierFor(passphrase: string): Promise<string> {
  return makeVerifier(passphrase);
}

/**
 * The id of a public key (write-only backups, issue 16 §3): random like a passphrase's,
 * recorded in EncryptionKey with the key's fingerprint as its "verifier" — a public
 * key's fingerprint is no secret (gpg prints it from every message encrypted to it).
 */
export async function publicKeyIdFor(db: Db, fingerprint: string): Promise<string> {
  const verifier = `openpgp$${fingerprint}`;
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK})`;
    const row = await tx.encryptionKey.findFirst({ where: { verifier } });
    if (row) return row.id;
    const id = newKeyId();
    await tx.encryptionKey.create({ data: { id, verifier } });
    return id;
  });
}
