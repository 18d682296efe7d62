import { beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db";
import { verifierFor } from "./key-id";
import { currentKey, decryptionKeyFor, KeyUnavailableError } from "./keyring";

const ID = "00112233445566aa";
const OTHER = "00112233445566bb";
const enc = (keyId: string) => ({ algorithm: "openpgp-aes256" as const, keyId });

/** A catalogue that knows one EncryptionKey row (and refuses every other query). */
function catalogue(rows: Record<string, string>): Db {
  return {
    encryptionKey: { findUnique: async ({ where }: { where: { id: string } }) => (rows[where.id] ? { id: where.id, verifier: rows[where.id] } : null) },
  } as unknown as Db;
}

let recordedForRight: string;
beforeAll(async () => {
  recordedForRight = await verifierFor("right-passphrase");
});

describe("the decryption key is chosen by id, never guessed", () => {
  it("refuses an id configured with two different passphrases instead of taking the first", async () => {
    const ctx = { db: catalogue({}), passphrase: "new-passphrase", keyId: ID, oldPassphrases: [{ id: ID, passphrase: "old-passphrase" }] };
    const e = await decryptionKeyFor(ctx, enc(ID)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeyUnavailableError);
    expect((e as Error).message).toMatch(/key 00112233445566aa is configured with 2 different passphrases/);
    expect((e as Error).message).not.toContain("passphrase\"");
  });

  it("the same passphrase listed twice under its id is not ambiguous", async () => {
    const ctx = { db: catalogue({}), passphrase: "p", keyId: ID, oldPassphrases: [{ id: ID, passphrase: "p" }] };
    expect(await decryptionKeyFor(ctx, enc(ID))).toBe("p");
  });

  it("an id given beside a passphrase is checked against the catalogue's record of that id", async () => {
    const db = catalogue({ [ID]: recordedForRight });
    const wrong = { db, passphrase: "current", keyId: OTHER, oldPassphrases: [{ id: ID, passphrase: "typo-passphrase" }] };
    const e = await decryptionKeyFor(wrong, enc(ID)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeyUnavailableError);
    expect((e as Error).message).toMatch(/the passphrase configured for key 00112233445566aa is not the one this catalogue recorded/);
    const right = { db, passphrase: "current", keyId: OTHER, oldPassphrases: [{ id: ID, passphrase: "right-passphrase" }] };
    expect(await decryptionKeyFor(right, enc(ID))).toBe("right-passphrase");
  });

  it("an id the catalogue never recorded (embedded mode, a rebuilt catalogue) is taken as configured", async () => {
    expect(await decryptionKeyFor({ db: catalogue({}), passphrase: "p", keyId: ID }, enc(ID))).toBe("p");
  });

  it("new backups are never labelled with an id the catalogue recorded for another passphrase", async () => {
    const db = catalogue({ [ID]: recordedForRight });
    await expect(currentKey({ db, passphrase: "rotated-passphrase", keyId: ID })).rejects.toThrow(/key id 00112233445566aa \(BACKUP_ENCRYPTION_KEY_ID\) belongs to another passphrase/);
    expect(await currentKey({ db, passphrase: "right-passphrase", keyId: ID })).toEqual({ id: ID, key: "right-passphrase" });
  });
});
