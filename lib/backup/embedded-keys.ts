// Embedded mode's keys (issue 16 §1): `npm start` keeps the current passphrase and its id
// in $DATA_DIR/secrets.json; a rotation moves them to `oldEncryptionKeys` and generates a
// new pair. Every reader (web, worker, CLI) reads the file when it needs a key, so a
// rotation from the UI takes effect everywhere at once, without a restart.
import { chmodSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { newKeyId } from "./key-id";

export interface EmbeddedKey {
  id: string;
  passphrase: string;
  /** When it stopped encrypting. */
  retiredAt?: string;
}

export interface EmbeddedKeys {
  current: EmbeddedKey;
  old: EmbeddedKey[];
}

type SecretsFile = Record<string, unknown> & {
  encryptionPassphrase?: string;
  encryptionKeyId?: string;
  oldEncryptionKeys?: EmbeddedKey[];
};

function read(file: string): SecretsFile {
  return JSON.parse(readFileSync(file, "utf8")) as SecretsFile;
}

export function readEmbeddedKeys(file: string): EmbeddedKeys {
  const s = read(file);
  if (!s.encryptionPassphrase || !s.encryptionKeyId) throw new Error(`${file} holds no encryption key`);
  return { current: { id: s.encryptionKeyId, passphrase: s.encryptionPassphrase }, old: s.oldEncryptionKeys ?? [] };
}

/** Atomically replaces the file (temp file, fsync, rename), mode 0600. */
function write(file: string, s: SecretsFile) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2), { mode: 0o600 });
  const fd = openSync(tmp, "r");
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
  chmodSync(file, 0o600);
}

/** A new current key; the previous one still decrypts. Returns the new key (shown once). */
export function rotateEmbeddedKey(file: string): EmbeddedKey {
  const s = read(file);
  const before = readEmbeddedKeys(file);
  const next: EmbeddedKey = { id: newKeyId(), passphrase: randomBytes(32).toString("base64url") };
  write(file, {
    ...s,
    encryptionPassphrase: next.passphrase,
    encryptionKeyId: next.id,
    oldEncryptionKeys: [{ ...before.current, retiredAt: new Date().toISOString() }, ...before.old],
  });
  return next;
}

/** Removes an old key from the file. The caller checks that no backup needs it. */
export function retireEmbeddedKey(file: string, id: string): boolean {
  const s = read(file);
  const old = s.oldEncryptionKeys ?? [];
  if (!old.some((k) => k.id === id)) return false;
  write(file, { ...s, oldEncryptionKeys: old.filter((k) => k.id !== id) });
  return true;
}
