// Input a new API client sent a running server (decision 205), through the code the server
// runs: proxy.ts first, then the real route handler, against a migrated catalogue.
//   - A NUL (U+0000) in a JSON body, a query, a path or the sign-in form: 400 in the
//     contract's shape and nothing written — PostgreSQL cannot store one, and each of these
//     answered 500 (the sign-in with an empty body) when Prisma carried it there.
//   - Unknown body fields: 400 naming the field, nothing done (POST /api/backups and
//     /api/tokens took them silently); no body at all still queues a FULL backup.
//   - An unreadable token expiry says what it expects.
// Sessions: getSessionUser is replaced by a stub (as in tests/openapi.integration.test.ts);
// the CSRF guard, role checks, parsing and the database are the server's.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import type { SessionUser } from "../lib/auth";
import type { Db } from "../lib/db";
import { createDatabase, createMigratedDatabase, dropDatabase, PASSPHRASE, seedTarget } from "./support/vitest-env";
import { handlerFor } from "./support/route-handler";

const session: { user: SessionUser | null } = { user: null };
vi.mock("../lib/auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../lib/auth")>()),
  getSessionUser: async () => session.user,
}));

const ORIGIN = "http://localhost:3997";

let appUrl: string;
let targetUrl: string;
let storageDir: string;
let dataDir: string;
let db: Db;
let admin: SessionUser;

beforeAll(async () => {
  appUrl = await createMigratedDatabase("apiinput");
  targetUrl = await createDatabase("target");
  await seedTarget(targetUrl, { rows: 10 });
  storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-apiinput-store-"));
  dataDir = await mkdtemp(path.join(tmpdir(), "vaultline-apiinput-data-"));
  Object.assign(process.env, {
    DATABASE_URL: appUrl,
    TARGET_DATABASE_URL: targetUrl,
    STORAGE: "local",
    LOCAL_STORAGE_DIR: storageDir,
    DATA_DIR: dataDir,
    BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
    NEXTAUTH_SECRET: "api-input-test-secret-0123456789",
    NEXTAUTH_URL: ORIGIN,
  });
  (await import("../lib/config")).resetConfigForTests();
  db = (await import("../lib/db")).db();
  const { createUser } = await import("../lib/users");
  const { SYSTEM } = await import("../lib/audit");
  const u = await createUser(db, { email: "admin@api-input.test", displayName: "Admin", role: "ADMIN", password: "password-1234" }, SYSTEM);
  admin = { id: u.id, email: u.email, displayName: u.displayName, role: "ADMIN" };
}, 180_000);

afterAll(async () => {
  await (await import("../lib/queue")).stopBosses();
  await db?.$disconnect();
  await dropDatabase(appUrl);
  await dropDatabase(targetUrl);
  await rm(storageDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * One request as the server takes it: proxy.ts, then (when it lets the request through) the
 * route handler for `docPath` with `params`. `url` is sent as written (its escapes too).
 */
async function serve(method: string, docPath: string, url: string, opts: { body?: string; params?: Record<string, string> } = {}) {
  session.user = admin;
  const headers: Record<string, string> = { origin: ORIGIN };
  if (method !== "GET") headers["content-type"] = "application/json";
  const req = new NextRequest(ORIGIN + url, { method, headers, body: opts.body });
  const { proxy } = await import("../proxy");
  const first = proxy(req);
  const res = first.headers.get("x-middleware-next") ? await (await handlerFor(method, docPath))(req, { params: Promise.resolve(opts.params ?? {}) }) : first;
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as { error: { code: string; message: string; details?: { fields: { path: string; message: string }[] } } }) : undefined };
}

const rows = async () => ({
  backups: await db.backupJob.count(),
  tokens: await db.apiToken.count(),
  users: await db.user.count(),
  deployments: await db.deployment.count(),
  attempts: await db.loginAttempt.count(),
});

describe("a NUL character is refused with 400, never a 500, and nothing is written", () => {
  it.each([
    ["/api/backups", { kind: "QUICK", commitSha: "abcdef1", note: "a\u0000b" }, "note"],
    ["/api/deploy/gate", { commitSha: "abcdef1", target: "a\u0000b" }, "target"],
    ["/api/tokens", { name: "a\u0000b", scopes: ["backups:read"] }, "name"],
    ["/api/users", { email: "nul@api-input.test", displayName: "a\u0000b", role: "VIEWER", password: "password-1234" }, "displayName"],
  ])("in a JSON body: POST %s", async (docPath, body, field) => {
    const before = await rows();
    const res = await serve("POST", docPath, docPath, { body: JSON.stringify(body) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body!.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringContaining("NUL"), details: { fields: [{ path: field }] } });
    expect(await rows()).toEqual(before);
  });

  it.each(["/api/backups", "/api/today", "/api/restores", "/api/deployments", "/api/checks"])("in a query: GET %s?target=a%00b", async (docPath) => {
    const res = await serve("GET", docPath, `${docPath}?target=a%00b`);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body!.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringContaining('"target"'), details: { fields: [{ path: "target" }] } });
    // The same query without the NUL reaches the handler (an unknown target: 404).
    expect((await serve("GET", docPath, `${docPath}?target=ab`)).status).toBe(404);
  });

  it("in a path: GET /api/targets/a%00b", async () => {
    const res = await serve("GET", "/api/targets/{id}", "/api/targets/a%00b", { params: { id: "a\u0000b" } });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body!.error).toMatchObject({ code: "VALIDATION_FAILED", message: expect.stringContaining("path") });
    expect((await serve("GET", "/api/targets/{id}", "/api/targets/ab", { params: { id: "ab" } })).status).toBe(404);
  });

  it("in the sign-in form: 400 in the contract's shape, no attempt recorded (the throttle's row failed with a 500 and an empty body)", async () => {
    const { POST } = await import("../app/api/auth/[...nextauth]/route");
    const signIn = (form: string) =>
      POST(
        new NextRequest(`${ORIGIN}/api/auth/callback/credentials`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form }),
        { params: Promise.resolve({ nextauth: ["callback", "credentials"] }) },
      );
    const before = await rows();
    for (const form of ["email=a%00b@x.com&password=x", "email=a@x.com&password=x%00", "email=a@x.com&pass%00word=x"]) {
      const res = await signIn(form);
      expect(res.status, form).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "VALIDATION_FAILED", message: expect.stringContaining("NUL") } });
    }
    expect(await rows()).toEqual(before);
    // A form without one is still counted before anything else (lib/login-limit.ts).
    await signIn("email=nobody@x.com&password=x");
    expect((await rows()).attempts).toBe(before.attempts + 1);
  });
});

describe("request bodies are closed: an unknown field is 400 naming it, and nothing is done", () => {
  it.each([
    ["/api/backups", { kind: "FULL", bogus: 1 }, "bogus"],
    ["/api/backups", { kind: "FULL", includefiles: true }, "includefiles"],
    ["/api/tokens", { name: "ci", scopes: ["backups:read"], role: "ADMIN" }, "role"],
  ])("POST %s %j", async (docPath, body, key) => {
    const before = await rows();
    const res = await serve("POST", docPath, docPath, { body: JSON.stringify(body) });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body!.error.code).toBe("VALIDATION_FAILED");
    expect(res.body!.error.details!.fields.map((f) => f.message).join()).toContain(`"${key}"`);
    expect(await rows()).toEqual(before);
  });

  it("POST /api/backups with no body still queues a FULL backup of default (as documented)", async () => {
    const res = await serve("POST", "/api/backups", "/api/backups");
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const job = await db.backupJob.findUniqueOrThrow({ where: { id: (res.body as unknown as { id: string }).id } });
    expect(job).toMatchObject({ kind: "FULL", status: "QUEUED", targetId: "default" });
  });
});

it("POST /api/tokens with an unreadable expiresAt says what it expects", async () => {
  const res = await serve("POST", "/api/tokens", "/api/tokens", { body: JSON.stringify({ name: "ci", scopes: ["backups:read"], expiresAt: "tomorrow" }) });
  expect(res.status).toBe(400);
  expect(res.body!.error.details!.fields).toEqual([{ path: "expiresAt", message: "an ISO 8601 date-time, like 2026-12-31T23:59:59Z" }]);
});
