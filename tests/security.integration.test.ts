// Issue 12 against a real PostgreSQL: sign-in throttling under a parallel burst, unknown
// emails costing a password hash, session versions, and the last-admin guard under races.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase } from "./support/vitest-env";
import { createDb, disconnectDb, type Db } from "../lib/db";
import { recordLoginAttempt, LOGIN_MAX_FAILURES } from "../lib/login-limit";
import { createUser, endAllSessions, updateUser } from "../lib/users";
import { SYSTEM } from "../lib/audit";
import { resetConfigForTests } from "../lib/config";
import { keyIdFor, legacyKeyFingerprint, newKeyId, sameKey, VERIFIER_PARAMS, verifierMatches, verifierOutdated } from "../lib/backup/key-id";
import { randomBytes, scryptSync } from "node:crypto";
import { getDeployment } from "../lib/deploy/deployments";

let url: string;
let db: Db;
beforeAll(async () => {
  url = await createMigratedDatabase("security");
  db = createDb(url);
});
afterAll(async () => {
  await db.$disconnect();
  await disconnectDb();
  await dropDatabase(url);
});

describe("sign-in throttling", () => {
  it("records every attempt of a parallel burst of 30 and lets at most the limit through", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => recordLoginAttempt(db, "burst@example.com", "198.51.100.30")));
    expect(await db.loginAttempt.count({ where: { email: "burst@example.com" } })).toBe(30);
    expect(results.filter((r) => !r.limited).length).toBeLessThanOrEqual(LOGIN_MAX_FAILURES);
    expect(results.filter((r) => r.limited).length).toBeGreaterThanOrEqual(30 - LOGIN_MAX_FAILURES);
    for (const r of results.filter((x) => x.limited)) expect(r.retryAfterSeconds).toBeGreaterThan(0);
  });

  it("limits one address trying many distinct emails", async () => {
    const r: boolean[] = [];
    for (let i = 0; i < LOGIN_MAX_FAILURES + 1; i++) r.push((await recordLoginAttempt(db, `spray${i}@example.com`, "198.51.100.31")).limited);
    expect(r.slice(0, LOGIN_MAX_FAILURES)).not.toContain(true);
    expect(r[LOGIN_MAX_FAILURES]).toBe(true);
  });

  it("spends one password-hash comparison on an unknown email, like on a known one", async () => {
    process.env.DATABASE_URL = url;
    process.env.BACKUP_ENCRYPTION_PASSPHRASE ??= "a-long-enough-passphrase";
    process.env.NEXTAUTH_SECRET ??= "0123456789abcdef0123";
    resetConfigForTests();
    await disconnectDb();
    const { authOptions } = await import("../lib/auth");
    await createUser(db, { email: "known@example.com", displayName: "Known", role: "VIEWER", password: "right-password-1" }, SYSTEM);
    const provider = authOptions().providers[0] as unknown as { options: { authorize(c: unknown, req: unknown): Promise<unknown> } };
    const time = async (email: string) => {
      const t = performance.now();
      expect(await provider.options.authorize({ email, password: "wrong-password-1" }, { headers: {} })).toBeNull();
      return performance.now() - t;
    };
    await time("nobody@example.com"); // the dummy hash is made once
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time("known@example.com"));
      unknown.push(await time(`nobody${i}@example.com`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    // bcrypt cost 11 is tens of milliseconds; skipping it would be ~1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
  });
});

describe("session versions", () => {
  it("is bumped by a password change, a role change, disabling and sign-out everywhere — not by a rename", async () => {
    const u = await createUser(db, { email: "sv@example.com", displayName: "SV", role: "VIEWER", password: "first-password-1" }, SYSTEM);
    const version = async () => (await db.user.findUniqueOrThrow({ where: { id: u.id } })).sessionVersion;
    expect(await version()).toBe(0);
    await updateUser(db, u.id, { displayName: "Renamed" }, SYSTEM);
    expect(await version()).toBe(0);
    await updateUser(db, u.id, { password: "second-password-2" }, SYSTEM);
    expect(await version()).toBe(1);
    await updateUser(db, u.id, { role: "OPERATOR" }, SYSTEM);
    expect(await version()).toBe(2);
    await updateUser(db, u.id, { role: "OPERATOR" }, SYSTEM);
    expect(await version()).toBe(2);
    await updateUser(db, u.id, { disabled: true }, SYSTEM);
    expect(await version()).toBe(3);
    await updateUser(db, u.id, { disabled: false }, SYSTEM);
    await endAllSessions(db, u.id, SYSTEM);
    expect(await version()).toBe(4);
  });
});

describe("the last-admin guard", () => {
  it("leaves one admin when two admins demote each other at the same time", async () => {
    await db.user.updateMany({ where: { role: "ADMIN" }, data: { role: "VIEWER" } });
    const a = await createUser(db, { email: "a-admin@example.com", displayName: "A", role: "ADMIN", password: "admin-password-1" }, SYSTEM);
    const b = await createUser(db, { email: "b-admin@example.com", displayName: "B", role: "ADMIN", password: "admin-password-2" }, SYSTEM);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        updateUser(db, a.id, { role: "OPERATOR" }, { type: "user", id: b.id, label: "b" }),
        updateUser(db, b.id, { role: "OPERATOR" }, { type: "user", id: a.id, label: "a" }),
      ]);
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
      expect(await db.user.count({ where: { role: "ADMIN", disabledAt: null } })).toBe(1);
      await db.user.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { role: "ADMIN" } });
    }
  });
});

describe("key ids", () => {
  it("are random per catalogue, recognised by the verifier, and never created by a check", async () => {
    const pass = "the-right-passphrase-1";
    const id = await keyIdFor(db, pass);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(await keyIdFor(db, pass)).toBe(id);
    const other = createDb(url);
    try {
      expect(await keyIdFor(other, pass)).toBe(id); // another replica: found by the verifier
    } finally {
      await other.$disconnect();
    }
    const rows = await db.encryptionKey.count();
    expect(await sameKey(db, { keyId: id }, pass)).toBe(true);
    expect(await sameKey(db, { keyId: id }, "a-wrong-passphrase-2")).toBe(false);
    expect(await sameKey(db, { keyId: "00000000000000ff" }, pass)).toBeNull();
    expect(await db.encryptionKey.count()).toBe(rows);
    // Old manifests: their fingerprint is compared as before.
    expect(await sameKey(db, { keyFingerprint: legacyKeyFingerprint(pass) }, pass)).toBe(true);
    expect(await sameKey(db, { keyFingerprint: legacyKeyFingerprint(pass) }, "a-wrong-passphrase-2")).toBe(false);
    // Embedded mode: the id configured beside the passphrase.
    expect(await keyIdFor(db, pass, "0123456789abcdef")).toBe("0123456789abcdef");
    expect(await sameKey(db, { keyId: "0123456789abcdef" }, pass, "0123456789abcdef")).toBe(true);
  });
});

describe("key verifiers", () => {
  // What a catalogue from before decision 120 holds: N=2^15, r=8, p=1 (32 MiB).
  const oldVerifier = (pass: string) => {
    const salt = randomBytes(16);
    return `scrypt$32768$8$1$${salt.toString("base64")}$${scryptSync(pass, salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 2 ** 20 }).toString("base64")}`;
  };

  it("are made within 16 MiB of scrypt memory", () => {
    const { N, r, p } = VERIFIER_PARAMS;
    // Node refuses a scrypt needing more than maxmem: today's fit in 16 MiB (+ p blocks), the old ones did not.
    expect(() => scryptSync("x", randomBytes(16), 32, { N, r, p, maxmem: 16 * 2 ** 20 + 64 * 1024 })).not.toThrow();
    expect(() => scryptSync("x", randomBytes(16), 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 16 * 2 ** 20 + 64 * 1024 })).toThrow();
    // OWASP's equivalent setting for 16 MiB: N=2^14, r=8, p=5.
    expect({ N, r, p }).toEqual({ N: 2 ** 14, r: 8, p: 5 });
  });

  it("made with the old 32 MiB parameters is rewritten when it matches, and left alone when it does not", async () => {
    const pass = "an-upgraded-passphrase-3";
    const old = oldVerifier(pass);
    expect(verifierOutdated(old)).toBe(true);
    const id = newKeyId();
    await db.encryptionKey.create({ data: { id, verifier: old } });
    const otherOld = oldVerifier("another-passphrase-5");
    const other = newKeyId();
    await db.encryptionKey.create({ data: { id: other, verifier: otherOld } });
    const fresh = createDb(url); // a new process: nothing cached
    try {
      expect(await keyIdFor(fresh, pass)).toBe(id);
    } finally {
      await fresh.$disconnect();
    }
    const row = await db.encryptionKey.findUniqueOrThrow({ where: { id } });
    expect(row.verifier.split("$").slice(0, 4)).toEqual(["scrypt", "16384", "8", "5"]);
    expect(verifierOutdated(row.verifier)).toBe(false);
    expect(await verifierMatches(pass, row.verifier)).toBe(true);
    expect(await verifierMatches("a-wrong-passphrase-4", row.verifier)).toBe(false);
    expect((await db.encryptionKey.findUniqueOrThrow({ where: { id: other } })).verifier).toBe(otherOld);
    expect(await sameKey(db, { keyId: other }, "another-passphrase-5")).toBe(true);
    await db.encryptionKey.deleteMany({ where: { id: { in: [id, other] } } });
  });
});

describe("deploy logs", () => {
  it("leave the command and its output out for callers without deployments.detail", async () => {
    const row = await db.deployment.create({ data: { type: "DEPLOY", commitSha: "abcdef1", gateDecision: true, status: "SUCCEEDED", log: "$ ./deploy.sh --token s3cr3t\nok" } });
    const full = await getDeployment({ db }, row.id, true);
    const viewer = await getDeployment({ db }, row.id, false);
    expect(full.log).toContain("s3cr3t");
    expect(viewer).not.toHaveProperty("log");
    expect(JSON.stringify(viewer)).not.toContain("deploy.sh");
  });
});
