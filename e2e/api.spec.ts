// The HTTP contract end to end against the running app (its in-process worker, real
// pg_dump, OpenPGP, local storage): create → watch → download byte-identical → preview.
import { test, expect } from "@playwright/test";
import { createHash } from "node:crypto";
import { E2E } from "./env";

test("a FULL backup from the API lands with the reported checksum and downloads byte-identical", async ({ page, playwright }) => {
  const created = await page.request.post("/api/tokens", { headers: E2E.sameOrigin, data: { name: "ci-writer", scopes: ["backups:read", "backups:write", "backups:download"] } });
  const { token } = await created.json();
  const api = await playwright.request.newContext({ baseURL: E2E.baseURL, extraHTTPHeaders: { authorization: `Bearer ${token}` } });

  const bad = await api.post("/api/backups", { data: { kind: "HUGE" } });
  expect(bad.status()).toBe(400);
  expect((await bad.json()).error).toMatchObject({ code: "VALIDATION_FAILED", details: { fields: [expect.objectContaining({ path: "kind" })] } });

  const res = await api.post("/api/backups", { data: { kind: "FULL", note: "e2e api" } });
  expect(res.status()).toBe(202);
  const { id, status } = await res.json();
  expect(status).toBe("QUEUED");

  let s: { status: string; checksumSha256: string; sizeBytes: number; failureReason: string | null } = await (await api.get(`/api/backups/${id}/status`)).json();
  await expect
    .poll(async () => (s = await (await api.get(`/api/backups/${id}/status`)).json()).status, { timeout: 60_000 })
    .toMatch(/SUCCEEDED|FAILED/);
  expect(s.failureReason).toBeNull();
  expect(s.status).toBe("SUCCEEDED");

  const detail = await (await api.get(`/api/backups/${id}`)).json();
  expect(detail).toMatchObject({ id, kind: "FULL", trigger: "API", note: "e2e api", encrypted: true, checksumSha256: s.checksumSha256 });
  expect(detail.manifest).toMatchObject({ id, checksumSha256: s.checksumSha256, encryption: { algorithm: "openpgp-aes256" } });
  expect(detail.initiatedBy).toMatchObject({ email: E2E.admin.email, role: "ADMIN" });

  // Download needs OPERATOR (the token's creator is ADMIN and it has backups:read).
  const dl = await api.get(`/api/backups/${id}/download`);
  expect(dl.status()).toBe(200);
  const body = await dl.body();
  expect(body.length).toBe(s.sizeBytes);
  expect(createHash("sha256").update(body).digest("hex")).toBe(s.checksumSha256);

  // A restore needs the restore scope, and the exact word.
  expect((await api.post(`/api/backups/${id}/restore`, { data: { confirm: "RESTORE" } })).status()).toBe(403);
  const wrongWord = await page.request.post(`/api/backups/${id}/restore`, { headers: E2E.sameOrigin, data: { confirm: "restore" } });
  expect(wrongWord.status()).toBe(422);
  expect((await wrongWord.json()).error.code).toBe("CONFIRMATION_REQUIRED");

  const preview = await page.request.get(`/api/backups/${id}/restore-preview`);
  expect(preview.status()).toBe(200);
  expect(await preview.json()).toMatchObject({ verified: { ok: true }, safetyBackup: true, targetIsVaultline: true });
});

test("ids that are not ids are 404, never 500", async ({ page }) => {
  for (const id of ["..%2F..%2Fetc%2Fpasswd", "1'%20OR%201=1", "x".repeat(300), "cmnotarealid0000000000000"]) {
    const r = await page.request.get(`/api/backups/${id}`);
    expect(r.status(), id).toBe(404);
    expect((await r.json()).error.code).toBe("NOT_FOUND");
  }
});

test("malformed paths and unused auth endpoints answer 4xx in the contract's shape, never 5xx", async ({ request }) => {
  const cases: [string, string, number][] = [
    ["GET", "/api/backups/%zz", 400],
    ["GET", "/api/auth/callback/credentials", 405],
    ["POST", "/api/auth/csrf", 405],
    ["GET", "/api/auth/not-a-route", 404],
    ["POST", "/api/auth/callback/credentials", 400],
  ];
  for (const [method, url, status] of cases) {
    const r = await request.fetch(url, { method });
    expect(r.status(), `${method} ${url}`).toBe(status);
    expect((await r.json()).error.code).toMatch(/^[A-Z_]+$/);
  }
});

test("a method a route has no handler for answers 405 in the contract's shape with Allow; OPTIONS 204 with the same Allow", async ({ request }) => {
  const cases: [string, string, string][] = [
    ["PUT", "/api/backups", "GET, HEAD, OPTIONS, POST"],
    ["PATCH", "/api/backups/cmnotarealid0000000000000", "DELETE, GET, HEAD, OPTIONS"],
    ["GET", "/api/deploy/gate", "OPTIONS, POST"],
    ["DELETE", "/api/health", "GET, HEAD, OPTIONS"],
    ["POST", "/api/today", "GET, HEAD, OPTIONS"],
    ["POST", "/api/metrics", "GET, HEAD, OPTIONS"],
  ];
  for (const [method, url, allow] of cases) {
    const r = await request.fetch(url, { method, headers: E2E.sameOrigin });
    expect(r.status(), `${method} ${url}`).toBe(405);
    expect(r.headers()["allow"], `${method} ${url}`).toBe(allow);
    expect(await r.json()).toEqual({ error: { code: "METHOD_NOT_ALLOWED", message: expect.stringContaining(method) } });
    const options = await request.fetch(url, { method: "OPTIONS" });
    expect(options.status()).toBe(204);
    expect(options.headers()["allow"]).toBe(allow);
  }
  // HEAD of a GET route is still Next's: GET's answer without the body.
  expect((await request.head("/api/health")).status()).toBe(200);
});

test("a NUL character in a path, a query, a JSON body or the sign-in form answers 400, never 500", async ({ request, playwright }) => {
  for (const url of ["/api/targets/a%00b", "/api/backups?target=a%00b", "/api/today?target=a%00b", "/api/checks?target=a%00b"]) {
    const r = await request.get(url);
    expect(r.status(), url).toBe(400);
    expect((await r.json()).error.code).toBe("VALIDATION_FAILED");
  }
  const body = await request.post("/api/backups", { headers: E2E.sameOrigin, data: { kind: "QUICK", commitSha: "abcdef1", note: "a\u0000b" } });
  expect(body.status()).toBe(400);
  expect((await body.json()).error).toMatchObject({ code: "VALIDATION_FAILED", details: { fields: [{ path: "note" }] } });
  const anonymous = await playwright.request.newContext({ baseURL: E2E.baseURL });
  const signIn = await anonymous.post("/api/auth/callback/credentials", { form: { email: "a\u0000b@x.com", password: "x" } });
  expect(signIn.status()).toBe(400);
  expect((await signIn.json()).error.code).toBe("VALIDATION_FAILED");
  await anonymous.dispose();
});

test("/favicon.ico is served, not 404", async ({ request }) => {
  const res = await request.get("/favicon.ico");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toMatch(/image\//);
});
