// Target connection URLs at rest (DESIGN §8: "stored encrypted; never returned, never
// logged"): AES-256-GCM with a key derived by HKDF from TARGET_URL_SECRET (default
// NEXTAUTH_SECRET). node:crypto does all of it; the format is versioned so the key can move.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

const VERSION = "v1";
const INFO = "vaultline target database url v1";

function keyFrom(secret: string): Buffer {
  if (secret.length < 16) throw new Error("the target URL secret must be at least 16 characters");
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.from("vaultline"), Buffer.from(INFO), 32));
}

/** `v1.<iv>.<tag>.<ciphertext>`, base64url parts. */
export function encryptTargetUrl(secret: string, url: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", keyFrom(secret), iv);
  const body = Buffer.concat([c.update(url, "utf8"), c.final()]);
  return [VERSION, iv.toString("base64url"), c.getAuthTag().toString("base64url"), body.toString("base64url")].join(".");
}

export class TargetSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TargetSecretError";
  }
}

export function decryptTargetUrl(secret: string, blob: string): string {
  const [version, iv, tag, body] = blob.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new TargetSecretError("the stored connection URL is in an unknown format");
  try {
    const d = createDecipheriv("aes-256-gcm", keyFrom(secret), Buffer.from(iv, "base64url"));
    d.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([d.update(Buffer.from(body, "base64url")), d.final()]).toString("utf8");
  } catch {
    throw new TargetSecretError(
      "the stored connection URL cannot be decrypted: TARGET_URL_SECRET (or NEXTAUTH_SECRET) changed since it was saved; enter the target's URL again",
    );
  }
}
