// Which key encrypts and which key decrypts (DESIGN §9, issue 16). The current key
// encrypts; older passphrases still decrypt. Each key has a random id (key-id.ts) that the
// manifest records, and a reader picks the key by that id — never by trying keys in turn.
// A public key (BACKUP_ENCRYPTION_PUBLIC_KEY) makes backups the server cannot read: they
// need the private key, from BACKUP_ENCRYPTION_PRIVATE_KEY (a recovery instance) or
// supplied for one operation.
import type { BackupContext } from "./context";
import { ENCRYPTION_ALGORITHM, keyFingerprint, type DecryptKey, type EncryptKey } from "./crypto";
import { readEmbeddedKeys } from "./embedded-keys";
import { keyIdFor, legacyKeyFingerprint, publicKeyIdFor, recordedKeyMatches } from "./key-id";
import type { Manifest } from "./manifest";

/** A passphrase and, when configured beside it, its id. */
export interface PassphraseKey {
  passphrase: string;
  id?: string;
}

/** A private key for one operation (or from the configuration); never stored. */
export interface PrivateKey {
  privateKey: string;
  passphrase?: string;
}

/** The key a backup needs is not configured; the message names it and says what to do. */
export class KeyUnavailableError extends Error {
  constructor(
    public readonly keyId: string | null,
    message: string,
    /** The backup was encrypted to a public key: the private key is what is missing. */
    public readonly needsPrivateKey = false,
  ) {
    super(message);
    this.name = "KeyUnavailableError";
  }
}

type Keys = Pick<BackupContext, "db" | "passphrase" | "keyId" | "oldPassphrases" | "publicKey" | "privateKey" | "keysFile">;

/** The configured passphrases, current first (embedded mode reads $DATA_DIR/secrets.json each time). */
function passphrases(ctx: Keys): { current: PassphraseKey | null; old: PassphraseKey[] } {
  if (ctx.keysFile) {
    const k = readEmbeddedKeys(ctx.keysFile);
    return { current: k.current, old: [...k.old, ...(ctx.oldPassphrases ?? [])] };
  }
  return { current: ctx.passphrase ? { passphrase: ctx.passphrase, id: ctx.keyId } : null, old: ctx.oldPassphrases ?? [] };
}

export interface ResolvedPassphrase {
  id: string;
  passphrase: string;
  current: boolean;
}

/** Every configured passphrase with its id, duplicates included; `configured`: the id came with it. */
async function allPassphraseKeys(ctx: Keys): Promise<(ResolvedPassphrase & { configured: boolean })[]> {
  const { current, old } = passphrases(ctx);
  const out: (ResolvedPassphrase & { configured: boolean })[] = [];
  if (current) {
    out.push({ id: await keyIdFor(ctx.db, current.passphrase, current.id), passphrase: current.passphrase, current: !ctx.publicKey, configured: !!current.id });
  }
  for (const k of old) out.push({ id: await keyIdFor(ctx.db, k.passphrase, k.id), passphrase: k.passphrase, current: false, configured: !!k.id });
  return out;
}

/** Every configured passphrase with its id (looked up once per catalogue, see key-id.ts), one per id. */
export async function passphraseKeys(ctx: Keys): Promise<ResolvedPassphrase[]> {
  const out: ResolvedPassphrase[] = [];
  for (const { id, passphrase, current } of await allPassphraseKeys(ctx)) {
    if (!out.some((o) => o.id === id)) out.push({ id, passphrase, current });
  }
  return out;
}

export interface CurrentKey {
  id: string;
  key: EncryptKey;
  /** Fingerprint of the public key, when backups are encrypted to one. */
  recipient?: string;
}

/** The key new backups and re-encryptions are written with. */
export async function currentKey(ctx: Keys): Promise<CurrentKey> {
  if (ctx.publicKey) {
    const recipient = await keyFingerprint(ctx.publicKey);
    return { id: await publicKeyIdFor(ctx.db, recipient), key: { publicKey: ctx.publicKey }, recipient };
  }
  const { current } = passphrases(ctx);
  if (!current) throw new KeyUnavailableError(null, "no encryption key is configured (BACKUP_ENCRYPTION_PASSPHRASE or BACKUP_ENCRYPTION_PUBLIC_KEY)");
  // A backup labelled with another passphrase's id could only be read by trying keys: refused.
  if (current.id && (await recordedKeyMatches(ctx.db, current.id, current.passphrase)) === false) {
    throw new KeyUnavailableError(current.id, `key id ${current.id} (BACKUP_ENCRYPTION_KEY_ID) belongs to another passphrase in this catalogue: give the new passphrase a new id, or none`);
  }
  return { id: await keyIdFor(ctx.db, current.passphrase, current.id), key: current.passphrase };
}

/** The manifest's `encryption` for a backup written with `key`. */
export function manifestEncryption(key: CurrentKey): Manifest["encryption"] {
  return { algorithm: ENCRYPTION_ALGORITHM, keyId: key.id, ...(key.recipient ? { recipient: key.recipient } : {}) };
}

/** The recipient fingerprint of a public-key backup, else null. */
export function recipientOf(encryption: Manifest["encryption"]): string | null {
  const r = (encryption as { recipient?: unknown }).recipient;
  return typeof r === "string" ? r : null;
}

/**
 * The key that decrypts a backup, chosen by the manifest's key id. Throws
 * KeyUnavailableError naming the key when it is not configured. `supplied`: a private key
 * given for this one operation (public-key backups).
 */
export async function decryptionKeyFor(ctx: Keys, encryption: Manifest["encryption"], supplied?: PrivateKey): Promise<DecryptKey> {
  const recipient = recipientOf(encryption);
  const keyId = encryption.keyId ?? null;
  if (recipient) {
    const pk = supplied ?? (ctx.privateKey ? { privateKey: ctx.privateKey } : undefined);
    if (!pk) {
      throw new KeyUnavailableError(
        keyId,
        `this backup is encrypted to the public key ${recipient} (key ${keyId}) and this server holds no private key: supply the private key for this operation, or set BACKUP_ENCRYPTION_PRIVATE_KEY on a recovery instance`,
        true,
      );
    }
    let fingerprint: string;
    try {
      fingerprint = await keyFingerprint(pk.privateKey);
    } catch (e) {
      throw new KeyUnavailableError(keyId, `the private key given is unreadable: ${(e as Error).message}`, true);
    }
    if (fingerprint !== recipient) {
      throw new KeyUnavailableError(keyId, `the private key given (${fingerprint}) is not the one this backup is encrypted to (${recipient})`, true);
    }
    return pk.privateKey === ctx.privateKey && !supplied ? { privateKey: pk.privateKey } : { privateKey: pk.privateKey, passphrase: pk.passphrase };
  }
  const keys = await allPassphraseKeys(ctx);
  if (keyId) {
    // Exactly one passphrase per id, or none: OpenPGP cannot tell a wrong passphrase from a
    // right one (a session key decrypted with the wrong one can look valid, and streaming
    // output is only authenticated at its end), so an ambiguous id is refused, never guessed.
    const claims = keys.filter((c) => c.id === keyId);
    if (new Set(claims.map((c) => c.passphrase)).size > 1) {
      throw new KeyUnavailableError(
        keyId,
        `key ${keyId} is configured with ${new Set(claims.map((c) => c.passphrase)).size} different passphrases ` +
          `(BACKUP_ENCRYPTION_KEY_ID, BACKUP_ENCRYPTION_OLD_PASSPHRASES or the embedded keys file): keep only the one this key was made with`,
      );
    }
    const k = claims[0];
    if (k) {
      // An id given beside a passphrase is checked against the catalogue's record of that id.
      if (k.configured && (await recordedKeyMatches(ctx.db, keyId, k.passphrase)) === false) {
        throw new KeyUnavailableError(
          keyId,
          `the passphrase configured for key ${keyId} is not the one this catalogue recorded for that id: correct it in BACKUP_ENCRYPTION_OLD_PASSPHRASES (or BACKUP_ENCRYPTION_PASSPHRASE)`,
        );
      }
      return k.passphrase;
    }
    throw new KeyUnavailableError(
      keyId,
      `this backup is encrypted with key ${keyId}, which is not configured: add its passphrase to BACKUP_ENCRYPTION_OLD_PASSPHRASES ` +
        `(as {"id":"${keyId}","passphrase":"…"} when this catalogue has never seen it)`,
    );
  }
  const legacy = encryption.keyFingerprint;
  const k = keys.find((c) => legacy && legacyKeyFingerprint(c.passphrase) === legacy);
  if (k) return k.passphrase;
  throw new KeyUnavailableError(null, "this backup (made before key ids) is encrypted with a passphrase that is not configured");
}
