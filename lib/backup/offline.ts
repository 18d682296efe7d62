// Working from storage alone — the catalogue database may be gone (DESIGN §1: recover
// even when the dashboard itself is gone). Used by the CLI.
import type { Storage } from "./storage/types";
import { parseManifest, type Manifest } from "./manifest";
import { verifyStoredObject } from "./archive";
import type { DecryptKey } from "./crypto";
import { legacyKeyFingerprint } from "./key-id";
import { KeyUnavailableError, recipientOf, type PassphraseKey } from "./keyring";

export async function listManifests(storage: Storage, prefix: string, env: string): Promise<{ key: string; manifest: Manifest }[]> {
  const out: { key: string; manifest: Manifest }[] = [];
  for await (const o of storage.list(`${prefix}/${env}/`)) {
    if (!o.key.endsWith("/manifest.json")) continue;
    try {
      out.push({ key: o.key, manifest: parseManifest(await storage.getBytes(o.key)) });
    } catch {
      // An unreadable manifest is reported by `verify`, not by a listing.
    }
  }
  return out.sort((a, b) => b.manifest.createdAt.localeCompare(a.manifest.createdAt));
}

export async function findManifest(storage: Storage, prefix: string, env: string, id: string) {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`not a backup id: ${id}`);
  for await (const o of storage.list(`${prefix}/${env}/`)) {
    if (o.key.endsWith(`/${id}/manifest.json`)) return { key: o.key, manifest: parseManifest(await storage.getBytes(o.key)) };
  }
  throw new Error(`no backup ${id} under ${prefix}/${env}/ in ${storage.description}`);
}

export async function verifyParts(storage: Storage, manifest: Manifest, passphrase: DecryptKey, binDir?: string) {
  const results = [];
  for (const p of manifest.parts) {
    const r = await verifyStoredObject({
      storage,
      key: p.key,
      passphrase,
      expectedSha256: p.sha256,
      expectedPlainSha256: p.plainSha256,
      binDir,
      kind: p.name === "files" ? "tar" : "pgdump",
      compression: p.compression,
    });
    results.push({ part: p.name, ...r });
  }
  return results;
}

/** The keys the CLI knows without a catalogue: ids come only from the configuration. */
export interface OfflineKeys {
  current?: PassphraseKey;
  old: PassphraseKey[];
  privateKey?: string;
}

/**
 * The key for a manifest, without the catalogue (the CLI): by the key id when the
 * configuration gives ids (embedded mode, {"id","passphrase"} entries); with a single
 * configured passphrase and no ids, that passphrase (decryption then tells). Throws
 * KeyUnavailableError naming the key otherwise — never tries keys in turn.
 */
export function offlineDecryptionKey(keys: OfflineKeys, encryption: Manifest["encryption"]): DecryptKey {
  const recipient = recipientOf(encryption);
  if (recipient) {
    if (!keys.privateKey) throw new KeyUnavailableError(encryption.keyId ?? null, `this backup is encrypted to the public key ${recipient}: set BACKUP_ENCRYPTION_PRIVATE_KEY`, true);
    return { privateKey: keys.privateKey };
  }
  const all = [...(keys.current ? [keys.current] : []), ...keys.old];
  const byId = all.find((k) => k.id && k.id === encryption.keyId);
  if (byId) return byId.passphrase;
  const legacy = all.find((k) => encryption.keyFingerprint && legacyKeyFingerprint(k.passphrase) === encryption.keyFingerprint);
  if (legacy) return legacy.passphrase;
  const unnamed = all.filter((k) => !k.id || !encryption.keyId);
  if (all.length === 1 && unnamed.length === 1) return all[0].passphrase;
  throw new KeyUnavailableError(
    encryption.keyId ?? null,
    `this backup is encrypted with key ${encryption.keyId ?? "(made before key ids)"}, which no configured passphrase is known to be: ` +
      `give its id with it, as BACKUP_ENCRYPTION_OLD_PASSPHRASES='[{"id":"${encryption.keyId ?? "…"}","passphrase":"…"}]'`,
  );
}
