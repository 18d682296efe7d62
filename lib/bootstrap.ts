// What `npm start` does before the server accepts traffic (DESIGN §7): embedded
// PostgreSQL when DATABASE_URL is unset, generated secrets kept in DATA_DIR, migrations,
// the schema check, and the first admin.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { newClient } from "./backup/pg-client";
import type { Db } from "./db";
import { hashPassword, generatePassword } from "./passwords";
import { audit, SYSTEM } from "./audit";

export interface EmbeddedSecrets {
  nextAuthSecret: string;
  encryptionPassphrase: string;
  /** Random id of the passphrase's key for manifests (lib/backup/key-id.ts), never derived from it. */
  encryptionKeyId: string;
  postgresPassword: string;
}

/** Reads DATA_DIR/secrets.json, creating any missing secret once (file mode 0600). */
export function loadOrCreateSecrets(dataDir: string): { secrets: EmbeddedSecrets; created: (keyof EmbeddedSecrets)[] } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "secrets.json");
  const existing: Partial<EmbeddedSecrets> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const created: (keyof EmbeddedSecrets)[] = [];
  const make = (k: keyof EmbeddedSecrets, generate = () => randomBytes(32).toString("base64url")) => {
    if (existing[k]) return existing[k]!;
    created.push(k);
    return generate();
  };
  const secrets: EmbeddedSecrets = {
    nextAuthSecret: make("nextAuthSecret"),
    encryptionPassphrase: make("encryptionPassphrase"),
    encryptionKeyId: make("encryptionKeyId", () => randomBytes(8).toString("hex")),
    postgresPassword: make("postgresPassword"),
  };
  if (created.length) {
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return { secrets, created };
}

export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const c = await newClient(adminUrl, { application_name: "vaultline-bootstrap" });
  await c.connect();
  try {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!r.rowCount) await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
}

/**
 * Creates the first ADMIN when no user exists. Returns the generated password when one
 * was generated (printed once by the caller), else null.
 */
export async function ensureFirstAdmin(
  db: Db,
  opts: { email?: string; password?: string },
): Promise<{ email: string; generatedPassword: string | null } | null> {
  if ((await db.user.count()) > 0) return null;
  const email = (opts.email ?? "admin@vaultline.local").toLowerCase();
  const generatedPassword = opts.password ? null : generatePassword();
  const user = await db.user.create({
    data: {
      email,
      displayName: "Administrator",
      role: "ADMIN",
      passwordHash: await hashPassword(opts.password ?? generatedPassword!),
    },
  });
  await audit(db, { actor: SYSTEM, action: "user.created", target: email, details: { userId: user.id, role: "ADMIN", firstAdmin: true } });
  return { email, generatedPassword };
}
