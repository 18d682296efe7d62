// Real answers of the real route handlers (app/api/**/route.ts), against a migrated
// catalogue, a target database and a real encrypted backup, validated with ajv against
// the JSON Schema the OpenAPI document gives for that method, path and status. A status
// the document does not list for the operation fails, and so does any field it does not
// describe (response objects are closed: additionalProperties false).
//
// Sessions: getSessionUser is replaced by a stub that returns the signed-in user the test
// chooses (next-auth's JWT needs a Next request scope; sessions have their own tests).
// Everything after it — the CSRF guard, the role and scope checks, parsing, the
// database — is the code the server runs.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { SessionUser } from "../lib/auth";
import type { Db } from "../lib/db";
import { createDatabase, createMigratedDatabase, dropDatabase } from "./support/vitest-env";
import { PASSPHRASE, seedTarget } from "./support/vitest-env";
import { handlerFor } from "./support/route-handler";

const session: { user: SessionUser | null } = { user: null };
vi.mock("../lib/auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../lib/auth")>()),
  getSessionUser: async () => session.user,
}));

const ORIGIN = "http://localhost:3999";
const MISSING = "cmissing0000000000000000000";

type Doc = ReturnType<typeof import("../lib/openapi/document").openApiDocument>;

let appUrl: string;
let targetUrl: string;
let storageDir: string;
let dataDir: string;
let db: Db;
let doc: Doc;
let ajv: Ajv2020;
let admin: SessionUser;
let viewer: SessionUser;
/** ADMIN's token with every scope; a backups:read-only token. */
let allScopes: string;
let readOnly: string;
let backupId: string;
let failedId: string;
const COMMIT = "abc1234def";

beforeAll(async () => {
  appUrl = await createMigratedDatabase("openapi");
  targetUrl = await createDatabase("target");
  await seedTarget(targetUrl, { rows: 200 });
  storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-openapi-store-"));
  dataDir = await mkdtemp(path.join(tmpdir(), "vaultline-openapi-data-"));
  Object.assign(process.env, {
    DATABASE_URL: appUrl,
    TARGET_DATABASE_URL: targetUrl,
    STORAGE: "local",
    LOCAL_STORAGE_DIR: storageDir,
    DATA_DIR: dataDir,
    BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
    NEXTAUTH_SECRET: "openapi-test-secret-0123456789",
    NEXTAUTH_URL: ORIGIN,
  });
  (await import("../lib/config")).resetConfigForTests();
  db = (await import("../lib/db")).db();
  const { createUser, createToken } = await import("../lib/users");
  const { SYSTEM } = await import("../lib/audit");
  const { SCOPES } = await import("../lib/permissions");
  const mk = async (role: "ADMIN" | "VIEWER") => {
    const u = await createUser(db, { email: `${role.toLowerCase()}@openapi.test`, displayName: role, role, password: "password-1234" }, SYSTEM);
    return { id: u.id, email: u.email, displayName: u.displayName, role };
  };
  admin = await mk("ADMIN");
  viewer = await mk("VIEWER");
  allScopes = (await createToken(db, { name: "ci", scopes: [...SCOPES] }, admin.id, SYSTEM)).token;
  readOnly = (await createToken(db, { name: "reader", scopes: ["backups:read"] }, admin.id, SYSTEM)).token;

  // A real, encrypted FULL backup of the target, tagged with a commit, and a failed one.
  const { runBackup } = await import("../lib/backup/run-backup");
  const { appContext } = await import("../lib/backup/context");
  const row = await db.backupJob.create({ data: { kind: "FULL", trigger: "API", commitSha: COMMIT, initiatedById: admin.id, metadata: { phases: [] } } });
  expect((await runBackup(appContext(), row.id)).status).toBe("SUCCEEDED");
  backupId = row.id;
  failedId = (await db.backupJob.create({ data: { kind: "QUICK", trigger: "SCHEDULED", status: "FAILED", failureReason: "disk full", completedAt: new Date() } })).id;

  doc = (await import("../lib/openapi/document")).openApiDocument();
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
}, 180_000);

afterAll(async () => {
  await (await import("../lib/queue")).stopBosses();
  await db?.$disconnect();
  await dropDatabase(appUrl);
  await dropDatabase(targetUrl);
  await rm(storageDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

interface Call {
  as?: "admin" | "viewer" | "token" | "readonly" | "bad-token";
  query?: Record<string, string>;
  body?: unknown;
}

/** Calls the handler of `method docPath` as the server would, and returns status and parsed body. */
async function call(method: string, docPath: string, params: Record<string, string> = {}, c: Call = {}) {
  const url = new URL(docPath.replace(/\{(\w+)\}/g, (_m, k: string) => params[k]), ORIGIN);
  for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { origin: ORIGIN };
  const who = c.as ?? "admin";
  session.user = who === "admin" ? admin : who === "viewer" ? viewer : null;
  if (who === "token") headers.authorization = `Bearer ${allScopes}`;
  if (who === "readonly") headers.authorization = `Bearer ${readOnly}`;
  if (who === "bad-token") headers.authorization = `Bearer vl_${"A".repeat(43)}`;
  // As the dashboard's client sends every write, bodiless ones included (lib/csrf.ts).
  if (method !== "get") headers["content-type"] = "application/json";
  const req = new NextRequest(url, { method: method.toUpperCase(), headers, body: c.body === undefined ? undefined : JSON.stringify(c.body) });
  const res = await (await handlerFor(method, docPath))(req, { params: Promise.resolve(params) });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** The document's JSON Schema for that answer, with its component refs made local. */
function schemaFor(method: string, docPath: string, status: number): object {
  const op = (doc.paths![docPath] as Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>)[method];
  expect(op, `${method} ${docPath} is documented`).toBeDefined();
  const response = op.responses[String(status)];
  expect(response, `${method} ${docPath} documents status ${status} (has ${Object.keys(op.responses).join(", ")})`).toBeDefined();
  const schema = response.content?.["application/json"]?.schema;
  expect(schema, `${method} ${docPath} ${status} has a JSON body`).toBeDefined();
  const local = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll("#/components/schemas/", "#/$defs/"));
  return { ...local(schema), $defs: local(doc.components?.schemas ?? {}) };
}

function problems(method: string, docPath: string, status: number, body: unknown): string[] {
  const validate = ajv.compile(schemaFor(method, docPath, status));
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

/** Calls, expects `status`, and checks the body against the document. */
async function expectDocumented(method: string, docPath: string, status: number, params: Record<string, string> = {}, c: Call = {}) {
  const res = await call(method, docPath, params, c);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.contentType).toContain("application/json");
  expect(problems(method, docPath, status, res.body)).toEqual([]);
  return res.body as Record<string, unknown>;
}

describe("successful answers match the document", () => {
  it("GET /api/backups (a page with a real backup and a failed one)", async () => {
    const body = await expectDocumented("get", "/api/backups", 200, {}, { as: "token" });
    expect((body.backups as { id: string }[]).map((b) => b.id).sort()).toEqual([backupId, failedId].sort());
  });

  it("GET /api/backups/{id} with its manifest, as a session and as a token", async () => {
    const body = await expectDocumented("get", "/api/backups/{id}", 200, { id: backupId });
    expect((body.manifest as { id: string }).id).toBe(backupId);
    await expectDocumented("get", "/api/backups/{id}", 200, { id: backupId }, { as: "readonly" });
    await expectDocumented("get", "/api/backups/{id}", 200, { id: failedId }, { as: "viewer" });
  });

  it("GET /api/backups/{id}/status, /api/today, /api/storage", async () => {
    expect((await expectDocumented("get", "/api/backups/{id}/status", 200, { id: backupId })).status).toBe("SUCCEEDED");
    expect((await expectDocumented("get", "/api/today", 200, {}, { as: "readonly" })).state).toBe("ok");
    expect((await expectDocumented("get", "/api/storage", 200)).backups).toBe(1);
  });

  it("GET /api/health: details for a token, the public view for anyone else", async () => {
    const full = await call("get", "/api/health", {}, { as: "token" });
    expect(problems("get", "/api/health", full.status, full.body)).toEqual([]);
    expect(Object.values((full.body as { checks: Record<string, unknown> }).checks).every((c) => typeof c === "object")).toBe(true);
    const anon = await call("get", "/api/health", {}, { as: "bad-token" });
    expect(problems("get", "/api/health", anon.status, anon.body)).toEqual([]);
    expect(Object.values((anon.body as { checks: Record<string, unknown> }).checks).every((c) => c === "ok" || c === "failing")).toBe(true);
  });

  it("POST /api/deploy/gate: 200 with a fresh backup, 428 once it is older than allowed", async () => {
    const ok = await expectDocumented("post", "/api/deploy/gate", 200, {}, { as: "token", body: { commitSha: COMMIT, maxAgeMinutes: 60 } });
    expect(ok.allowed).toBe(true);
    const completedAt = (await db.backupJob.findUniqueOrThrow({ where: { id: backupId } })).completedAt;
    await db.backupJob.update({ where: { id: backupId }, data: { completedAt: new Date(Date.now() - 3 * 3_600_000) } });
    try {
      const blocked = await expectDocumented("post", "/api/deploy/gate", 428, {}, { as: "token", body: { commitSha: "fedcba9876" } });
      expect(blocked).toMatchObject({ allowed: false, error: { code: "BACKUP_REQUIRED" } });
    } finally {
      await db.backupJob.update({ where: { id: backupId }, data: { completedAt } });
    }
  });

  it("deploy state, deployments list and one deployment (with its log for an ADMIN)", async () => {
    await expectDocumented("get", "/api/deploy/state", 200, {}, { as: "token", query: { commitSha: COMMIT } });
    const list = await expectDocumented("get", "/api/deployments", 200, {}, { as: "viewer" });
    const id = (list.deployments as { id: string }[])[0].id;
    expect(typeof (await expectDocumented("get", "/api/deployments/{id}", 200, { id })).log).toBe("string");
    const recorded = await expectDocumented("post", "/api/deployments", 201, {}, { as: "token", body: { commitSha: COMMIT, environment: "staging" } });
    expect(recorded.type).toBe("record");
  });

  it("checks, restores, restore preview", async () => {
    await expectDocumented("get", "/api/checks", 200, {}, { as: "token" });
    await expectDocumented("get", "/api/restores", 200, {}, { as: "token" });
    // One restore, its safety backup with its phase and bytes (here a finished backup stands in for it).
    const r = await db.restoreJob.create({ data: { backupId, safetyBackupId: backupId, status: "FAILED", failureReason: "documented" } });
    const one = await expectDocumented("get", "/api/restores/{id}", 200, { id: r.id }, { as: "token" });
    expect(one.safetyBackup).toMatchObject({ status: "SUCCEEDED", progressBytes: expect.any(Number) });
    await db.restoreJob.delete({ where: { id: r.id } });
    const preview = await expectDocumented("get", "/api/backups/{id}/restore-preview", 200, { id: backupId }, { as: "token" });
    expect(preview.verified).toEqual({ ok: true, reason: null });
  });

  it("GET /api/retention/preview: the saved policy for a VIEWER, a proposed one for a read-only token", async () => {
    const saved = await expectDocumented("get", "/api/retention/preview", 200, {}, { as: "viewer" });
    expect((saved.keep as { id: string }[]).map((k) => k.id)).toContain(backupId);
    const proposed = await expectDocumented("get", "/api/retention/preview", 200, {}, { as: "readonly", query: { days: "0", keepLast: "0", keepDaily: "7", limit: "1" } });
    expect(proposed.policy).toMatchObject({ days: 0, keepLast: 0, keepDaily: 7 });
    expect(await expectDocumented("get", "/api/retention/preview", 400, {}, { query: { keepDaily: "x" } })).toMatchObject({ error: { code: "VALIDATION_FAILED" } });
  });

  it("settings, audit, users, tokens (as an ADMIN session)", async () => {
    await expectDocumented("get", "/api/settings", 200, {}, { as: "viewer" });
    await expectDocumented("get", "/api/audit", 200);
    // One target's events, each naming it (targetRef), and an unknown target.
    const mine = await expectDocumented("get", "/api/audit", 200, {}, { query: { target: "default", action: "backup.*" } });
    expect((mine.events as { targetRef: unknown }[])[0].targetRef).toMatchObject({ id: "default", name: "default" });
    await expectDocumented("get", "/api/audit", 404, {}, { query: { target: "nope" } });
    await expectDocumented("get", "/api/users", 200);
    await expectDocumented("get", "/api/tokens", 200);
    const created = await expectDocumented("post", "/api/tokens", 201, {}, { body: { name: "gate", scopes: ["deploy"] } });
    expect(created.token).toMatch(/^vl_/);
  });

  it("notification channels: add, list (VIEWER), change, test against a local receiver (then 429), remove", async () => {
    const { startHookReceiver } = await import("./support/receivers");
    const hook = await startHookReceiver(undefined, { path: "/services/T1/B1/secretpart" });
    try {
      const created = await expectDocumented("post", "/api/notification-channels", 201, {}, { body: { kind: "SLACK", name: "ops", url: hook.url, events: ["BACKUP_FAILED"] } });
      const id = created.id as string;
      const listed = await expectDocumented("get", "/api/notification-channels", 200, {}, { as: "viewer" });
      expect(JSON.stringify(listed)).not.toContain("secretpart");
      await expectDocumented("patch", "/api/notification-channels/{id}", 200, { id }, { body: { events: ["BACKUP_FAILED", "DRILL_FAILED"] } });
      expect(await expectDocumented("post", "/api/notification-channels/{id}/test", 200, { id })).toMatchObject({ ok: true, status: 200, error: null });
      expect(hook.hooks).toHaveLength(1);
      expect(await expectDocumented("post", "/api/notification-channels/{id}/test", 429, { id })).toMatchObject({ error: { code: "RATE_LIMITED" } });
      expect((await call("post", "/api/notification-channels/{id}/test", { id }, { as: "viewer" })).status).toBe(403);
      expect(await expectDocumented("post", "/api/notification-channels", 409, {}, { body: { kind: "SLACK", name: "ops", url: hook.url, events: [] } })).toMatchObject({ error: { code: "CONFLICT" } });
      expect((await call("delete", "/api/notification-channels/{id}", { id })).status).toBe(204);
    } finally {
      await hook.close();
    }
  });

  it("POST /api/backups queues a backup (202)", async () => {
    expect((await expectDocumented("post", "/api/backups", 202, {}, { as: "token", body: { kind: "QUICK", commitSha: COMMIT } })).status).toBe("QUEUED");
  });

  it("keys: the overview, a re-encryption queued, rotation and retirement refused with keys from the environment", async () => {
    const overview = await expectDocumented("get", "/api/keys", 200);
    expect((overview.keys as { backups: number; current: boolean }[]).find((k) => k.current)?.backups).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(overview)).not.toContain(PASSPHRASE);
    await expectDocumented("get", "/api/keys", 403, {}, { as: "viewer" });
    expect(await expectDocumented("post", "/api/keys/reencrypt", 202, {}, { as: "token", body: { all: true } })).toEqual({ status: "QUEUED", count: 0 });
    await expectDocumented("post", "/api/keys/reencrypt", 400, {}, { body: { all: false } });
    await expectDocumented("post", "/api/keys/rotate", 422, {}, { body: { confirm: "rotate" } });
    await expectDocumented("post", "/api/keys/rotate", 409, {}, { body: { confirm: "ROTATE" } });
    await expectDocumented("post", "/api/keys/retire", 409, {}, { body: { keyId: "0123456789abcdef", confirm: "RETIRE" } });
  });

  it("writes: settings, a user, checks, a verify, a deploy without a hook, a token revoked", async () => {
    const view = await expectDocumented("get", "/api/settings", 200);
    const settings = view.settings as { retention: { days: number } };
    const saved = await expectDocumented("put", "/api/settings", 200, {}, { body: { retention: { ...settings.retention, days: settings.retention.days + 1 } } });
    expect(saved.changed).toEqual(["retention"]);
    const user = await expectDocumented("post", "/api/users", 201, {}, { body: { email: "op@openapi.test", displayName: "Op", role: "OPERATOR", password: "password-1234" } });
    expect((await expectDocumented("patch", "/api/users/{id}", 200, { id: String(user.id) }, { body: { disabled: true } })).disabledAt).not.toBeNull();
    await expectDocumented("post", "/api/users", 409, {}, { body: { email: "op@openapi.test", displayName: "Op", role: "OPERATOR", password: "password-1234" } });
    expect(((await expectDocumented("post", "/api/checks/run", 200, {}, { as: "token" })).last as { source: string }).source).toBe("manual");
    await expectDocumented("post", "/api/backups/{id}/verify", 202, { id: backupId }, { as: "token" });
    const deploy = await expectDocumented("post", "/api/deployments/run", 200, {}, { as: "token", body: { commitSha: COMMIT } });
    expect(deploy).toMatchObject({ allowed: true, hook: null, running: false });
    const { tokens } = (await call("get", "/api/tokens")).body as { tokens: { id: string; name: string }[] };
    const revoked = await call("delete", "/api/tokens/{id}", { id: tokens.find((t) => t.name === "gate")!.id });
    expect(revoked.status).toBe(204);
    expect(Object.keys((doc.paths!["/api/tokens/{id}"] as Record<string, { responses: object }>).delete.responses)).toContain("204");
  });

  it("GET /api/openapi.json answers this document to a token of any scope", async () => {
    const res = await call("get", "/api/openapi.json", {}, { as: "readonly" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });
});

describe("error answers match the document", () => {
  it("400 VALIDATION_FAILED lists the fields", async () => {
    const body = await expectDocumented("get", "/api/backups", 400, {}, { as: "token", query: { limit: "0" } });
    expect(body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { fields: [{ path: "limit" }] } });
    await expectDocumented("post", "/api/deploy/gate", 400, {}, { as: "token", body: { commitSha: "not-a-sha" } });
  });

  it("401 without valid credentials, on a gated and on the document's route", async () => {
    expect((await expectDocumented("get", "/api/backups", 401, {}, { as: "bad-token" })).error).toMatchObject({ code: "UNAUTHENTICATED" });
    await expectDocumented("get", "/api/openapi.json", 401, {}, { as: "bad-token" });
  });

  it("403 for a missing scope, a token on a sessions-only route, a low role", async () => {
    expect((await expectDocumented("post", "/api/deploy/gate", 403, {}, { as: "readonly", body: { commitSha: COMMIT } })).error).toMatchObject({ code: "FORBIDDEN" });
    await expectDocumented("get", "/api/users", 403, {}, { as: "token" });
    await expectDocumented("delete", "/api/backups/{id}", 403, { id: backupId }, { as: "viewer" });
  });

  it("404 for a missing id, with the tombstone of a removed backup", async () => {
    expect((await expectDocumented("get", "/api/backups/{id}", 404, { id: MISSING }, { as: "token" })).error).toMatchObject({ code: "NOT_FOUND" });
    const { audit } = await import("../lib/audit");
    const gone = "cmdeleted0000000000000001";
    await audit(db, { actor: { type: "user", id: admin.id, label: admin.email }, action: "backup.deleted", target: gone, details: { kind: "FULL", status: "SUCCEEDED", sizeBytes: 10, createdAt: "2026-11-01T00:00:00.000Z" } });
    const tomb = await expectDocumented("get", "/api/backups/{id}", 404, { id: gone }, { as: "token" });
    expect(tomb.error).toMatchObject({ code: "NOT_FOUND", details: { tombstone: { id: gone, how: "deleted", by: admin.email } } });
    await expectDocumented("get", "/api/restores/{id}", 404, { id: MISSING }, { as: "token" });
    await expectDocumented("get", "/api/backups/{id}/status", 404, { id: "../../etc/passwd" }, { as: "token" });
  });

  it("404 for an unknown target; `target` named or omitted answers the default's, naming it", async () => {
    for (const [method, docPath, body] of [
      ["get", "/api/backups"],
      ["get", "/api/today"],
      ["get", "/api/restores"],
      ["get", "/api/deployments"],
      ["get", "/api/deploy/state"],
      ["post", "/api/backups", { kind: "FULL", target: "no-such-target" }],
      ["post", "/api/deploy/gate", { commitSha: COMMIT, target: "no-such-target" }],
      ["post", "/api/deployments", { commitSha: COMMIT, target: "no-such-target" }],
    ] as const) {
      const c = method === "get" ? { as: "token" as const, query: { target: "no-such-target" } } : { as: "token" as const, body };
      const res = await expectDocumented(method, docPath, 404, {}, c);
      expect(res.error, `${method} ${docPath}`).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("no-such-target") });
    }
    const named = await expectDocumented("get", "/api/backups", 200, {}, { as: "token", query: { target: "default" } });
    const omitted = await expectDocumented("get", "/api/backups", 200, {}, { as: "token" });
    expect(named).toEqual(omitted);
    expect((omitted.backups as { target: unknown }[])[0].target).toMatchObject({ id: "default", name: "default" });
    expect((await expectDocumented("get", "/api/today", 200, {}, { as: "readonly", query: { target: "default" } })).target).toMatchObject({ id: "default" });
  });

  it("422 CONFIRMATION_REQUIRED without the word", async () => {
    expect((await expectDocumented("post", "/api/backups/{id}/restore", 422, { id: backupId }, { as: "token", body: {} })).error).toMatchObject({ code: "CONFIRMATION_REQUIRED" });
  });
});

describe("the check can fail", () => {
  it("refuses an answer with a field the document does not describe, or without one it requires", async () => {
    const res = await call("get", "/api/backups/{id}/status", { id: backupId }, { as: "token" });
    expect(problems("get", "/api/backups/{id}/status", 200, res.body)).toEqual([]);
    expect(problems("get", "/api/backups/{id}/status", 200, { ...(res.body as object), secret: "x" }).join()).toMatch(/additional/);
    const { phase: _phase, ...without } = res.body as Record<string, unknown>;
    expect(problems("get", "/api/backups/{id}/status", 200, without).join()).toMatch(/required/);
    expect(problems("get", "/api/backups", 200, { backups: [{ ...(res.body as object) }], total: 1, limit: 50, offset: 0 }).length).toBeGreaterThan(0);
  });

  it("an undocumented status fails", async () => {
    await expect(async () => schemaFor("get", "/api/today", 418)).rejects.toThrow(/documents status 418/);
  });
});
