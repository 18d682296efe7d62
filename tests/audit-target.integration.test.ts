// The audit trail per target (decision 110): events written by the real call sites name
// their target; GET /api/audit answers one target's events with `?target=` (id or name),
// every event without it, 404 for an unknown target; the storage copy keeps targetId
// through a mirror and a reconcile (what a restore of Vaultline's own database relies on).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { NextRequest } from "next/server";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../lib/migrate";
import { audit, SYSTEM } from "../lib/audit";
import { listAuditEvents, listAuditSchema } from "../lib/audit-query";
import { cancelBackup, createBackupJob } from "../lib/backup/jobs";
import { auditKey, flushAuditMirror, parseAuditCopy } from "../lib/backup/mirror";
import { reconcileFromStorage } from "../lib/backup/reconcile";
import { UnknownTargetError } from "../lib/backup/targets";
import { stopBosses } from "../lib/queue";
import { createToken, createUser } from "../lib/users";
import { handlerFor } from "./support/route-handler";
import { createDatabase, dropDatabase, makeEnv, PASSPHRASE, sql, type TestEnv } from "./support/vitest-env";

const ORIGIN = "http://localhost:3998";
let env: TestEnv;
let shop: { id: string; name: string; environment: string };
let token: string;
let shopJob: string;
let defaultJob: string;

beforeAll(async () => {
  env = await makeEnv({ seed: false });
  Object.assign(process.env, {
    DATABASE_URL: env.appUrl,
    TARGET_DATABASE_URL: env.targetUrl,
    STORAGE: "local",
    LOCAL_STORAGE_DIR: env.storageDir,
    BACKUP_ENCRYPTION_PASSPHRASE: PASSPHRASE,
    NEXTAUTH_SECRET: "audit-target-test-secret-0123456789",
    NEXTAUTH_URL: ORIGIN,
  });
  (await import("../lib/config")).resetConfigForTests();
  const t = await env.db.target.create({ data: { name: "shop-prod", environment: "prod", host: "db1:5432", database: "shop" } });
  shop = { id: t.id, name: t.name, environment: t.environment };
  const admin = await createUser(env.db, { email: "admin@audit-target.test", displayName: "Admin", role: "ADMIN", password: "password-1234" }, SYSTEM);
  token = (await createToken(env.db, { name: "reader", scopes: ["backups:read"] }, admin.id, SYSTEM)).token;
  const actor = { type: "user" as const, id: admin.id, label: admin.email };
  // The call sites themselves: a backup requested of each target, one of them cancelled.
  shopJob = (await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL", targetId: shop.id }, actor)).id;
  defaultJob = (await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL" }, actor)).id;
  await cancelBackup(env.ctx, shopJob, actor);
}, 120_000);

afterAll(async () => {
  await stopBosses();
  await env?.cleanup();
});

async function get(query: Record<string, string>) {
  const url = new URL("/api/audit", ORIGIN);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const res = await (await handlerFor("get", "/api/audit"))(new NextRequest(url, { headers: { origin: ORIGIN, authorization: `Bearer ${token}` } }), { params: Promise.resolve({}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type Event = { action: string; target: string | null; targetId: string | null; targetRef: { id: string; name: string; environment: string } | null };

describe("GET /api/audit by target", () => {
  it("answers only the chosen target's events, by name or id, each naming its target", async () => {
    for (const selector of [shop.name, shop.id]) {
      const { status, body } = await get({ target: selector });
      expect(status).toBe(200);
      const events = body.events as Event[];
      expect(events.map((e) => e.action).sort()).toEqual(["backup.cancel_requested", "backup.requested"]);
      expect(events.every((e) => e.target === shopJob && e.targetId === shop.id)).toBe(true);
      expect(events[0].targetRef).toEqual(shop);
      expect(body.total).toBe(2);
    }
    const mine = (await get({ target: "default" })).body.events as Event[];
    expect(mine.map((e) => [e.action, e.target, e.targetId])).toEqual([["backup.requested", defaultJob, "default"]]);
  });

  it("answers every event without ?target=, those of no target included (null)", async () => {
    const { status, body } = await get({});
    expect(status).toBe(200);
    const events = body.events as Event[];
    expect(events.filter((e) => e.targetId === shop.id)).toHaveLength(2);
    expect(events.filter((e) => e.targetId === "default")).toHaveLength(1);
    const signUp = events.find((e) => e.action === "user.created")!;
    expect(signUp).toMatchObject({ targetId: null, targetRef: null });
    expect(events.find((e) => e.action === "token.created")).toMatchObject({ targetId: null });
  });

  it("keeps the other filters beside the target's", async () => {
    const { body } = await get({ target: shop.name, action: "backup.cancel*" });
    expect((body.events as Event[]).map((e) => e.action)).toEqual(["backup.cancel_requested"]);
  });

  it("answers 404 NOT_FOUND naming an unknown target", async () => {
    const { status, body } = await get({ target: "nope" });
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect((body.error as { message: string }).message).toContain('"nope"');
    await expect(listAuditEvents(env.db, listAuditSchema.parse({ target: "nope" }), false)).rejects.toBeInstanceOf(UnknownTargetError);
  });

  it("keeps a removed target's events with their targetId (no foreign key) and no targetRef", async () => {
    const gone = await env.db.target.create({ data: { name: "gone", environment: "staging", host: "h", database: "d" } });
    await audit(env.db, { actor: SYSTEM, action: "target.deleted", target: gone.id, targetId: gone.id });
    await env.db.target.delete({ where: { id: gone.id } });
    const e = ((await get({ action: "target.deleted" })).body.events as Event[])[0];
    expect(e).toMatchObject({ targetId: gone.id, targetRef: null });
  });
});

describe("the storage copy of the trail", () => {
  it("keeps targetId through a mirror and a reconcile, and reads copies from before targets as null", async () => {
    const marked = await audit(env.db, { actor: SYSTEM, action: "test.round_trip", target: shopJob, targetId: shop.id, details: { n: 1 } });
    const none = await audit(env.db, { actor: SYSTEM, action: "test.round_trip_none" });
    await flushAuditMirror(env.ctx);
    const { mirroredAt: _outbox, ...row } = marked as typeof marked & { mirroredAt?: Date | null };
    expect(parseAuditCopy(await env.ctx.storage.getBytes(auditKey(env.ctx, marked)))).toEqual({ ...row, details: { n: 1 } });

    // Vaultline's own database restored to a moment before these events: storage brings them back.
    await env.db.auditEvent.deleteMany({ where: { id: { in: [marked.id, none.id] } } });
    await reconcileFromStorage(env.ctx);
    expect(await env.db.auditEvent.findUniqueOrThrow({ where: { id: marked.id } })).toMatchObject({ targetId: shop.id, target: shopJob, action: "test.round_trip" });
    expect((await env.db.auditEvent.findUniqueOrThrow({ where: { id: none.id } })).targetId).toBeNull();

    const old = JSON.stringify({ id: "e1", actorType: "system", actorId: null, actorLabel: "system", action: "backup.succeeded", target: "b1", details: { x: 1 }, ip: null, at: "2026-01-01T00:00:00.000Z" });
    expect(parseAuditCopy(old)).toMatchObject({ id: "e1", targetId: null, details: { x: 1 } });
    expect(() => parseAuditCopy(JSON.stringify({ id: "e2" }))).toThrow(/not an audit event/);
  });
});

describe("the migration 20261203030000_audit_target", () => {
  it("gives earlier events their target where the target column held a backup's or a target's id, and leaves the rest null", async () => {
    const url = await createDatabase("auditmig");
    const before = mkdtempSync(path.join(tmpdir(), "vaultline-auditmig-"));
    try {
      const names = readMigrations().map((m) => m.name);
      for (const name of names.slice(0, names.indexOf("20261203030000_audit_target"))) cpSync(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
      cpSync(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
      await migrate(url, before);
      await sql(url, `INSERT INTO "Target" (id, name, environment, "updatedAt") VALUES ('t_shop', 'shop', 'prod', now())`);
      await sql(url, `INSERT INTO "BackupJob" (id, "targetId", kind, trigger, status, "updatedAt") VALUES ('b_shop', 't_shop', 'FULL', 'MANUAL', 'SUCCEEDED', now()), ('b_def', 'default', 'FULL', 'MANUAL', 'SUCCEEDED', now())`);
      const events: [string, string, string | null][] = [
        ["e1", "backup.succeeded", "b_shop"],
        ["e2", "restore.requested", "b_def"],
        ["e3", "rollback.started", "b_shop"],
        ["e4", "target.updated", "t_shop"],
        ["e5", "user.created", "b_shop"],
        ["e6", "deploy.gate_allowed", "abc1234"],
        ["e7", "backup.deleted", "b_gone"],
      ];
      for (const [id, action, target] of events) await sql(url, `INSERT INTO "AuditEvent" (id, "actorType", action, target) VALUES ($1, 'system', $2, $3)`, [id, action, target]);
      await migrate(url);
      const rows = await sql<{ id: string; targetId: string | null }>(url, `SELECT id, "targetId" FROM "AuditEvent" ORDER BY id`);
      expect(Object.fromEntries(rows.map((r) => [r.id, r.targetId]))).toEqual({ e1: "t_shop", e2: "default", e3: "t_shop", e4: "t_shop", e5: null, e6: null, e7: null });
    } finally {
      rmSync(before, { recursive: true, force: true });
      await dropDatabase(url);
    }
  });
});
