// Several targets seen through the read side (DESIGN §8, issue 15 part READ): a second
// target (a second seeded database on the same server, its URL encrypted at rest) beside
// `default`, real backups of both, and rows inserted directly for the lists. Lists, totals,
// today's banner, the overview, the gate, metrics and notifications answer per target;
// omitting `target` answers exactly what it answered before targets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../lib/generated/prisma/client";
import { createDatabase, dropDatabase, makeEnv, seedTarget, sql, type TestEnv } from "./support/vitest-env";
import { migrate } from "../lib/migrate";
import { createDb } from "../lib/db";
import { foldTally } from "../lib/backup/catalog";
import { startHookReceiver, type HookReceiver } from "./support/receivers";
import { setChannels } from "./support/channels";
import type { Db } from "../lib/db";
import { runBackup } from "../lib/backup/run-backup";
import { contextForTargetId, describeDatabaseUrl, UnknownTargetError } from "../lib/backup/targets";
import { encryptTargetUrl } from "../lib/backup/target-secret";
import { countBackups, listBackups } from "../lib/backup/catalog";
import { listRestores } from "../lib/backup/restores-catalog";
import { getToday, targetsOverview } from "../lib/backup/today";
import { listDeployments, recordDeployment, type Who } from "../lib/deploy/deployments";
import { runGate } from "../lib/deploy/gate";
import { deployState } from "../lib/deploy/state";
import { stopBosses } from "../lib/queue";
import { renderMetrics } from "../lib/metrics";
import { notifyRouted } from "../lib/notify/channels";
import { checkMissedBackups, eventFor, missedStateKey, MISSED_STATE_KEY } from "../lib/notify/wiring";
import { gateRequestSchema, listDeploymentsSchema } from "../lib/validation/deploy";
import { listBackupsSchema } from "../lib/validation/backups";
import { DEFAULT_SETTINGS } from "../lib/validation/settings";

const SECRET = "targets-api-test-secret-0123456789";
const who: Who = { actor: { type: "user", id: null, label: "ci@example.com" }, userId: null };
const SHA = "0123456789abcdef0123456789abcdef01234567";
const H = 3_600_000;

let env: TestEnv;
let shopUrl: string;
let shop: { id: string; name: string; environment: string };
let shopBackupId: string;
let receiverA: HookReceiver;
let receiverB: HookReceiver;
let n = 0;

/** A catalogue row of `targetId`, inserted directly (the lists read rows, not storage). */
async function row(targetId: string, f: { status?: string; kind?: string; trigger?: string; ago?: number; sizeBytes?: number } = {}) {
  const id = `row${String(++n).padStart(22, "0")}`;
  const at = new Date(Date.now() - (f.ago ?? 1) * H);
  const status = f.status ?? "SUCCEEDED";
  await sql(
    env.appUrl,
    `INSERT INTO "BackupJob" (id, "targetId", kind, trigger, status, "createdAt", "completedAt", "sizeBytes", "durationSeconds", "updatedAt")
     VALUES ($1, $2, $3::"BackupKind", $4::"BackupTrigger", $5::"JobStatus", $6, $7, $8, $9, $6)`,
    [id, targetId, f.kind ?? "FULL", f.trigger ?? "SCHEDULED", status, at, status === "QUEUED" || status === "RUNNING" ? null : at, f.sizeBytes ?? null, 2],
  );
  return id;
}

beforeAll(async () => {
  env = await makeEnv({ seed: { rows: 200 }, overrides: { targetSecret: SECRET } });
  shopUrl = await createDatabase("shop");
  await seedTarget(shopUrl, { rows: 100 });
  const t = await env.db.target.create({
    data: { name: "shop-prod", environment: "prod", databaseUrlEncrypted: encryptTargetUrl(SECRET, shopUrl), ...describeDatabaseUrl(shopUrl) },
  });
  shop = { id: t.id, name: t.name, environment: t.environment };
  // A real backup of the second target, run with its own context (its database).
  const job = await env.db.backupJob.create({ data: { targetId: shop.id, kind: "FULL", trigger: "MANUAL", commitSha: SHA, metadata: { phases: [] } } });
  expect(await runBackup(await contextForTargetId(env.ctx, shop.id), job.id)).toEqual({ status: "SUCCEEDED" });
  shopBackupId = job.id;
  receiverA = await startHookReceiver(undefined, { path: "/hooks/a" });
  receiverB = await startHookReceiver(undefined, { path: "/hooks/b" });
}, 180_000);

afterAll(async () => {
  await stopBosses();
  await receiverA?.close();
  await receiverB?.close();
  await env?.cleanup();
  if (shopUrl) await dropDatabase(shopUrl);
});

describe("lists per target", () => {
  it("answer one target's backups with the target named, totals exact per target; omitted = default", async () => {
    const mine = [await row("default"), await row("default", { status: "FAILED", kind: "QUICK" }), await row("default", { ago: 30 })];
    const theirs = [shopBackupId, await row(shop.id), await row(shop.id, { status: "FAILED" })];
    const byDefault = await listBackups(env.db, listBackupsSchema.parse({}));
    const named = await listBackups(env.db, listBackupsSchema.parse({ target: "default" }));
    expect(byDefault).toEqual(named);
    expect(byDefault.backups.map((b) => b.id).sort()).toEqual(mine.sort());
    expect(byDefault.total).toBe(3);
    expect(byDefault.backups.every((b) => b.target.id === "default" && b.target.name === "default")).toBe(true);

    // By name and by id alike; the total counts this target's rows only, filters too.
    for (const sel of [shop.name, shop.id]) {
      const l = await listBackups(env.db, listBackupsSchema.parse({ target: sel }));
      expect(l.backups.map((b) => b.id).sort()).toEqual(theirs.sort());
      expect(l.total).toBe(3);
      expect(l.backups[0].target).toEqual(shop);
    }
    expect((await listBackups(env.db, listBackupsSchema.parse({ target: shop.name, status: "FAILED" }))).total).toBe(1);
    // Past the end: the total comes from the per-target tally path.
    expect((await listBackups(env.db, listBackupsSchema.parse({ target: shop.name, offset: 10 }))).total).toBe(3);

    // The tally agrees with count(*) per target and key.
    const counted = await sql<{ t: string; s: string; n: number }>(env.appUrl, `SELECT "targetId" t, status::text s, count(*)::int n FROM "BackupJob" GROUP BY 1, 2`);
    for (const c of counted) expect(await countBackups(env.db, { targetId: c.t, status: c.s as never })).toBe(c.n);
  });

  it("refuses an unknown target (404 through lib/http.ts)", async () => {
    await expect(listBackups(env.db, listBackupsSchema.parse({ target: "nope" }))).rejects.toBeInstanceOf(UnknownTargetError);
    await expect(listRestores(env.db, { limit: 5, offset: 0, target: "nope" })).rejects.toBeInstanceOf(UnknownTargetError);
    await expect(getToday(env.db, new Date(), "nope")).rejects.toBeInstanceOf(UnknownTargetError);
  });

  it("answer restores and deployments per target, each naming its target", async () => {
    await env.db.restoreJob.create({ data: { backupId: shopBackupId, targetId: shop.id, status: "SUCCEEDED" } });
    await env.db.restoreJob.create({ data: { backupId: "cmx0000000000000000000001", status: "FAILED" } });
    const d = await listRestores(env.db, { limit: 10, offset: 0 });
    const s = await listRestores(env.db, { limit: 10, offset: 0, target: shop.name });
    expect([d.total, s.total]).toEqual([1, 1]);
    expect(d.restores[0].target.name).toBe("default");
    expect(s.restores[0]).toMatchObject({ backupId: shopBackupId, target: shop });

    const rec = await recordDeployment(env.ctx, { commitSha: SHA, target: shop.name, status: "SUCCEEDED" }, who);
    expect(rec.target).toEqual(shop);
    expect((await listDeployments(env.ctx, listDeploymentsSchema.parse({}))).deployments.map((x) => x.id)).not.toContain(rec.id);
    const mine = await listDeployments(env.ctx, listDeploymentsSchema.parse({ target: shop.id }));
    expect(mine.deployments.map((x) => x.id)).toContain(rec.id);
    expect(mine.total).toBe(mine.deployments.length);
  });
});

describe("the gate per target", () => {
  it("is satisfied for A only by A's backups, and records A's decision", async () => {
    await sql(env.appUrl, `DELETE FROM "BackupJob" WHERE "targetId" = 'default'`);
    // shop-prod has a fresh real backup; default has none.
    const a = await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA, target: shop.name }), who);
    expect(a.reasons).toEqual([]);
    expect(a.allowed).toBe(true);
    expect(a.backup?.id).toBe(shopBackupId);
    expect((await env.db.deployment.findUniqueOrThrow({ where: { id: a.deploymentId } })).targetId).toBe(shop.id);

    const b = await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA }), who);
    expect(b.allowed).toBe(false);
    // The default's wording is as before targets.
    expect(b.reasons[0]).toMatch(/^No successful backup exists\. Take one first \(POST \/api\/backups \{"kind":"QUICK"\}/);
    expect((await env.db.deployment.findUniqueOrThrow({ where: { id: b.deploymentId } })).targetId).toBe("default");
    // And the read-only preview agrees, per target.
    expect((await deployState(env.ctx, { deploy: { timeoutMs: 1000 }, rollback: { timeoutMs: 1000 } }, { target: shop.name })).gate.allowed).toBe(true);
    expect((await deployState(env.ctx, { deploy: { timeoutMs: 1000 }, rollback: { timeoutMs: 1000 } }, {})).gate.allowed).toBe(false);
  });

  it("takes the target's settings.gate when the request omits maxAgeMinutes and require", async () => {
    await sql(env.appUrl, `UPDATE "BackupJob" SET "completedAt" = timezone('UTC', now()) - interval '10 minutes' WHERE id = $1`, [shopBackupId]);
    await env.db.target.update({ where: { id: shop.id }, data: { settings: { gate: { maxAgeMinutes: 5 } } } });
    const strict = await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA, target: shop.name }), who);
    expect(strict.allowed).toBe(false);
    expect(strict.reasons[0]).toMatch(/older than the 5 minutes allowed/);
    // The request's own value wins over the target's.
    expect((await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA, target: shop.name, maxAgeMinutes: 60 }), who)).allowed).toBe(true);
    await env.db.target.update({ where: { id: shop.id }, data: { settings: { gate: { require: "FULL" } } } });
    await sql(env.appUrl, `UPDATE "BackupJob" SET kind = 'QUICK' WHERE id = $1`, [shopBackupId]);
    const full = await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA, target: shop.name }), who);
    expect(full.reasons[0]).toContain(`{"kind":"FULL","target":"shop-prod"}`);
    // The fresh backup is QUICK now: under the target's `require: FULL` only the older FULL row counts.
    expect(full.allowed).toBe(false);
    expect(full.reasons[0]).toMatch(/^The newest successful FULL backup \(row\d+, FULL\) finished .* older than the 60 minutes allowed/);
    expect((await runGate(env.ctx, gateRequestSchema.parse({ commitSha: SHA, target: shop.name, require: "ANY" }), who)).allowed).toBe(true);
    await sql(env.appUrl, `UPDATE "BackupJob" SET kind = 'FULL', "completedAt" = timezone('UTC', now()) WHERE id = $1`, [shopBackupId]);
    await env.db.target.update({ where: { id: shop.id }, data: { settings: {} } });
  });
});

describe("today per target, and the overview", () => {
  it("answers each target's banner, in a handful of statements", async () => {
    await row("default", { status: "FAILED", ago: 0 });
    const s = await getToday(env.db, new Date(), shop.name);
    expect(s.target).toEqual(shop);
    expect(s.state).toBe("ok");
    expect(s.lastSuccess?.id).toBe(shopBackupId);
    expect(s.schedule).toMatchObject({ enabled: false, nextRunAt: null });
    const d = await getToday(env.db, new Date());
    expect(d.target.name).toBe("default");
    expect(d.state).toBe("failed");
    expect(d.lastSuccess).toBeNull();
    expect(d.schedule).toMatchObject({ enabled: DEFAULT_SETTINGS.schedule.enabled, cron: DEFAULT_SETTINGS.schedule.cron });

    // Statements as PostgreSQL receives them: every client query of a counting pool.
    let statements = 0;
    const pool = new pg.Pool({ connectionString: env.appUrl, max: 4 });
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        statements++;
        return query(...a);
      };
    });
    const counted = new PrismaClient({ adapter: new PrismaPg(pool) }) as unknown as Db;
    try {
      await getToday(counted, new Date(), shop.name); // warm: connections made
      statements = 0;
      const again = await getToday(counted, new Date(), shop.name);
      expect(again.lastSuccess?.id).toBe(shopBackupId);
      // Before: ~19 (issue 14). Now: the target, the settings, the facts, the Backup JSON.
      expect(statements).toBeGreaterThanOrEqual(3);
      expect(statements).toBeLessThanOrEqual(4);
      statements = 0;
      await targetsOverview(counted, new Date());
      expect(statements).toBeGreaterThanOrEqual(2);
      expect(statements).toBeLessThanOrEqual(3);
    } finally {
      await counted.$disconnect();
      await pool.end().catch(() => {});
    }
  });

  it("lists every target with its state, last success, next run and size trend (oldest first)", async () => {
    for (let i = 20; i >= 1; i--) await row(shop.id, { ago: i * 24, sizeBytes: 1000 + i });
    await env.db.target.update({ where: { id: shop.id }, data: { settings: { schedule: { enabled: true, cron: "30 3 * * *", timezone: "UTC", kind: "FULL" } } } });
    const now = new Date();
    const all = await targetsOverview(env.db, now);
    expect(all.map((t) => t.targetId).sort()).toEqual(["default", shop.id].sort());
    const s = all.find((t) => t.targetId === shop.id)!;
    expect(s.state).toBe("ok");
    expect(s.sizes).toHaveLength(14);
    // The newest is the real backup; before it the inserted rows, oldest first.
    const real = (await env.db.backupJob.findUniqueOrThrow({ where: { id: shopBackupId } })).sizeBytes;
    expect(s.sizes.at(-1)).toBe(Number(real));
    expect(s.sizes.slice(0, -1)).toEqual(Array.from({ length: 13 }, (_, k) => 1013 - k));
    const newest = await env.db.backupJob.findUniqueOrThrow({ where: { id: shopBackupId } });
    expect(s.lastSuccess).toEqual({ id: shopBackupId, kind: "FULL", completedAt: newest.completedAt!.toISOString(), sizeBytes: Number(newest.sizeBytes) });
    expect(new Date(s.nextRunAt!).getUTCHours()).toBe(3);
    const d = all.find((t) => t.targetId === "default")!;
    expect(d).toMatchObject({ state: "failed", lastSuccess: null, sizes: [] });
    expect(d.nextRunAt).not.toBeNull();
    await env.db.target.update({ where: { id: shop.id }, data: { settings: {} } });
  });
});

describe("metrics per target", () => {
  it("label every backup and restore series with the target's name", async () => {
    const body = (await renderMetrics(env.db)).body;
    const counts = await sql<{ t: string; k: string; tr: string; s: string; n: number }>(
      env.appUrl,
      `SELECT tg.name t, b.kind::text k, b.trigger::text tr, b.status::text s, count(*)::int n FROM "BackupJob" b JOIN "Target" tg ON tg.id = b."targetId"
        WHERE b.status IN ('SUCCEEDED', 'FAILED', 'CANCELLED') GROUP BY 1, 2, 3, 4`,
    );
    expect(counts.some((c) => c.t === shop.name)).toBe(true);
    for (const c of counts) expect(body).toContain(`vaultline_backups_total{target="${c.t}",kind="${c.k}",trigger="${c.tr}",status="${c.s}"} ${c.n}\n`);
    const [last] = await sql<{ t: number }>(env.appUrl, `SELECT extract(epoch FROM max("completedAt"))::float8 t FROM "BackupJob" WHERE "targetId" = $1 AND status = 'SUCCEEDED' AND kind = 'FULL'`, [shop.id]);
    const line = body.split("\n").find((l) => l.startsWith(`vaultline_backup_last_success_timestamp_seconds{target="shop-prod"}`))!;
    expect(Number(line.split(" ")[1])).toBeCloseTo(last.t, 3);
    expect(body).toContain(`vaultline_backup_last_success_timestamp_seconds{target="default"} 0\n`);
    expect(body).toContain(`vaultline_restores_total{target="shop-prod",status="SUCCEEDED"} 1\n`);
    expect(body).toContain(`vaultline_restores_total{target="default",status="FAILED"} 1\n`);
    expect(body).toMatch(/^vaultline_up 1$/m);
  });
});

describe("notifications per target", () => {
  it("name the target and go only to the target's channels when it lists them", async () => {
    const [a, b] = await setChannels(env.db, [
      { kind: "WEBHOOK", name: "A", url: receiverA.url, events: ["BACKUP_FAILED", "BACKUP_MISSED"] },
      { kind: "WEBHOOK", name: "B", url: receiverB.url, events: ["BACKUP_FAILED", "BACKUP_MISSED"] },
    ]);
    await env.db.target.update({ where: { id: shop.id }, data: { settings: { notify: { channelIds: [b.id] } } } });
    const failed = await row(shop.id, { status: "FAILED" });
    const event = await eventFor(env.ctx, { type: "backup.finished", jobId: failed, status: "FAILED" });
    expect(event).toMatchObject({ type: "backup.failed", target: shop });
    const r = await notifyRouted(env.db, event!, { WEBHOOK_SECRET: undefined, SMTP_URL: undefined }, { retries: 0 });
    expect(r.deliveries.map((d) => d.channelId)).toEqual([b.id]);
    expect(receiverA.hooks).toHaveLength(0);
    expect(receiverB.hooks).toHaveLength(1);
    expect(receiverB.hooks[0].payload.text).toMatch(/^:x: Vaultline shop-prod: backup FAILED/);
    expect(receiverB.hooks[0].payload.target).toEqual(shop);
    expect(receiverB.hooks[0].body).not.toContain(shopUrl);

    // The default target sets no list: every subscribed channel, and it is named too.
    const dfailed = await row("default", { status: "FAILED" });
    const devent = await eventFor(env.ctx, { type: "backup.finished", jobId: dfailed, status: "FAILED" });
    const dr = await notifyRouted(env.db, devent!, { WEBHOOK_SECRET: undefined, SMTP_URL: undefined }, { retries: 0 });
    expect(dr.deliveries.map((d) => d.channelId).sort()).toEqual([a.id, b.id].sort());
    expect(receiverA.hooks.at(-1)!.payload.text).toMatch(/^:x: Vaultline default target: backup FAILED/);
    await env.db.target.update({ where: { id: shop.id }, data: { settings: {} } });
  });

  it("checks the missed backup per scheduled target, each with its own state; default keeps its key", async () => {
    receiverA.hooks.length = 0;
    receiverB.hooks.length = 0;
    await sql(env.appUrl, `DELETE FROM "BackupJob" WHERE "targetId" = $1`, [shop.id]);
    await sql(env.appUrl, `DELETE FROM "RuntimeState" WHERE key LIKE 'missedAlert%'`);
    // Scheduled since two days ago, never succeeded: overdue.
    await env.db.target.update({ where: { id: shop.id }, data: { settings: { schedule: { enabled: true, cron: "0 2 * * *", timezone: "UTC", kind: "FULL" } } } });
    await sql(env.appUrl, `UPDATE "Target" SET "updatedAt" = timezone('UTC', now()) - interval '2 days' WHERE id = $1`, [shop.id]);
    const cfg = { WEBHOOK_SECRET: undefined, SMTP_URL: undefined };
    const first = await checkMissedBackups(env.ctx, cfg, { notifyOptions: { retries: 0 } });
    expect(first.get(shop.name)).toMatchObject({ sent: true });
    expect(missedStateKey("default")).toBe(MISSED_STATE_KEY);
    const keys = (await sql<{ key: string }>(env.appUrl, `SELECT key FROM "RuntimeState" WHERE key LIKE 'missedAlert%'`)).map((k) => k.key);
    expect(keys).toContain(`missedAlert:${shop.id}`);
    const shopAlerts = receiverA.hooks.filter((h) => h.payload.event === "backup.missed" && h.payload.target?.name === shop.name);
    expect(shopAlerts).toHaveLength(1);
    expect(shopAlerts[0].payload.text).toMatch(/Vaultline shop-prod: no successful backup for \d+ hours/);
    // Once per gap.
    expect((await checkMissedBackups(env.ctx, cfg, { notifyOptions: { retries: 0 } })).get(shop.name)).toMatchObject({ sent: false });
    // A target without a schedule is not checked.
    await env.db.target.update({ where: { id: shop.id }, data: { settings: {} } });
    expect((await checkMissedBackups(env.ctx, cfg)).has(shop.name)).toBe(false);
  });
});

describe("upgrade of a catalogue from before the per-target tally", () => {
  const MIGRATION = "20261202040000_backup_tally_per_target";

  it("keeps every existing backup under default, with exact totals per target", async () => {
    const url = await createDatabase("tally_targets_upgrade");
    const all = path.resolve("prisma/migrations");
    const older = mkdtempSync(path.join(tmpdir(), "vaultline-migrations-"));
    try {
      for (const name of readdirSync(all)) if (name < MIGRATION) cpSync(path.join(all, name), path.join(older, name), { recursive: true });
      await migrate(url, older);
      // History as today's main writes it (no target named), and rows of a second target.
      await sql(url, `INSERT INTO "Target" (id, name, environment, "updatedAt") VALUES ('t2', 'shop-prod', 'prod', now())`);
      await sql(
        url,
        `INSERT INTO "BackupJob" (id, kind, trigger, status, "updatedAt")
         SELECT 'old' || g, 'FULL', 'SCHEDULED', (CASE WHEN g % 3 = 0 THEN 'FAILED' ELSE 'SUCCEEDED' END)::"JobStatus", now() FROM generate_series(1, 30) g`,
      );
      await sql(url, `INSERT INTO "BackupJob" (id, "targetId", kind, trigger, status, "updatedAt") SELECT 'shop' || g, 't2', 'FULL', 'API', 'SUCCEEDED', now() FROM generate_series(1, 7) g`);
      expect(await migrate(url)).toContain(MIGRATION);
      const db = createDb(url);
      try {
        const d = await listBackups(db, listBackupsSchema.parse({ limit: 5 }));
        expect(d.total).toBe(30);
        expect(d.backups.every((b) => b.target.id === "default")).toBe(true);
        expect((await listBackups(db, listBackupsSchema.parse({ status: "FAILED" }))).total).toBe(10);
        expect((await listBackups(db, listBackupsSchema.parse({ target: "shop-prod" }))).total).toBe(7);
        // New writes keep it exact; the fold keeps the targets apart.
        await sql(url, `UPDATE "BackupJob" SET status = 'FAILED' WHERE id IN ('shop1', 'shop2')`);
        await sql(url, `DELETE FROM "BackupJob" WHERE id = 'old1'`);
        await foldTally(db);
        expect((await listBackups(db, listBackupsSchema.parse({ target: "shop-prod", status: "FAILED" }))).total).toBe(2);
        expect((await listBackups(db, listBackupsSchema.parse({ target: "shop-prod" }))).total).toBe(7);
        expect((await listBackups(db, listBackupsSchema.parse({}))).total).toBe(29);
      } finally {
        await db.$disconnect();
      }
    } finally {
      rmSync(older, { recursive: true, force: true });
      await dropDatabase(url);
    }
  });
});
