// Managing targets (DESIGN §8) through the real route handlers (app/api/targets/**,
// app/api/checks/**) against a migrated catalogue and a database that looks like an
// application's (tests/support/app-fixture.ts: two schemas, extensions, partitions, row-level
// security, a large object), owned by its own non-superuser role. The connection test is run
// for four real roles — a superuser, the owner without CREATEDB, a read-only role, a role with
// nothing — and the GRANT SQL it names is run to show that it is what was missing (pg_dump
// itself then succeeds). The connection URL must never appear in an answer, an audit detail,
// a log line, or the stored row (which holds it encrypted).
//
// Sessions: getSessionUser is replaced by a stub returning the user the test chooses, as in
// tests/openapi.integration.test.ts; the CSRF guard, role and scope checks and parsing run.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, mkdtemp, rm, writeFile, readdir } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { NextRequest } from "next/server";
import pino from "pino";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { SessionUser } from "../lib/auth";
import type { Db } from "../lib/db";
import { adminUrl, createDatabase, createMigratedDatabase, dropDatabase, PASSPHRASE, seedTarget, sql } from "./support/vitest-env";
import { APP_SCHEMA_SQL, ensureRoles } from "./support/app-fixture";
import { testTargetConnection, type TargetTestResult } from "../lib/backup/target-test";
import { decryptTargetUrl } from "../lib/backup/target-secret";
import { handlerFor } from "./support/route-handler";

const logLines: string[] = [];
vi.mock("../lib/log", async (importOriginal) => {
  const real = await importOriginal<typeof import("../lib/log")>();
  const logger = pino({ level: "debug" }, { write: (s: string) => void logLines.push(s) });
  return { ...real, logger, componentLogger: (component: string, bindings: Record<string, unknown> = {}) => logger.child({ component, ...bindings }) };
});

const session: { user: SessionUser | null } = { user: null };
vi.mock("../lib/auth", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../lib/auth")>()),
  getSessionUser: async () => session.user,
}));

const exec = promisify(execFile);
const ORIGIN = "http://localhost:3998";
const SECRET = "targets-admin-test-secret-0123456789";
const tag = randomBytes(4).toString("hex");
const OWNER = `own_${tag}`;
const READER = `ro_${tag}`;
const NOBODY = `none_${tag}`;
const PASSWORD = `Pw-${tag}-s3cret!word`;

type Who = "admin" | "operator" | "viewer" | "readonly" | "none";

let appUrl: string;
let defaultUrl: string;
let shopUrl: string;
let shopDb: string;
let storageDir: string;
let dataDir: string;
let db: Db;
let ajv: Ajv2020;
let doc: ReturnType<typeof import("../lib/openapi/document").openApiDocument>;
const users: Partial<Record<Who, SessionUser>> = {};
let readOnlyToken: string;

const as = (role: string) => {
  const u = new URL(shopUrl);
  u.username = role;
  u.password = PASSWORD;
  return u.toString();
};
const superUrl = () => shopUrl;

beforeAll(async () => {
  appUrl = await createMigratedDatabase("tadmin");
  defaultUrl = await createDatabase("tdefault");
  await seedTarget(defaultUrl, { rows: 50 });
  // The application database, as app-fixture builds it, owned by a role of this file's own
  // (roles are per server, and this file changes them).
  shopUrl = await createDatabase("shop");
  shopDb = decodeURIComponent(new URL(shopUrl).pathname.slice(1));
  await ensureRoles(sql, adminUrl());
  for (const r of [OWNER, READER, NOBODY]) await sql(adminUrl(), `CREATE ROLE "${r}" LOGIN PASSWORD '${PASSWORD}'`);
  await sql(adminUrl(), `GRANT vl_reader TO "${READER}"`);
  await sql(
    shopUrl,
    `ALTER DATABASE "${shopDb}" OWNER TO "${OWNER}"; ALTER SCHEMA public OWNER TO "${OWNER}";
     CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS citext;
     GRANT CONNECT ON DATABASE "${shopDb}" TO vl_reader;`,
  );
  await sql(as(OWNER), APP_SCHEMA_SQL);

  storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-tadmin-store-"));
  dataDir = await mkdtemp(path.join(tmpdir(), "vaultline-tadmin-data-"));
  Object.assign(process.env, {
    DATABASE_URL: appUrl,
    TARGET_DATABASE_URL: defaultUrl,
    STORAGE: "local",
    LOCAL_STORAGE_DIR: storageDir,
    DATA_DIR: dataDir,
    BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
    NEXTAUTH_SECRET: SECRET,
    NEXTAUTH_URL: ORIGIN,
  });
  delete process.env.TARGET_URL_SECRET;
  (await import("../lib/config")).resetConfigForTests();
  db = (await import("../lib/db")).db();
  const { createUser, createToken } = await import("../lib/users");
  const { SYSTEM } = await import("../lib/audit");
  for (const role of ["ADMIN", "OPERATOR", "VIEWER"] as const) {
    const u = await createUser(db, { email: `${role.toLowerCase()}@targets.test`, displayName: role, role, password: "password-1234" }, SYSTEM);
    users[role.toLowerCase() as Who] = { id: u.id, email: u.email, displayName: u.displayName, role };
  }
  readOnlyToken = (await createToken(db, { name: "reader", scopes: ["backups:read"] }, users.admin!.id, SYSTEM)).token;
  doc = (await import("../lib/openapi/document")).openApiDocument();
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
}, 180_000);

afterAll(async () => {
  await (await import("../lib/queue")).stopBosses().catch(() => undefined);
  await db?.$disconnect();
  for (const u of [appUrl, defaultUrl, shopUrl]) if (u) await dropDatabase(u);
  for (const r of [OWNER, READER, NOBODY]) await sql(adminUrl(), `DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
  await rm(storageDir, { recursive: true, force: true });
  await rm(dataDir, { recursive: true, force: true });
});

async function call(method: string, docPath: string, opts: { id?: string; as?: Who; body?: unknown; query?: Record<string, string> } = {}) {
  const url = new URL(docPath.replace("{id}", encodeURIComponent(opts.id ?? "")), ORIGIN);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { origin: ORIGIN };
  const who = opts.as ?? "admin";
  session.user = who === "readonly" || who === "none" ? null : (users[who] ?? null);
  if (who === "readonly") headers.authorization = `Bearer ${readOnlyToken}`;
  if (method !== "get") headers["content-type"] = "application/json";
  const req = new NextRequest(url, { method: method.toUpperCase(), headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const res = await (await handlerFor(method, docPath))(req, { params: Promise.resolve<Record<string, string>>(opts.id ? { id: opts.id } : {}) });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  // Every answer is the one the OpenAPI document describes, with no field it does not.
  if (res.status !== 204) {
    const op = (doc.paths![docPath] as Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>)[method];
    const schema = op.responses[String(res.status)]?.content?.["application/json"]?.schema;
    expect(schema, `${method} ${docPath} documents ${res.status}`).toBeDefined();
    const local = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll("#/components/schemas/", "#/$defs/"));
    const validate = ajv.compile({ ...local(schema), $defs: local(doc.components?.schemas ?? {}) });
    expect(validate(body) ? [] : validate.errors, `${method} ${docPath} ${res.status}: ${text.slice(0, 300)}`).toEqual([]);
  }
  return { status: res.status, body, text };
}

const failing = (r: TargetTestResult) => r.reasons.filter((x) => !x.ok).map((x) => ({ check: x.check, grant: x.grant }));

async function pgDump(url: string, name: string): Promise<void> {
  const file = path.join(dataDir, `dump-${name}.pgdump`);
  try {
    await exec("pg_dump", ["--format=custom", `--file=${file}`, `--dbname=${url}`], { timeout: 60_000 });
  } finally {
    await rm(file, { force: true });
  }
}
const pgDumpAs = (role: string) => pgDump(as(role), role);

describe("the connection test, for four real roles", () => {
  it("a superuser may do everything", async () => {
    const r = await testTargetConnection(superUrl());
    expect(failing(r)).toEqual([]);
    expect(r).toMatchObject({ ok: true, canBackup: true, canRestoreInPlace: true, canSwap: true, pgDump: { compatible: true } });
    expect(r.serverVersion).toMatch(/^\d+\.\d+$/);
  });

  it("the owner without CREATEDB backs up and restores in place; the swap lacks CREATEDB and pg_signal_backend, and granting them is enough", async () => {
    const before = await testTargetConnection(as(OWNER));
    expect(before).toMatchObject({ ok: true, canBackup: true, canRestoreInPlace: true, canSwap: false });
    expect(failing(before)).toEqual([
      { check: "swap.createdb", grant: `ALTER ROLE "${OWNER}" CREATEDB;` },
      { check: "swap.signal", grant: `GRANT pg_signal_backend TO "${OWNER}";` },
    ]);
    for (const f of failing(before)) await sql(adminUrl(), f.grant!);
    const after = await testTargetConnection(as(OWNER));
    expect(failing(after)).toEqual([]);
    expect(after.canSwap).toBe(true);
  });

  it("a read-only role: pg_read_all_data, BYPASSRLS and the large object are named; with them pg_dump really succeeds", async () => {
    const before = await testTargetConnection(as(READER));
    expect(before).toMatchObject({ ok: false, canBackup: false, canRestoreInPlace: false, canSwap: false });
    const lo = (await sql<{ oid: string }>(superUrl(), "SELECT oid::text AS oid FROM pg_largeobject_metadata")).map((r) => r.oid);
    expect(lo).toHaveLength(1);
    const backupMissing = failing(before).filter((f) => f.check.startsWith("backup."));
    expect(backupMissing).toEqual([
      { check: "backup.tables", grant: `GRANT pg_read_all_data TO "${READER}";` },
      { check: "backup.row_security", grant: `ALTER ROLE "${READER}" BYPASSRLS;` },
      { check: "backup.large_objects", grant: `GRANT SELECT ON LARGE OBJECT ${lo[0]} TO "${READER}";` },
    ]);
    await expect(pgDumpAs(READER)).rejects.toThrow();
    for (const f of backupMissing) await sql(f.check === "backup.large_objects" ? superUrl() : adminUrl(), f.grant!);
    const after = await testTargetConnection(as(READER));
    expect(failing(after).filter((f) => f.check.startsWith("backup."))).toEqual([]);
    expect(after).toMatchObject({ ok: true, canBackup: true });
    await pgDumpAs(READER);
  }, 120_000);

  it("a role with nothing: every capability missing, each with its exact grant", async () => {
    const r = await testTargetConnection(as(NOBODY));
    expect(r).toMatchObject({ ok: false, canBackup: false, canRestoreInPlace: false, canSwap: false });
    const grants = Object.fromEntries(failing(r).map((f) => [f.check, f.grant]));
    expect(grants).toMatchObject({
      "backup.schemas": `GRANT pg_read_all_data TO "${NOBODY}";`,
      "backup.tables": `GRANT pg_read_all_data TO "${NOBODY}";`,
      "in_place.create": `GRANT CREATE ON DATABASE "${shopDb}" TO "${NOBODY}";`,
      "in_place.database_owner": `ALTER DATABASE "${shopDb}" OWNER TO "${NOBODY}";`,
      "in_place.object_owners": `GRANT "${OWNER}" TO "${NOBODY}";`,
      "swap.createdb": `ALTER ROLE "${NOBODY}" CREATEDB;`,
      "swap.database_owner": `ALTER DATABASE "${shopDb}" OWNER TO "${NOBODY}";`,
      "swap.signal": `GRANT pg_signal_backend TO "${NOBODY}";`,
    });
    expect(grants["swap.maintenance"]).toBeUndefined();
    // Acting as the owner is what the in-place restore lacked.
    await sql(adminUrl(), `GRANT "${OWNER}" TO "${NOBODY}"`);
    const after = await testTargetConnection(as(NOBODY));
    expect(failing(after).filter((f) => f.check.startsWith("in_place."))).toEqual([]);
    expect(after.canRestoreInPlace).toBe(true);
  });

  it("cannot connect: ok false, the reason without the password or the URL", async () => {
    const bad = new URL(as(READER));
    bad.password = "Wrong-Secret-Pa55";
    const r = await testTargetConnection(bad.toString());
    expect(r).toMatchObject({ ok: false, serverVersion: null, canBackup: false });
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0].check).toBe("connect");
    expect(r.reasons[0].message).toMatch(/password authentication failed/);
    expect(JSON.stringify(r)).not.toContain("Wrong-Secret-Pa55");
    expect(JSON.stringify(r)).not.toContain("postgres://");
  });
});

describe("the connection test, for a database's own role that is not a superuser", () => {
  const ROLE = `app_${tag}`;
  let appDbUrl: string;
  let appDb: string;
  const asRole = () => {
    const u = new URL(appDbUrl);
    u.username = ROLE;
    u.password = PASSWORD;
    return u.toString();
  };

  beforeAll(async () => {
    appDbUrl = await createDatabase("apprls");
    appDb = decodeURIComponent(new URL(appDbUrl).pathname.slice(1));
    await sql(adminUrl(), `CREATE ROLE "${ROLE}" LOGIN CREATEDB PASSWORD '${PASSWORD}'; GRANT pg_signal_backend TO "${ROLE}"`);
    await sql(appDbUrl, `ALTER DATABASE "${appDb}" OWNER TO "${ROLE}"; ALTER SCHEMA public OWNER TO "${ROLE}"`);
    // Its own tables: one FORCEs row-level security on its owner, one only enables it.
    await sql(
      asRole(),
      `CREATE TABLE public.invoices (id int PRIMARY KEY, tenant text NOT NULL);
       INSERT INTO public.invoices VALUES (1, 'a'), (2, 'b');
       ALTER TABLE public.invoices ENABLE ROW LEVEL SECURITY;
       ALTER TABLE public.invoices FORCE ROW LEVEL SECURITY;
       CREATE POLICY tenant_a ON public.invoices USING (tenant = 'a');
       CREATE TABLE public.notes (id int PRIMARY KEY, body text);
       ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
       CREATE POLICY everyone ON public.notes USING (true);`,
    );
  });

  afterAll(async () => {
    if (appDbUrl) await dropDatabase(appDbUrl);
    await sql(adminUrl(), `DROP DATABASE IF EXISTS "fresh_${tag}"`).catch(() => undefined);
    await sql(adminUrl(), `DROP ROLE IF EXISTS "${ROLE}"`).catch(() => undefined);
  });

  it("a table that FORCEs row-level security binds its owner too: backup.row_security names it with BYPASSRLS, pg_dump really fails, and the grant is enough", async () => {
    const before = await testTargetConnection(asRole());
    expect(before).toMatchObject({ ok: false, canBackup: false });
    expect(failing(before).filter((f) => f.check.startsWith("backup."))).toEqual([{ check: "backup.row_security", grant: `ALTER ROLE "${ROLE}" BYPASSRLS;` }]);
    expect(before.reasons.find((r) => r.check === "backup.row_security")?.message).toBe(
      `Row-level security forced on 1 table(s) ${ROLE} owns (public.invoices), where it binds the owner too: pg_dump refuses them. Only a superuser may grant BYPASSRLS.`,
    );
    await expect(pgDump(asRole(), ROLE)).rejects.toThrow(/row-level security policy for table "invoices"/);
    await sql(adminUrl(), `ALTER ROLE "${ROLE}" BYPASSRLS;`);
    const after = await testTargetConnection(asRole());
    expect(failing(after).filter((f) => f.check.startsWith("backup."))).toEqual([]);
    expect(after).toMatchObject({ ok: true, canBackup: true });
    await pgDump(asRole(), ROLE);
  }, 120_000);

  it("an extension that is not trusted, created by a superuser, fails the swap as well as the in-place restore: both name SUPERUSER, canSwap is false", async () => {
    // dblink is not trusted: only a superuser creates it (pg_available_extension_versions).
    await sql(appDbUrl, "CREATE EXTENSION dblink");
    const before = await testTargetConnection(asRole());
    expect(failing(before).filter((f) => !f.check.startsWith("backup."))).toEqual([
      { check: "in_place.extensions", grant: `ALTER ROLE "${ROLE}" SUPERUSER;` },
      { check: "swap.extensions", grant: `ALTER ROLE "${ROLE}" SUPERUSER;` },
    ]);
    expect(before).toMatchObject({ ok: true, canBackup: true, canRestoreInPlace: false, canSwap: false });
    expect(before.reasons.find((r) => r.check === "swap.extensions")?.message).toBe(
      "Extension(s) dblink are not trusted: only a superuser can create them in the fresh copy the swap restores into.",
    );
    // What the swap does: a fresh database made by the role, the archive's extensions created in it as the role.
    await sql(asRole(), `CREATE DATABASE "fresh_${tag}" TEMPLATE template0`);
    const fresh = new URL(asRole());
    fresh.pathname = `/fresh_${tag}`;
    await expect(sql(fresh.toString(), "CREATE EXTENSION dblink")).rejects.toThrow(/permission denied to create extension "dblink"/);
    await sql(adminUrl(), `DROP DATABASE "fresh_${tag}"`);

    await sql(adminUrl(), `ALTER ROLE "${ROLE}" SUPERUSER;`);
    const after = await testTargetConnection(asRole());
    expect(failing(after)).toEqual([]);
    expect(after).toMatchObject({ canRestoreInPlace: true, canSwap: true });
  });
});

describe("/api/targets", () => {
  let shopId: string;

  it("refuses VIEWERs, OPERATORs and a backups:read token to add; a URL that cannot connect saves nothing (400 with the reason)", async () => {
    const body = { name: "shop-prod", environment: "prod", databaseUrl: as(OWNER) };
    expect((await call("post", "/api/targets", { as: "viewer", body })).status).toBe(403);
    expect((await call("post", "/api/targets", { as: "operator", body })).status).toBe(403);
    expect((await call("post", "/api/targets", { as: "readonly", body })).status).toBe(403);
    expect((await call("post", "/api/targets", { as: "none", body })).status).toBe(401);
    const unreachable = new URL(as(OWNER));
    unreachable.password = "not-the-password";
    const r = await call("post", "/api/targets", { body: { ...body, databaseUrl: unreachable.toString() } });
    expect(r.status).toBe(400);
    expect((r.body!.error as { code: string; message: string }).message).toMatch(/Cannot connect.*nothing was saved/);
    expect(r.text).not.toContain("not-the-password");
    expect(await db.target.count()).toBe(1);
  });

  it("refuses reserved names and bad input, listing the fields", async () => {
    for (const name of ["default", "test", "Shop", "-x"]) {
      const r = await call("post", "/api/targets", { body: { name, environment: "prod", databaseUrl: as(OWNER) } });
      expect(r.status, name).toBe(400);
      expect((r.body!.error as { details: { fields: { path: string }[] } }).details.fields.map((f) => f.path)).toContain("name");
    }
    const r = await call("post", "/api/targets", { body: { name: "x", environment: "prod", databaseUrl: "mysql://h/db" } });
    expect(r.status).toBe(400);
  });

  it("adds a target: 201 with the test, the URL encrypted in its row and nowhere else", async () => {
    const r = await call("post", "/api/targets", { body: { name: "shop-prod", environment: "prod", databaseUrl: as(OWNER) } });
    expect(r.status, r.text).toBe(201);
    shopId = r.body!.id as string;
    expect(r.body).toMatchObject({ name: "shop-prod", environment: "prod", database: shopDb, isDefault: false, hasUrl: true, settings: {}, today: { state: "missing", lastSuccess: null, sizes: [] } });
    expect((r.body!.test as TargetTestResult).canBackup).toBe(true);
    expect(r.text).not.toContain(PASSWORD);
    expect(r.text).not.toContain("postgres://");

    const raw = (await sql<{ blob: string; host: string }>(appUrl, `SELECT "databaseUrlEncrypted" AS blob, host FROM "Target" WHERE id = $1`, [shopId]))[0];
    const host = new URL(shopUrl).hostname;
    expect(raw.host).toContain(host);
    for (const leak of [PASSWORD, OWNER, host, shopDb, "postgres"]) expect(raw.blob).not.toContain(leak);
    expect(decryptTargetUrl(SECRET, raw.blob)).toBe(as(OWNER));

    const dup = await call("post", "/api/targets", { body: { name: "shop-prod", environment: "staging", databaseUrl: as(OWNER) } });
    expect(dup.status).toBe(409);
    expect((dup.body!.error as { code: string; message: string }).message).toMatch(/A target named "shop-prod" exists/);
  });

  it("lists targets to VIEWERs and backups:read tokens (default first) and reads one by name or id", async () => {
    const list = await call("get", "/api/targets", { as: "viewer" });
    expect(list.status).toBe(200);
    const targets = list.body!.targets as { name: string; isDefault: boolean; hasUrl: boolean }[];
    expect(targets.map((t) => [t.name, t.isDefault, t.hasUrl])).toEqual([
      ["default", true, false],
      ["shop-prod", false, true],
    ]);
    expect(list.text).not.toContain(PASSWORD);
    expect((await call("get", "/api/targets", { as: "readonly" })).status).toBe(200);
    expect((await call("get", "/api/targets/{id}", { id: "shop-prod", as: "viewer" })).body!.id).toBe(shopId);
    expect((await call("get", "/api/targets/{id}", { id: shopId })).body!.name).toBe("shop-prod");
    const missing = await call("get", "/api/targets/{id}", { id: "nope" });
    expect(missing.status).toBe(404);
  });

  it("changes settings and names; the default target's environment and URL are refused with the reason", async () => {
    const fixed = await call("patch", "/api/targets/{id}", { id: "default", body: { environment: "staging" } });
    expect(fixed.status).toBe(400);
    expect((fixed.body!.error as { message: string }).message).toMatch(/BACKUP_ENV, TARGET_DATABASE_URL/);
    const gate = await call("patch", "/api/targets/{id}", { id: "default", body: { settings: { gate: { maxAgeMinutes: 30 } } } });
    expect(gate.status).toBe(200);
    expect(gate.body!.settings).toEqual({ gate: { maxAgeMinutes: 30 } });

    const schedule = { enabled: true, cron: "0 3 * * *", timezone: "Europe/Berlin", kind: "FULL" };
    const r = await call("patch", "/api/targets/{id}", { id: "shop-prod", body: { name: "shop", settings: { schedule, retention: { days: 7, keepLast: 3, keepQuick: 5, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 } } } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: shopId, name: "shop", settings: { schedule } });
    expect(r.body!.test).toBeUndefined();
    expect(Date.parse((r.body!.today as { nextRunAt: string }).nextRunAt)).toBeGreaterThan(Date.now());
    expect((await call("patch", "/api/targets/{id}", { id: "shop", as: "operator", body: { environment: "x" } })).status).toBe(403);
    expect((await call("patch", "/api/targets/{id}", { id: "shop", body: {} })).status).toBe(400);

    // A new URL is tested first: one that cannot connect changes nothing.
    const bad = new URL(as(OWNER));
    bad.password = "wrong-one";
    expect((await call("patch", "/api/targets/{id}", { id: "shop", body: { databaseUrl: bad.toString() } })).status).toBe(400);
    const replaced = await call("patch", "/api/targets/{id}", { id: "shop", body: { databaseUrl: superUrl() } });
    expect(replaced.status).toBe(200);
    expect((replaced.body!.test as TargetTestResult).canSwap).toBe(true);
  });

  it("tests a stored target for OPERATORs and a URL before saving for ADMINs", async () => {
    const stored = await call("post", "/api/targets/{id}/test", { id: "shop", as: "operator" });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ ok: true, canBackup: true });
    expect((await call("post", "/api/targets/{id}/test", { id: "shop", as: "viewer" })).status).toBe(403);
    const fresh = await call("post", "/api/targets/test", { body: { databaseUrl: as(NOBODY) } });
    expect(fresh.status).toBe(200);
    // NOBODY acts as the owner by now (the test above granted it), but still may not create databases.
    expect(fresh.body).toMatchObject({ canBackup: true, canSwap: false });
    expect(fresh.text).not.toContain(PASSWORD);
    expect((await call("post", "/api/targets/test", { as: "operator", body: { databaseUrl: as(NOBODY) } })).status).toBe(403);
  });

  it("runs and reads checks per target: the default keeps its key, another target has its own", async () => {
    expect((await call("get", "/api/checks", { query: { target: "shop" } })).body).toEqual({ last: null });
    // The target's own checks file applies (the default target has none here).
    const checksFile = path.join(dataDir, "shop-checks.json");
    await writeFile(checksFile, JSON.stringify([{ name: "invoices-without-customer", sql: "SELECT i.id FROM billing.invoices i LEFT JOIN customers c ON c.id = i.customer_id WHERE c.id IS NULL" }]));
    expect((await call("patch", "/api/targets/{id}", { id: "shop", body: { settings: { checksFile } } })).status).toBe(200);
    const run = await call("post", "/api/checks/run", { as: "operator", body: { target: "shop" } });
    expect(run.status, run.text).toBe(200);
    const results = ((run.body!.last as { run: { results: { id: string; status: string }[] } }).run.results);
    expect(results.find((r) => r.id === "integrity:invoices-without-customer")?.status).toBe("pass");
    const keys = (await db.runtimeState.findMany({ where: { key: { startsWith: "checks" } }, select: { key: true } })).map((k) => k.key);
    expect(keys).toEqual([`checks:${shopId}`]);
    expect((await call("get", "/api/checks", { query: { target: shopId } })).body!.last).not.toBeNull();
    expect((await call("get", "/api/checks")).body).toEqual({ last: null });
    const own = await call("post", "/api/checks/run", { as: "operator", body: {} });
    expect(own.status).toBe(200);
    expect((own.body!.last as { run: { results: { id: string }[] } }).run.results.map((r) => r.id)).not.toContain("integrity:invoices-without-customer");
    expect((await db.runtimeState.findMany({ where: { key: { startsWith: "checks" } }, select: { key: true }, orderBy: { key: "asc" } })).map((k) => k.key)).toEqual(["checks", `checks:${shopId}`]);
    expect((await call("get", "/api/checks", { query: { target: "nope" } })).status).toBe(404);
  }, 60_000);

  it("removes a target: 409 while it has backups, then ?force=true takes its objects, rows and checks; the default cannot go", async () => {
    const createdAt = new Date("2026-11-30T02:00:00Z");
    const job = await db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", status: "SUCCEEDED", targetId: shopId, createdAt, completedAt: createdAt, sizeBytes: 10 } });
    const dir = path.join(storageDir, "backups", "prod", "2026", "11", job.id);
    await mkdir(dir, { recursive: true });
    for (const f of ["archive.dump.gpg", "manifest.json"]) await writeFile(path.join(dir, f), "x");
    await db.backupJob.update({ where: { id: job.id }, data: { storageKey: `backups/prod/2026/11/${job.id}/archive.dump.gpg` } });
    await db.restoreJob.create({ data: { backupId: job.id, targetId: shopId, status: "SUCCEEDED" } });

    expect((await call("get", "/api/targets/{id}", { id: "shop" })).body!.backupCount).toBe(1);
    const refused = await call("delete", "/api/targets/{id}", { id: "shop" });
    expect(refused.status).toBe(409);
    expect((refused.body!.error as { message: string }).message).toMatch(/has 1 backup/);
    expect((await call("delete", "/api/targets/{id}", { id: "shop", as: "operator", query: { force: "true" } })).status).toBe(403);
    const gone = await call("delete", "/api/targets/{id}", { id: "shop", query: { force: "true" } });
    expect(gone.status, gone.text).toBe(204);
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
    expect(await db.backupJob.count({ where: { id: job.id } })).toBe(0);
    expect(await db.restoreJob.count({ where: { targetId: shopId } })).toBe(0);
    expect(await db.runtimeState.count({ where: { key: `checks:${shopId}` } })).toBe(0);
    expect(await db.target.count({ where: { id: shopId } })).toBe(0);
    expect((await call("delete", "/api/targets/{id}", { id: "default", query: { force: "true" } })).status).toBe(409);
  });

  it("audited without the URL: created, updated, tested, deleted; no log line holds the password", async () => {
    const events = await db.auditEvent.findMany({ where: { action: { startsWith: "target." } }, orderBy: { at: "asc" } });
    expect([...new Set(events.map((e) => e.action))].sort()).toEqual(["target.created", "target.deleted", "target.tested", "target.updated"]);
    const deleted = events.find((e) => e.action === "target.deleted")!;
    expect(deleted.details).toMatchObject({ name: "shop", environment: "prod", database: shopDb, force: true, backups: 1, restores: 1 });
    const all = JSON.stringify(events);
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain("postgres://");
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(PASSWORD);
  });
});
