import { describe, expect, it } from "vitest";
import { armoredKeyEnv, oldPassphrasesEnv, reencryptRequestSchema, suppliedPrivateKeySchema } from "./keys";
import { parseConfig } from "../config";
import { reencryptedKey } from "../backup/reencrypt";

const base = { DATABASE_URL: "postgresql://u:p@localhost/db", NEXTAUTH_SECRET: "x".repeat(20) };

describe("BACKUP_ENCRYPTION_OLD_PASSPHRASES", () => {
  it("takes passphrases, or {id, passphrase} entries", () => {
    expect(oldPassphrasesEnv.parse('["an-old-passphrase-1", {"id":"0123456789abcdef","passphrase":"another-one-22"}]')).toEqual([
      { passphrase: "an-old-passphrase-1" },
      { id: "0123456789abcdef", passphrase: "another-one-22" },
    ]);
  });
  it.each([
    ["not json", /JSON array/],
    ['"a-single-string-here"', /JSON array/],
    ['["short"]', /at least 12/],
    ['[{"id":"XYZ","passphrase":"long-enough-pass"}]', /16 lowercase hex/],
  ])("refuses %s with a readable reason", (value, reason) => {
    expect(() => parseConfig({ ...base, BACKUP_ENCRYPTION_PASSPHRASE: "a-current-passphrase", BACKUP_ENCRYPTION_OLD_PASSPHRASES: value })).toThrow(reason);
  });
});

describe("keys in the configuration", () => {
  it("a public key alone is enough (write-only backups); neither is refused", () => {
    const pub = "-----BEGIN PGP PUBLIC KEY BLOCK-----\\n\\nxsBN\\n-----END PGP PUBLIC KEY BLOCK-----";
    const cfg = parseConfig({ ...base, BACKUP_ENCRYPTION_PUBLIC_KEY: pub });
    expect(cfg.BACKUP_ENCRYPTION_PUBLIC_KEY).toContain("\n\nxsBN\n");
    expect(cfg.encryptionPassphrase).toBe("");
    expect(() => parseConfig(base)).toThrow(/BACKUP_ENCRYPTION_PASSPHRASE: required \(or BACKUP_ENCRYPTION_PUBLIC_KEY\)/);
  });
  it("refuses a private key where a public key goes", () => {
    expect(armoredKeyEnv("PUBLIC").safeParse("-----BEGIN PGP PRIVATE KEY BLOCK-----\n…").success).toBe(false);
  });
});

describe("request bodies", () => {
  it("re-encrypt: all, or a list of ids", () => {
    expect(reencryptRequestSchema.safeParse({ all: true }).success).toBe(true);
    expect(reencryptRequestSchema.safeParse({ ids: ["cm1abc"] }).success).toBe(true);
    expect(reencryptRequestSchema.safeParse({ all: false }).success).toBe(false);
    expect(reencryptRequestSchema.safeParse({ ids: [] }).success).toBe(false);
    expect(reencryptRequestSchema.safeParse({ ids: ["../etc"] }).success).toBe(false);
  });
  it.each([[{}], [{ all: false }], [{ all: true, ids: ["cm1abc"] }], [{ every: true }], [[]], [null]])("re-encrypt: %j is refused naming both shapes it may take", (body) => {
    const issues = reencryptRequestSchema.safeParse(body).error?.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    expect(issues).toEqual([{ path: "", message: 'one of {"all":true} (every backup not on the current key) or {"ids":["…"]} (those backups), not both' }]);
  });
  it("re-encrypt: a list of ids that is wrong says what is wrong with it", () => {
    expect(reencryptRequestSchema.safeParse({ ids: [] }).error?.issues.map((i) => i.path.join("."))).toEqual(["ids"]);
  });
  it("a pasted private key must be one, and its error does not echo it", () => {
    const r = suppliedPrivateKeySchema.safeParse({ privateKey: "-----BEGIN PGP PUBLIC KEY BLOCK-----secret-looking" });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).not.toContain("secret-looking");
  });
});

describe("re-encrypted object names", () => {
  it("carry the new key's id beside the old name, and replace an earlier id", () => {
    expect(reencryptedKey("backups/prod/2026/11/cm1/archive.dump.gpg", "0123456789abcdef")).toBe("backups/prod/2026/11/cm1/archive-0123456789abcdef.dump.gpg");
    expect(reencryptedKey("backups/prod/2026/11/cm1/archive-0123456789abcdef.dump.gpg", "fedcba9876543210")).toBe("backups/prod/2026/11/cm1/archive-fedcba9876543210.dump.gpg");
    expect(reencryptedKey("b/files.tar.gpg", "0123456789abcdef")).toBe("b/files-0123456789abcdef.tar.gpg");
  });
});
