// The running app (next start) against hostile callers:
//   1. the full role × route × scope matrix answers exactly as lib/permissions.ts says
//      (401 without valid credentials, 403 when the role or scope does not allow the
//      action, past the gate otherwise — probed with bodies and ids that change nothing);
//   2. N fuzzed requests (fast-check): wrong types, huge payloads, path traversal and SQL in
//      ids and queries, forged cookies and tokens → never a 5xx, never a stack trace, and
//      never a success without valid credentials;
//   3. issue 12's hostile callers: cross-site writes with a session cookie (text/plain, form
//      posts, foreign Origin), framing (headers), a backups:read token downloading,
//      an old session after a password change, sign-in throttling that forged
//      X-Forwarded-For and distinct emails cannot dodge, a parallel burst of wrong
//      passwords, and no passphrase-derived value in manifests or answers.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import fc from "fast-check";
import type { PgServer } from "../../support/pg";
import { seedTarget } from "../../support/seed";
import { makeContext } from "../../support/context";
import { snapshotAppDir, startApp, createUser, createApiToken, signIn, type RunningApp } from "../../support/app";
import type { FaultCase, Recorder } from "../harness";
import { PERMISSIONS, ROLES, SCOPES, roleCan, tokenCan, type Action, type RoleName } from "../../../lib/permissions";
import { runBackup } from "../../../lib/backup/run-backup";
import { backupKeys } from "../../../lib/backup/manifest";
import { updateUser } from "../../../lib/users";
import { SYSTEM } from "../../../lib/audit";
import { LOGIN_MAX_FAILURES } from "../../../lib/login-limit";
import { createHmac } from "node:crypto";
import { stopBosses } from "../../../lib/queue";

const APP_PASSPHRASE = "bench-and-faults-passphrase"; // what tests/support/app.ts gives the app
const MISSING_ID = "cmissing0000000000000000000";

interface Route {
  method: string;
  path: string;
  /** An action: role/scope-gated; "signed-in": any valid principal; "public": no gate. */
  gate: Action | "signed-in" | "public";
}

/** next-auth's own routes (a catch-all handler): public by design, fuzzed, not in the matrix. */
const AUTH_ROUTES: Route[] = [
  { method: "GET", path: "/api/auth/csrf", gate: "public" },
  { method: "GET", path: "/api/auth/session", gate: "public" },
  { method: "GET", path: "/api/auth/providers", gate: "public" },
  { method: "POST", path: "/api/auth/callback/credentials", gate: "public" },
  { method: "POST", path: "/api/auth/signout", gate: "public" },
];

/**
 * Every exported handler under <appDir>/app/api with the gate its source declares:
 * `export const GET = withAuth("backups.read", …)` → backups.read; withErrors → public.
 * Handlers of any other shape come back as "unclassified" so the suite notices them.
 */
export function discoverRoutes(appDir: string): { routes: Route[]; unclassified: string[] } {
  const routes: Route[] = [];
  const unclassified: string[] = [];
  const root = path.join(appDir, "app/api");
  const walk = (dir: string) => {
    for (const e of readdirSync(dir).sort()) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e === "route.ts") {
        const src = readFileSync(p, "utf8");
        const url = "/" + path.relative(appDir, path.dirname(p)).replace(/^app\//, "").replace(/\[\.\.\.[^\]]+\]/g, "*").replace(/\[[^\]]+\]/g, ":id");
        if (url.startsWith("/api/auth/")) continue; // next-auth: AUTH_ROUTES
        // The catch-all answers the contract's JSON 404 to any path no route handles (not an
        // endpoint: nothing behind it to gate; e2e foundation checks its answer).
        if (url === "/api/*" && /errorJson\("NOT_FOUND"/.test(src)) continue;
        for (const m of src.matchAll(/export const (GET|POST|PUT|PATCH|DELETE)\s*=\s*(\w+)(?:<[^>]*>)?\(\s*("([a-z.]+)"|null)?/g)) {
          const [, method, wrapper, , action] = m;
          if (wrapper === "withErrors") routes.push({ method, path: url, gate: "public" });
          else if (wrapper === "withAuth" && action && action in PERMISSIONS) routes.push({ method, path: url, gate: action as Action });
          else if (wrapper === "withAuth" && m[3] === "null") routes.push({ method, path: url, gate: "signed-in" });
          else unclassified.push(`${method} ${url} (${wrapper}${action ? ` "${action}"` : ""})`);
        }
        for (const m of src.matchAll(/as (GET|POST|PUT|PATCH|DELETE)\b/g)) unclassified.push(`${m[1]} ${url} (re-exported handler)`);
      }
    }
  };
  walk(root);
  return { routes, unclassified };
}

type Principal =
  | { kind: "anonymous" | "invalid"; label: string; headers: Record<string, string> }
  | { kind: "session"; label: string; role: RoleName; headers: Record<string, string> }
  | { kind: "token"; label: string; scopes: string[]; creatorRole: RoleName; headers: Record<string, string> };

function expectation(p: Principal, gate: Route["gate"]): "public" | 401 | 403 | "allowed" {
  if (gate === "public") return "public";
  if (p.kind === "anonymous" || p.kind === "invalid") return 401;
  if (gate === "signed-in") return "allowed";
  const action = gate;
  if (p.kind === "session") return roleCan(p.role, action) ? "allowed" : 403;
  if (p.kind !== "token") return 401;
  return tokenCan(p.scopes, p.creatorRole, action) ? "allowed" : 403;
}

const STACK = /\n\s+at [^\n]+:\d+:\d+/;

async function setupPrincipals(app: RunningApp, db: ReturnType<typeof makeContext>["db"]): Promise<Principal[]> {
  const users = Object.fromEntries(
    await Promise.all(ROLES.map(async (role) => [role, await createUser(db, role, `${role.toLowerCase()}@faults.local`)] as const)),
  ) as Record<RoleName, Awaited<ReturnType<typeof createUser>>>;
  const ps: Principal[] = [
    { kind: "anonymous", label: "no credentials", headers: {} },
    { kind: "invalid", label: "unknown well-formed token", headers: { authorization: `Bearer vl_${"A".repeat(43)}` } },
    { kind: "invalid", label: "SQL in bearer", headers: { authorization: "Bearer ' OR '1'='1" } },
    { kind: "invalid", label: "basic auth", headers: { authorization: "Basic YWRtaW46YWRtaW4=" } },
    { kind: "invalid", label: "forged session cookie", headers: { cookie: "next-auth.session-token=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..forged.forged.forged" } },
  ];
  // What a browser sends with the dashboard's own writes (the CSRF guard wants it).
  for (const role of ROLES) ps.push({ kind: "session", label: `${role} session`, role, headers: { cookie: await signIn(app.baseUrl, users[role].email, users[role].password), origin: app.baseUrl } });
  for (const scope of SCOPES) {
    ps.push({ kind: "token", label: `ADMIN token [${scope}]`, scopes: [scope], creatorRole: "ADMIN", headers: { authorization: `Bearer ${await createApiToken(db, users.ADMIN.id, [scope])}` } });
  }
  ps.push({ kind: "token", label: "ADMIN token []", scopes: [], creatorRole: "ADMIN", headers: { authorization: `Bearer ${await createApiToken(db, users.ADMIN.id, [])}` } });
  for (const role of ["VIEWER", "OPERATOR"] as const) {
    ps.push({ kind: "token", label: `${role} token [all scopes]`, scopes: [...SCOPES], creatorRole: role, headers: { authorization: `Bearer ${await createApiToken(db, users[role].id, [...SCOPES])}` } });
  }
  // Tokens that must not work any more.
  const revoked = await createApiToken(db, users.ADMIN.id, [...SCOPES], "revoked");
  await db.apiToken.updateMany({ where: { name: "revoked" }, data: { revokedAt: new Date() } });
  const expired = await createApiToken(db, users.ADMIN.id, [...SCOPES], "expired");
  await db.apiToken.updateMany({ where: { name: "expired" }, data: { expiresAt: new Date(Date.now() - 1000) } });
  const gone = await createUser(db, "ADMIN", "disabled-admin@faults.local");
  const orphan = await createApiToken(db, gone.id, [...SCOPES], "disabled creator");
  await db.user.update({ where: { id: gone.id }, data: { disabledAt: new Date() } });
  ps.push({ kind: "invalid", label: "revoked token", headers: { authorization: `Bearer ${revoked}` } });
  ps.push({ kind: "invalid", label: "expired token", headers: { authorization: `Bearer ${expired}` } });
  ps.push({ kind: "invalid", label: "token of a disabled user", headers: { authorization: `Bearer ${orphan}` } });
  return ps;
}

async function send(baseUrl: string, method: string, p: string, headers: Record<string, string>, body?: string) {
  const res = await fetch(baseUrl + p, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? undefined : body,
    redirect: "manual",
    signal: AbortSignal.timeout(60_000),
  });
  const text = method === "HEAD" ? "" : await res.text();
  return { status: res.status, text };
}

async function matrix(app: RunningApp, routes: Route[], principals: Principal[], r: Recorder): Promise<number> {
  let n = 0;
  const wrong: string[] = [];
  for (const route of routes) {
    for (const p of principals) {
      // Probes that pass the gate but change nothing: an id no row has, and for writes a
      // JSON array, which every object schema rejects.
      const url = route.path.replace(":id", MISSING_ID);
      const body = route.method === "GET" || route.method === "DELETE" ? undefined : "[]";
      // Writes declare JSON even without a body, as the dashboard's client does (the CSRF
      // guard refuses cookie writes that do not).
      const write = route.method !== "GET";
      const { status, text } = await send(app.baseUrl, route.method, url, { ...p.headers, ...(write ? { "content-type": "application/json" } : {}) }, body);
      n++;
      const want = expectation(p, route.gate);
      const ok =
        status < 500 &&
        (want === "public" ? status === 200 : want === "allowed" ? status !== 401 && status !== 403 : status === want) &&
        !STACK.test(text);
      if (!ok) wrong.push(`${route.method} ${route.path} as ${p.label}: got ${status}, want ${want}${status >= 500 ? ` (${text.slice(0, 200)})` : ""}`);
    }
  }
  r.check(`role × route × scope matrix (${routes.length} routes × ${principals.length} principals) answers as PERMISSIONS says`, wrong.length === 0, `${wrong.length} wrong: ${wrong.slice(0, 8).join(" | ")}`);
  return n;
}

// ---- fuzzing

const HOSTILE = [
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2f",
  "....//....//etc/passwd",
  "..\\..\\windows\\win.ini",
  "' OR '1'='1",
  "1; DROP TABLE \"BackupJob\";--",
  "1' UNION SELECT \"passwordHash\" FROM \"User\"--",
  "\u0000",
  "%00",
  "${jndi:ldap://127.0.0.1/x}",
  "<script>alert(1)</script>",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "__proto__",
  "constructor",
  "9".repeat(400),
  "a".repeat(5000),
  "🙂".repeat(100),
  MISSING_ID,
  "CMISSING0000000000000000000",
];

function bodyArb(big: boolean) {
  const fieldValue = fc.oneof(fc.anything({ maxDepth: 2 }), fc.constantFrom(...HOSTILE), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const known = fc.record(
    {
      kind: fc.oneof(fc.constantFrom("FULL", "QUICK", "full", ""), fieldValue),
      note: fieldValue,
      includeFiles: fieldValue,
      commitSha: fc.oneof(fc.constantFrom("abcdef1", "zzzzzzz", "a".repeat(41)), fieldValue),
      confirm: fc.oneof(fc.constantFrom("RESTORE", "restore", " RESTORE"), fieldValue),
      email: fc.oneof(fc.emailAddress(), fieldValue),
      password: fieldValue,
      role: fc.oneof(fc.constantFrom(...ROLES), fieldValue),
      displayName: fieldValue,
      name: fieldValue,
      scopes: fc.oneof(fc.subarray([...SCOPES]), fieldValue),
      expiresAt: fieldValue,
      schedule: fc.oneof(fc.record({ enabled: fc.boolean(), cron: fc.constantFrom("0 2 * * *", "* * * * * * *", "'; --"), timezone: fc.constantFrom("UTC", "Mars/Olympus"), kind: fc.constantFrom("FULL", "X") }), fieldValue),
      retention: fieldValue,
      notifications: fieldValue,
    },
    { requiredKeys: [] },
  );
  const arbs = [
    known.map((o) => JSON.stringify(o)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.constantFrom(
      '{"__proto__":{"role":"ADMIN","isAdmin":true},"constructor":{"prototype":{"role":"ADMIN"}}}',
      "[".repeat(50_000) + "]".repeat(50_000),
      '{"kind":"FULL"',
      "",
      "null",
      "true",
      '{"kind":"FULL","kind":"QUICK"}',
    ),
  ];
  // Huge payloads: past the 64 KiB body limit, up to 8 MB.
  if (big) arbs.push(fc.integer({ min: 70_000, max: 8_000_000 }).map((n) => JSON.stringify({ kind: "FULL", note: "x".repeat(n) })));
  return fc.oneof(...arbs);
}

interface FuzzRequest {
  method: string;
  path: string;
  query: string;
  principal: number;
  contentType: string | null;
  body: string;
}

function fuzzArb(routes: Route[], principals: number, knownIds: string[], big: boolean): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE, ...knownIds) },
    { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  );
  const encodedId = fc.tuple(id, fc.integer({ min: 0, max: 9 })).map(([s, k]) => (k < 8 ? encodeURIComponent(s) : s.replace(/[?#\s]/g, "")));
  const query = fc
    .dictionary(
      fc.oneof(fc.constantFrom("limit", "offset", "status", "kind", "trigger", "action", "actorType", "id", "__proto__", "constructor[prototype]"), fc.string({ maxLength: 10 })),
      fc.oneof(fc.constantFrom(...HOSTILE, "50", "200", "201", "0", "-5", "1.5", "SUCCEEDED", "FULL"), fc.string({ maxLength: 20 })),
      { maxKeys: 4 },
    )
    .map((d) => new URLSearchParams(d as Record<string, string>).toString());
  const path = fc.oneof(
    { weight: 9, arbitrary: fc.tuple(fc.constantFrom(...routes), encodedId).map(([rt, i]) => rt.path.replace(":id", i)) },
    { weight: 1, arbitrary: encodedId.map((i) => `/api/${i}`) },
  );
  const method = fc.oneof(
    { weight: 7, arbitrary: fc.constant("") }, // the route's own method, filled in below
    { weight: 3, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS") },
  );
  return fc
    .record({
      route: fc.constantFrom(...routes),
      path,
      method,
      query,
      principal: fc.integer({ min: 0, max: principals - 1 }),
      contentType: fc.constantFrom("application/json", "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", null),
      body: bodyArb(big),
    })
    .map(({ route, path: p, method: m, ...rest }) => ({ ...rest, method: m || route.method, path: p }));
}

async function fuzz(app: RunningApp, apiRoutes: Route[], principals: Principal[], count: number, seed: number, knownIds: string[], r: Recorder): Promise<number> {
  const routes = [...apiRoutes, ...AUTH_ROUTES];
  // ~1.5 % huge payloads: drawn as a separate stream so the mix stays stable.
  const bigEvery = 64;
  const normal = fc.sample(fuzzArb(routes, principals.length, knownIds, false), { numRuns: count, seed });
  const huge = fc.sample(fuzzArb(routes, principals.length, knownIds, true).filter((q) => q.body.length > 65_536), { numRuns: Math.ceil(count / bigEvery), seed: seed + 1 });
  const reqs = normal.map((q, i) => (i % bigEvery === bigEvery - 1 ? huge[Math.floor(i / bigEvery)] ?? q : q));

  const statuses = new Map<number, number>();
  const fiveXX: string[] = [];
  const stacks: string[] = [];
  const leaks: string[] = [];
  const transport: string[] = [];
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  const worker = async () => {
    while (next < reqs.length) {
      const q = reqs[next++];
      const p = principals[q.principal];
      const url = q.path + (q.query ? `?${q.query}` : "");
      let finalPath: string;
      try {
        finalPath = new URL(app.baseUrl + url).pathname;
      } catch {
        finalPath = q.path;
      }
      const headers: Record<string, string> = { ...p.headers };
      if (q.contentType) headers["content-type"] = q.contentType;
      try {
        const { status, text } = await send(app.baseUrl, q.method, url, headers, q.body);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const what = `${q.method} ${url.slice(0, 120)} as ${p.label}`;
        const malformed = (() => {
          try {
            decodeURIComponent(q.path);
            return false;
          } catch {
            return true;
          }
        })();
        if (status >= 500) {
          const route = finalPath.replace(/^\/api\/(backups|restores|users|tokens|deployments)\/[^/]+/, "/api/$1/:id");
          fiveXX.push(`${status} ${q.method} ${route}${malformed ? " [id with a malformed %-escape]" : ""}: ${text.slice(0, 100).replace(/\s+/g, " ")}`);
        }
        if (STACK.test(text)) stacks.push(what);
        const unauthenticated = p.kind === "anonymous" || p.kind === "invalid";
        const protectedApi = finalPath.startsWith("/api/") && !finalPath.startsWith("/api/health") && !finalPath.startsWith("/api/auth/");
        // Not successes: 308 (Next normalising "//" or a trailing slash, no data) and the
        // automatic 204 answer to OPTIONS. A 302 would be (a presigned download URL).
        const success = (status >= 200 && status < 300 && q.method !== "OPTIONS") || (status >= 300 && status < 400 && status !== 308);
        if (unauthenticated && protectedApi && success) leaks.push(`${status} ${what}`);
      } catch (e) {
        transport.push(`${q.method} ${url.slice(0, 80)}: ${(e as Error).message} ${(e as { cause?: Error }).cause?.message ?? ""}`);
      }
      done++;
      if (done % 2000 === 0) console.log(`    … ${done}/${reqs.length} requests (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const groups = new Map<string, number>();
  for (const f of fiveXX) groups.set(f, (groups.get(f) ?? 0) + 1);
  r.check(`${reqs.length} fuzzed requests: no 5xx`, fiveXX.length === 0, `${fiveXX.length}: ${[...groups].map(([k, n]) => `${n}× ${k}`).join(" | ")}`);
  r.check(`${reqs.length} fuzzed requests: no success without valid credentials`, leaks.length === 0, leaks.slice(0, 5).join(" | "));
  r.check(`${reqs.length} fuzzed requests: no stack trace in any answer`, stacks.length === 0, stacks.slice(0, 5).join(" | "));
  r.check(`${reqs.length} fuzzed requests: every request answered (no reset, no hang)`, transport.length === 0, `${transport.length}: ${transport.slice(0, 5).join(" | ")}`);
  r.note(`status mix: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(" ")}; ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return reqs.length;
}


// ---- issue 12

type Db = ReturnType<typeof makeContext>["db"];

async function crossSite(app: RunningApp, db: Db, principals: Principal[], r: Recorder) {
  const admin = principals.find((p) => p.kind === "session" && p.role === "ADMIN")!;
  const cookie = admin.headers.cookie;
  const email = "csrf-made-admin@faults.local";
  const body = JSON.stringify({ email, displayName: "Evil", role: "ADMIN", password: "evil-password-123" });
  const cases: [string, Record<string, string>, string][] = [
    ["text/plain from https://evil.example (the issue's attack)", { origin: "https://evil.example", "content-type": "text/plain" }, body],
    ["a form post from https://evil.example", { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, new URLSearchParams({ email, role: "ADMIN" }).toString()],
    ["a multipart form post without Origin", { "content-type": "multipart/form-data; boundary=x" }, `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}\r\n--x--`],
    ["JSON from https://evil.example", { origin: "https://evil.example", "content-type": "application/json" }, body],
    ["JSON without Origin or Sec-Fetch-Site", { "content-type": "application/json" }, body],
  ];
  for (const [label, headers, payload] of cases) {
    const res = await send(app.baseUrl, "POST", "/api/users", { cookie, ...headers }, payload);
    const code = (() => {
      try {
        return JSON.parse(res.text).error?.code;
      } catch {
        return null;
      }
    })();
    r.check(`CSRF: ${label} with an ADMIN's cookie → 403 CSRF_REJECTED`, res.status === 403 && code === "CSRF_REJECTED", `${res.status} ${res.text.slice(0, 120)}`);
  }
  r.check("CSRF: no user was created by the refused writes", (await db.user.count({ where: { email } })) === 0);
  const own = await send(app.baseUrl, "POST", "/api/users", { cookie, origin: app.baseUrl, "content-type": "application/json" }, "[]");
  r.check("CSRF: the dashboard's own JSON write passes the guard (400 on a bad body)", own.status === 400, String(own.status));
  const token = principals.find((p) => p.kind === "token" && p.label === "ADMIN token [backups:write]")!;
  const viaToken = await send(app.baseUrl, "POST", "/api/backups", { ...token.headers, "content-type": "application/json", origin: "https://evil.example" }, "[]");
  r.check("CSRF: bearer-token requests are not subject to it", viaToken.status === 400, String(viaToken.status));
}

async function framingHeaders(app: RunningApp, r: Recorder) {
  for (const p of ["/login", "/api/health", "/api/backups"]) {
    const res = await fetch(app.baseUrl + p, { redirect: "manual" });
    const csp = res.headers.get("content-security-policy") ?? "";
    r.check(
      `headers on ${p}: framing refused (X-Frame-Options DENY, frame-ancestors 'none'), nosniff, Referrer-Policy`,
      res.headers.get("x-frame-options") === "DENY" && csp.includes("frame-ancestors 'none'") && res.headers.get("x-content-type-options") === "nosniff" && res.headers.get("referrer-policy") === "same-origin",
      `x-frame-options=${res.headers.get("x-frame-options")} csp=${csp.slice(0, 80)}`,
    );
    await res.arrayBuffer().catch(() => {});
  }
}

/** Fuzz run 2026-12-01: a 15 KB URL with a backslash got a 308 whose headers echoed it twice. */
async function longUrls(app: RunningApp, r: Recorder) {
  const q = "a".repeat(15_000);
  const answers: string[] = [];
  for (const p of [`/api/backups/%5Cx?q=${q}`, `/api/backups/\\x?q=${q}`, `/api/backups/x/?q=${q}`, `/login?next=${q}`]) {
    try {
      const res = await send(app.baseUrl, "POST", p, { "content-type": "application/json" }, "{}");
      answers.push(String(res.status));
    } catch (e) {
      answers.push(`${(e as Error).message} ${(e as { cause?: Error }).cause?.message ?? ""}`.trim());
    }
  }
  r.check("a 15 KB request URL is answered 414, never with headers a client cannot read", answers.every((a) => a === "414"), answers.join(" | "));
}

async function downloadScope(app: RunningApp, principals: Principal[], backupId: string, r: Recorder) {
  const reader = principals.find((p) => p.label === "ADMIN token [backups:read]")!;
  const downloader = principals.find((p) => p.label === "ADMIN token [backups:download]")!;
  const viewer = principals.find((p) => p.kind === "session" && p.role === "VIEWER")!;
  const a = await send(app.baseUrl, "GET", `/api/backups/${backupId}/download`, reader.headers);
  const b = await fetch(`${app.baseUrl}/api/backups/${backupId}/download`, { headers: downloader.headers, redirect: "manual" });
  await b.arrayBuffer();
  const c = await send(app.baseUrl, "GET", `/api/backups/${backupId}/download`, viewer.headers);
  r.check("a backups:read token cannot download an archive (403), a backups:download token can", a.status === 403 && b.status === 200, `${a.status} / ${b.status}`);
  r.check("a VIEWER session cannot download either (403)", c.status === 403, String(c.status));
}

async function noDerivedKeyValue(app: RunningApp, ctx: ReturnType<typeof makeContext>, principals: Principal[], backupId: string, r: Recorder) {
  const row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
  const manifest = (await ctx.storage.getBytes(backupKeys(ctx.prefix, ctx.env, row.id, row.createdAt).manifest)).toString("utf8");
  const answers: string[] = [];
  for (const p of principals.filter((x) => x.kind === "session" || x.label.startsWith("ADMIN token"))) {
    answers.push((await send(app.baseUrl, "GET", `/api/backups/${backupId}`, p.headers)).text);
  }
  const strings = new Set<string>(["vaultline-key-fingerprint", "", "key", "vaultline", "fingerprint"]);
  JSON.parse(manifest, (k, v) => (strings.add(k), typeof v === "string" && strings.add(v), v));
  const hits: string[] = [];
  for (const s of strings) {
    for (const [name, mac] of [
      ["HMAC(passphrase, s)", createHmac("sha256", APP_PASSPHRASE).update(s).digest("hex")],
      ["HMAC(s, passphrase)", createHmac("sha256", s).update(APP_PASSPHRASE).digest("hex")],
    ] as const) {
      for (const [where, text] of [["manifest", manifest], ...answers.map((a, i) => [`answer ${i}`, a] as const)]) {
        if (text.includes(mac.slice(0, 16))) hits.push(`${name} over ${JSON.stringify(s.slice(0, 30))} in ${where}`);
      }
    }
  }
  r.check("the manifest and GET /api/backups/:id contain no value computable from the passphrase by one HMAC", hits.length === 0, hits.slice(0, 3).join(" | "));
  const viewer = principals.find((p) => p.kind === "session" && p.role === "VIEWER")!;
  const keyId = (JSON.parse(manifest) as { encryption: { keyId?: string } }).encryption.keyId ?? "";
  const viewerText = (await send(app.baseUrl, "GET", `/api/backups/${backupId}`, viewer.headers)).text;
  r.check("the manifest has a random key id, and VIEWERs do not see it", /^[0-9a-f]{16}$/.test(keyId) && !viewerText.includes(keyId), keyId);
}

async function staleSession(app: RunningApp, db: Db, r: Recorder) {
  const u = await createUser(db, "OPERATOR", "stale-session@faults.local");
  const cookie = await signIn(app.baseUrl, u.email, u.password);
  const before = await send(app.baseUrl, "GET", "/api/backups", { cookie });
  await updateUser(db, u.id, { password: "a-new-password-456" }, SYSTEM);
  const after = await send(app.baseUrl, "GET", "/api/backups", { cookie });
  r.check("a session from before a password change answers 401", before.status === 200 && after.status === 401, `${before.status} → ${after.status}`);
  const v = await createUser(db, "VIEWER", "sign-out-everywhere@faults.local");
  const c1 = await signIn(app.baseUrl, v.email, v.password);
  const c2 = await signIn(app.baseUrl, v.email, v.password);
  const revoke = await send(app.baseUrl, "POST", "/api/sessions/revoke", { cookie: c1, origin: app.baseUrl, "content-type": "application/json" }, "{}");
  const other = await send(app.baseUrl, "GET", "/api/backups", { cookie: c2 });
  r.check("sign out everywhere (204) ends the user's other sessions (401)", revoke.status === 204 && other.status === 401, `${revoke.status} / ${other.status}`);
}

async function signInThrottle(app: RunningApp, db: Db, r: Recorder) {
  const victim = await createUser(db, "VIEWER", "burst-victim@faults.local");
  const csrfRes = await fetch(`${app.baseUrl}/api/auth/csrf`);
  const csrfCookie = csrfRes.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const post = (email: string, password: string, extra: Record<string, string> = {}) =>
    fetch(`${app.baseUrl}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie, ...extra },
      body: new URLSearchParams({ csrfToken, email, password, json: "true" }).toString(),
    }).then(async (res) => ({ status: res.status, retryAfter: res.headers.get("retry-after"), text: await res.text() }));

  await db.loginAttempt.deleteMany({});
  const auditBefore = await db.auditEvent.count({ where: { action: "auth.sign_in_failed", target: victim.email } });
  const burst = await Promise.all(Array.from({ length: 30 }, () => post(victim.email, "wrong-password-000")));
  const recorded = await db.loginAttempt.count({ where: { email: victim.email } });
  const checked = (await db.auditEvent.count({ where: { action: "auth.sign_in_failed", target: victim.email } })) - auditBefore;
  const limited = burst.filter((b) => b.status === 429);
  r.check(
    `a parallel burst of 30 wrong passwords: 30 attempts recorded, at most ${LOGIN_MAX_FAILURES} password checks, the rest 429 with Retry-After`,
    recorded === 30 && checked <= LOGIN_MAX_FAILURES && limited.length >= 30 - LOGIN_MAX_FAILURES && limited.every((b) => Number(b.retryAfter) > 0),
    `recorded ${recorded}, checked ${checked}, 429 × ${limited.length}`,
  );

  await db.loginAttempt.deleteMany({});
  const spray: number[] = [];
  for (let i = 0; i <= LOGIN_MAX_FAILURES; i++) {
    spray.push((await post(`spray-${i}@faults.local`, "whatever-password", { "x-forwarded-for": `203.0.113.${i + 1}`, "x-real-ip": `198.51.100.${i + 1}` })).status);
  }
  r.check(
    `${LOGIN_MAX_FAILURES + 1} sign-ins with distinct emails and forged X-Forwarded-For from one socket: the last is 429`,
    spray.slice(0, LOGIN_MAX_FAILURES).every((s) => s !== 429) && spray[LOGIN_MAX_FAILURES] === 429,
    spray.join(","),
  );
  const rows = await db.loginAttempt.findMany({ select: { ip: true }, distinct: ["ip"] });
  r.check("attempts are keyed on the socket's address, not the forged header", rows.length === 1 && !rows[0].ip.startsWith("203.0.113."), rows.map((x) => x.ip).join(","));
}

export function hostileRequests(pgs: PgServer, opts: { requests: number; seed: number; appDir?: string }): FaultCase {
  return {
    name: `${opts.requests} hostile API requests + permission matrix`,
    timeoutMs: 30 * 60_000,
    async run(r) {
      const appDir = opts.appDir ? path.resolve(opts.appDir) : snapshotAppDir((s) => console.log(`    ${s}`));
      const { routes, unclassified } = discoverRoutes(appDir);
      r.check(`every handler under app/api has a recognisable gate (${routes.length} found)`, unclassified.length === 0, unclassified.join(", "));
      r.check("every route but health is gated", routes.filter((x) => x.gate === "public").every((x) => x.path === "/api/health"), routes.filter((x) => x.gate === "public").map((x) => x.path).join(", "));

      const appUrl = await pgs.createMigratedDatabase("fault_api_app");
      const targetUrl = await pgs.createDatabase("fault_api_target");
      await seedTarget(targetUrl, { rows: 200 });
      const storeDir = await mkdtemp(path.join(tmpdir(), "vaultline-faults-api-store-"));
      const ctx = makeContext({ appUrl, targetUrl, storage: { kind: "local", dir: storeDir }, passphrase: APP_PASSPHRASE, env: "prod" });
      let app: RunningApp | undefined;
      try {
        // Real rows for the ids pool: a good backup and a restore request.
        const job = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
        await runBackup(ctx, job.id);
        app = await startApp({
          appDir,
          databaseUrl: appUrl,
          // With its worker: backups, restores and gate waits the fuzz starts really run.
          env: { TARGET_DATABASE_URL: targetUrl, LOCAL_STORAGE_DIR: storeDir, STORAGE_PREFIX: "backups", BACKUP_ENV: "prod", WORKER_IN_WEB: "true" },
          log: (s) => console.log(`    ${s}`),
        });
        const principals = await setupPrincipals(app, ctx.db);
        const m = await matrix(app, routes, principals, r);
        await crossSite(app, ctx.db, principals, r);
        await framingHeaders(app, r);
        await longUrls(app, r);
        await downloadScope(app, principals, job.id, r);
        await noDerivedKeyValue(app, ctx, principals, job.id, r);
        await staleSession(app, ctx.db, r);
        // Last before the fuzz: it leaves this client's address throttled for 15 minutes.
        await signInThrottle(app, ctx.db, r);
        const n = await fuzz(app, routes, principals, opts.requests, opts.seed, [job.id], r);
        const h = await fetch(`${app.baseUrl}/api/health`);
        r.check("the app is still healthy afterwards", h.status === 200, String(h.status));
        r.units = `${m} matrix + ${n} fuzzed requests`;
      } finally {
        await app?.stop();
        await stopBosses();
        await ctx.db.$disconnect();
        await rm(storeDir, { recursive: true, force: true });
        await pgs.dropDatabase(targetUrl).catch(() => {});
        await pgs.dropDatabase(appUrl).catch(() => {});
      }
    },
  };
}

