// Encryption keys at the boundary (issue 16): the environment's old passphrases and
// armored keys, and the API's request bodies.
import { z } from "zod";

const passphrase = z.string().min(12, "at least 12 characters");
const keyId = z.string().regex(/^[0-9a-f]{16}$/, "16 lowercase hex digits");

/**
 * BACKUP_ENCRYPTION_OLD_PASSPHRASES: a JSON array of passphrases, or of
 * {"id","passphrase"} when the key id must be given (a catalogue that never saw the key).
 */
export const oldPassphrasesEnv = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of passphrases" });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.union([passphrase, z.object({ id: keyId, passphrase })]), "must be a JSON array of passphrases"))
  .transform((keys) => keys.map((k) => (typeof k === "string" ? { passphrase: k } : k)));

/** An armored OpenPGP key in an environment variable; `\n` may stand for line breaks (env files). */
export function armoredKeyEnv(kind: "PUBLIC" | "PRIVATE") {
  return z
    .string()
    .transform((s) => s.replace(/\\n/g, "\n").trim() + "\n")
    .refine((s) => s.startsWith(`-----BEGIN PGP ${kind} KEY BLOCK-----`), `an armored OpenPGP ${kind.toLowerCase()} key (-----BEGIN PGP ${kind} KEY BLOCK-----)`);
}

/** A private key pasted for one operation: held in memory for it, never stored or logged. */
export const suppliedPrivateKeySchema = z.strictObject({
  privateKey: z
    .string()
    .max(60_000)
    .refine((s) => s.trim().startsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----"), "an armored OpenPGP private key (-----BEGIN PGP PRIVATE KEY BLOCK-----)"),
  passphrase: z.string().max(1024).optional(),
});

// A body that fits neither shape would otherwise say only "Invalid input".
export const reencryptRequestSchema = z.union(
  [z.strictObject({ all: z.literal(true) }), z.strictObject({ ids: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).min(1).max(1000) })],
  { error: 'one of {"all":true} (every backup not on the current key) or {"ids":["…"]} (those backups), not both' },
);

export const retireKeyRequestSchema = z.strictObject({ keyId, confirm: z.string().max(100) });

/** The key variables of lib/config.ts (issue 16). */
export const keyEnv = {
  BACKUP_ENCRYPTION_OLD_PASSPHRASES: oldPassphrasesEnv.optional(),
  BACKUP_ENCRYPTION_PUBLIC_KEY: armoredKeyEnv("PUBLIC").optional(),
  BACKUP_ENCRYPTION_PRIVATE_KEY: armoredKeyEnv("PRIVATE").optional(),
  /** Embedded mode: $DATA_DIR/secrets.json, set by `npm start` (lib/backup/embedded-keys.ts). */
  BACKUP_ENCRYPTION_KEYS_FILE: z.string().min(1).optional(),
};

export const rotateKeyRequestSchema = z.strictObject({ confirm: z.unknown().optional() });
