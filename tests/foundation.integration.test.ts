// Foundation behaviour on a real PostgreSQL: first start, secrets kept across restarts,
// the schema-missing answer, sign-in throttling, users and tokens with their audit trail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, createMigratedDatabase, dropDatabase } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { ensureFirstAdmin, loadOrCreateSecrets } from "../lib/bootstrap";
import { errorResponse, isSchemaMissing } from "../lib/http";
import { recordLoginAttempt, clearLoginFailures, LOGIN_MAX_FAILURES } from "../lib/login-limit";
import { createToken, createUser, deleteUser, revokeToken, updateUser } from "../lib/users";
import { findToken } from "../lib/tokens";
import { verifyPassword } from "../lib/passwords";
import { SYSTEM } from "../lib/audit";

describe("first start", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vaultline-data-"));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("generates the secrets once, keeps them 0600, and reuses them on restart", async () => {
    const first = loadOrCreateSecrets(dir);
    expect(first.created.sort()).toEqual(["encryptionKeyId", "encryptionPassphrase", "nextAuthSecret", "postgresPassword"]);
    expect(first.secrets.encryptionKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(first.secrets.encryptionPassphrase.length).toBeGreaterThanOrEqual(32);
    expect((await stat(path.join(dir, "secrets.json"))).mode & 0o777).toBe(0o600);
    const second = loadOrCreateSecrets(dir);
    expect(second.created).toEqual([]);
    expect(second.secrets).toEqual(first.secrets);
    expect(JSON.parse(await readFile(path.join(dir, "secrets.json"), "utf8"))).toEqual(first.secrets);
  });

  it("creates the first admin once, with a generated password that works", async () => {
    const url = await createMigratedDatabase("boot");
    const db = createDb(url);
    try {
      const created = await ensureFirstAdmin(db, {});
      expect(created?.email).toBe("admin@vaultline.local");
      expect(created?.generatedPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
      const user = await db.user.findUniqueOrThrow({ where: { email: "admin@vaultline.local" }, omit: { passwordHash: false } });
      expect(user.role).toBe("ADMIN");
      expect(await verifyPassword(created!.generatedPassword!, user.passwordHash!)).toBe(true);
      expect(await ensureFirstAdmin(db, {})).toBeNull();
      expect(await db.user.count()).toBe(1);
      expect(await db.auditEvent.count({ where: { action: "user.created" } })).toBe(1);
    } finally {
      await db.$disconnect();
      await dropDatabase(url);
    }
  });
});

describe("an unmigrated database", () => {
  it("answers 503 BACKUPS_NOT_READY, never a 500", async () => {
    const url = await createDatabase("bare");
    const db = createDb(url);
    try {
      const err = await db.backupJob.findMany().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).not.toBeNull();
      expect(isSchemaMissing(err)).toBe(true);
      const res = errorResponse(err, "req-1");
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: "BACKUPS_NOT_READY", message: expect.stringContaining("migrate") } });
    } finally {
      await db.$disconnect();
      await dropDatabase(url);
    }
  });

  it("answers a generic 500 with a request id for an unexpected error, without its message", async () => {
    const res = errorResponse(new Error("secret internals at /srv/db password=hunter2"), "req-42");
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({ error: { code: "INTERNAL", message: "Unexpected error (request req-42)" } });
  });
});

describe("users, tokens, sign-in throttling", () => {
  let url: string;
  let db: Db;
  beforeAll(async () => {
    url = await createMigratedDatabase("users");
    db = createDb(url);
  });
  afterAll(async () => {
    await db.$disconnect();
    await dropDatabase(url);
  });

  it(`refuses sign-in after ${LOGIN_MAX_FAILURES} attempts per email or per IP within 15 minutes`, async () => {
    const attempt = (email: string, ip: string, at?: Date) => recordLoginAttempt(db, email, ip, at);
    for (let i = 0; i < LOGIN_MAX_FAILURES; i++) expect((await attempt(i ? "victim@example.com" : "Victim@Example.com", `10.0.0.${i}`)).limited).toBe(false);
    const eleventh = await attempt("victim@example.com", "10.9.9.9");
    expect(eleventh.limited).toBe(true);
    expect(eleventh.retryAfterSeconds).toBeGreaterThan(800);
    expect(eleventh.retryAfterSeconds).toBeLessThanOrEqual(900);
    for (let i = 0; i < LOGIN_MAX_FAILURES; i++) expect((await attempt(`u${i}@example.com`, "192.0.2.7")).limited).toBe(false);
    expect((await attempt("someone-else@example.com", "192.0.2.7")).limited).toBe(true);
    expect((await attempt("someone-else2@example.com", "192.0.2.8")).limited).toBe(false);
    const later = new Date(Date.now() + 16 * 60_000);
    expect((await attempt("victim@example.com", "10.9.9.10", later)).limited).toBe(false);
    await clearLoginFailures(db, "victim@example.com");
    expect((await attempt("victim@example.com", "10.9.9.11")).limited).toBe(false);
  });

  it("audits user changes and never removes the last active admin", async () => {
    const admin = await createUser(db, { email: "root@example.com", displayName: "Root", role: "ADMIN", password: "long-password-1" }, SYSTEM);
    await expect(createUser(db, { email: "root@example.com", displayName: "Again", role: "VIEWER", password: "long-password-1" }, SYSTEM)).rejects.toMatchObject({ status: 409 });
    await expect(updateUser(db, admin.id, { role: "VIEWER" }, SYSTEM)).rejects.toMatchObject({ status: 409 });
    await expect(updateUser(db, admin.id, { disabled: true }, SYSTEM)).rejects.toMatchObject({ status: 409 });
    await expect(deleteUser(db, admin.id, SYSTEM)).rejects.toMatchObject({ status: 409 });
    const op = await createUser(db, { email: "op@example.com", displayName: "Op", role: "OPERATOR", password: "long-password-2" }, SYSTEM);
    await updateUser(db, op.id, { role: "ADMIN" }, SYSTEM);
    await updateUser(db, admin.id, { role: "VIEWER" }, SYSTEM);
    const actions = (await db.auditEvent.findMany({ orderBy: { at: "asc" } })).map((a) => a.action);
    expect(actions).toEqual(["user.created", "user.created", "user.updated", "user.updated"]);
    const roleChange = await db.auditEvent.findFirstOrThrow({ where: { action: "user.updated", target: "root@example.com" } });
    expect(roleChange.details).toMatchObject({ roleBefore: "ADMIN", roleAfter: "VIEWER" });
    expect(JSON.stringify(await db.auditEvent.findMany())).not.toContain("long-password");
  });

  it("stores only a token's hash, finds live tokens, and drops revoked, expired or orphaned ones", async () => {
    const owner = await createUser(db, { email: "tok@example.com", displayName: "Tok", role: "ADMIN", password: "long-password-3" }, SYSTEM);
    const t = await createToken(db, { name: "ci", scopes: ["deploy"] }, owner.id, SYSTEM);
    expect(t.token).toMatch(/^vl_[A-Za-z0-9_-]{43}$/);
    const raw = await db.apiToken.findUniqueOrThrow({ where: { id: t.id }, omit: { tokenHash: false } });
    expect(raw.tokenHash).not.toContain(t.token);
    expect(JSON.stringify(raw)).not.toContain(t.token);
    const found = await findToken(db, t.token);
    expect(found).toMatchObject({ tokenId: t.id, scopes: ["deploy"], creator: { role: "ADMIN" } });
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: t.id } })).lastUsedAt).not.toBeNull();
    expect(await findToken(db, t.token.slice(0, -1) + (t.token.endsWith("A") ? "B" : "A"))).toBeNull();

    const expiring = await createToken(db, { name: "short", scopes: ["metrics"], expiresAt: new Date(Date.now() + 60_000) }, owner.id, SYSTEM);
    expect(await findToken(db, expiring.token, new Date(Date.now() + 120_000))).toBeNull();

    await revokeToken(db, t.id, SYSTEM);
    expect(await findToken(db, t.token)).toBeNull();

    const other = await createToken(db, { name: "orphan", scopes: ["metrics"] }, owner.id, SYSTEM);
    await db.user.update({ where: { id: owner.id }, data: { disabledAt: new Date() } });
    expect(await findToken(db, other.token)).toBeNull();
    const actions = (await db.auditEvent.findMany({ where: { action: { startsWith: "token." } } })).map((a) => a.action).sort();
    expect(actions).toEqual(["token.created", "token.created", "token.created", "token.revoked"]);
  });
});
