// Several targets (DESIGN §8, issue 15 part WRITE): every job runs against its own row's
// target. Three targets — `default`, `shop-prod` (a realistic application database owned by
// a non-superuser role, on the run's server) and `crm-staging` (on a second PostgreSQL
// server) — backed up, restored, scheduled, pruned and reconciled side by side.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { adminUrl, cliEnv, createDatabase, dropDatabase, makeEnv, seedTarget, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { startWorker } from "../lib/worker";
import { startPg, type PgServer } from "./support/pg";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { dbState } from "./support/db-state";
import { buildAppDatabase } from "./support/app-fixture";
import { createDb, type Db } from "../lib/db";
import type { BackupContext } from "../lib/backup/context";
import { encryptTargetUrl } from "../lib/backup/target-secret";
import { createBackupJob } from "../lib/backup/jobs";
import { runBackup } from "../lib/backup/run-backup";
import { runRestore, startRestore } from "../lib/backup/restore";
import { tryDestructiveLock, waitBackupLock } from "../lib/backup/locks";
import { handleTick, syncTargetSchedules, targetScheduleKey } from "../lib/backup/schedule";
import { runRetention } from "../lib/backup/retention-run";
import { claimDrillSlot } from "../lib/backup/drill-schedule";
import { scheduleRetry } from "../lib/backup/retries";
import { reconcileFromStorage } from "../lib/backup/reconcile";
import { legacyBackupKeys, parseManifest } from "../lib/backup/manifest";
import { getBoss, QUEUES, stopBosses } from "../lib/queue";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../lib/migrate";
import { SYSTEM } from "../lib/audit";

const exec = promisify(execFile);
/** The CLI's NEXTAUTH_SECRET (cliEnv): the CLI and these contexts decrypt the same URLs. */
const SECRET = "cli-test-secret-0123456789";
const sqlExec = (url: string, text: string) => sql(url, text);

async function addTarget(db: Db, t: { name: string; environment: string; url: string; settings?: object }): Promise<string> {
  const u = new URL(t.url);
  const row = await db.target.create({
    data: {
      name: t.name,
      environment: t.environment,
      databaseUrlEncrypted: encryptTargetUrl(SECRET, t.url),
      host: `${u.hostname}:${u.port}`,
      database: u.pathname.slice(1),
      settings: t.settings ?? {},
    },
  });
  return row.id;
}

async function backupOf(ctx: BackupContext, targetId: string, kind: "FULL" | "QUICK" = "FULL"): Promise<string> {
  const job = await ctx.db.backupJob.create({
    data: { targetId, kind, trigger: "MANUAL", commitSha: kind === "QUICK" ? "abc1234" : null, metadata: { phases: [] } },
  });
  const r = await runBackup(ctx, job.id);
  expect(r, r.failureReason).toEqual({ status: "SUCCEEDED" });
  return job.id;
}

const fingerprint = async (url: string) => ({ catalog: await catalogFingerprint(sql, url), data: await dbState(url) });

afterAll(async () => {
  await stopBosses();
});

describe("three targets on two servers", () => {
  let env: TestEnv;
  let second: PgServer;
  let shopUrl: string;
  let crmUrl: string;
  let shop: string;
  let crm: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    env = await makeEnv({ seed: { rows: 300 }, overrides: { targetSecret: SECRET } });
    shopUrl = await createDatabase("shop");
    await buildAppDatabase(sqlExec, adminUrl(), shopUrl);
    second = await startPg({ label: "targets-second" });
    crmUrl = await second.createDatabase("crm");
    await seedTarget(crmUrl, { rows: 200 });
    shop = await addTarget(env.db, { name: "shop-prod", environment: "prod", url: shopUrl });
    crm = await addTarget(env.db, { name: "crm-staging", environment: "staging", url: crmUrl });
  }, 240_000);

  afterAll(async () => {
    await env?.cleanup();
    await dropDatabase(shopUrl).catch(() => {});
    await second?.stop();
  });

  it("lands each target's backups under <prefix>/<env>/<target>/… with the target in the manifest, from that target's database", async () => {
    const [d, s, c] = await Promise.all([backupOf(env.ctx, "default"), backupOf(env.ctx, shop), backupOf(env.ctx, crm)]);
    Object.assign(ids, { default: d, shop: s, crm: c });
    const expected = [
      [d, "backups/test/default/", { id: "default", name: "default", environment: "test" }, new URL(env.targetUrl).pathname.slice(1)],
      [s, "backups/prod/shop-prod/", { id: shop, name: "shop-prod", environment: "prod" }, new URL(shopUrl).pathname.slice(1)],
      [c, "backups/staging/crm-staging/", { id: crm, name: "crm-staging", environment: "staging" }, new URL(crmUrl).pathname.slice(1)],
    ] as const;
    for (const [id, prefix, target, database] of expected) {
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
      expect(row.storageKey).toMatch(new RegExp(`^${prefix}\\d{4}/\\d{2}/${id}/archive\\.dump\\.gpg$`));
      const manifestKey = (row.metadata as { manifestKey: string }).manifestKey;
      const text = (await env.ctx.storage.getBytes(manifestKey)).toString("utf8");
      const m = parseManifest(text);
      expect(m.target).toMatchObject(target);
      expect(m.database.name).toBe(database);
      // Never a URL or a password in a manifest.
      expect(text).not.toMatch(/postgres(ql)?:\/\//);
      expect(text).not.toContain("standalone-pg-password");
    }
  }, 180_000);

  it("runs a backup of one target while another target's runs, and one target's two backups one after the other", async () => {
    const window = async (id: string) => {
      const r = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
      return { start: r.startedAt!.getTime(), end: r.completedAt!.getTime(), phases: (r.metadata as { phases: { phase: string }[] }).phases.map((p) => p.phase) };
    };
    const [a, b] = await Promise.all([backupOf(env.ctx, "default"), backupOf(env.ctx, crm)]);
    const [wa, wb] = [await window(a), await window(b)];
    // Overlapping: neither waited for the other.
    expect(wa.start).toBeLessThan(wb.end);
    expect(wb.start).toBeLessThan(wa.end);

    const [s1, s2] = await Promise.all([backupOf(env.ctx, shop), backupOf(env.ctx, shop)]);
    const [w1, w2] = [await window(s1), await window(s2)];
    const [first, later] = w1.start <= w2.start ? [w1, w2] : [w2, w1];
    expect(later.start).toBeGreaterThanOrEqual(first.end);
  }, 240_000);

  it("locks destructive operations per target, runs restores of two targets together and leaves the third byte-identical", async () => {
    const before = { default: await fingerprint(env.targetUrl), shop: await fingerprint(shopUrl), crm: await fingerprint(crmUrl) };
    // Changes after the backups, which the restores must take back.
    await sql(shopUrl, "INSERT INTO customers (email, name) VALUES ('late@example.com', 'Late')");
    await sql(crmUrl, "DELETE FROM invoices WHERE id <= 10");

    // shop-prod busy: a restore of crm-staging is accepted, one of shop-prod refused.
    const held = (await tryDestructiveLock(env.appUrl, shop))!;
    expect(held).toBeTruthy();
    const crmRestore = await startRestore(env.ctx, ids.crm, SYSTEM, { confirm: "RESTORE" });
    await expect(startRestore(env.ctx, ids.shop, SYSTEM, { confirm: "RESTORE" })).rejects.toMatchObject({ code: "OPERATION_IN_PROGRESS" });
    await held.release();
    const shopRestore = await startRestore(env.ctx, ids.shop, SYSTEM, { confirm: "RESTORE" });
    // Two restores of one target: refused as before targets.
    await expect(startRestore(env.ctx, ids.shop, SYSTEM, { confirm: "RESTORE" })).rejects.toThrow(/shop-prod is in progress/);

    const rows = await env.db.restoreJob.findMany({ where: { id: { in: [crmRestore.restoreId, shopRestore.restoreId] } } });
    expect(Object.fromEntries(rows.map((r) => [r.id, r.targetId]))).toEqual({ [crmRestore.restoreId]: crm, [shopRestore.restoreId]: shop });
    // The safety backups are their own target's.
    const safety = await env.db.backupJob.findMany({ where: { id: { in: [crmRestore.preRestoreBackupId, shopRestore.preRestoreBackupId] } } });
    expect(safety.map((b) => b.targetId).sort()).toEqual([crm, shop].sort());

    const statuses = await Promise.all([runRestore(env.ctx, crmRestore.restoreId), runRestore(env.ctx, shopRestore.restoreId)]);
    expect(statuses).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    const done = await env.db.restoreJob.findMany({ where: { id: { in: [crmRestore.restoreId, shopRestore.restoreId] } } });
    const [r1, r2] = done;
    expect(r1.startedAt!.getTime()).toBeLessThan(r2.completedAt!.getTime());
    expect(r2.startedAt!.getTime()).toBeLessThan(r1.completedAt!.getTime());

    expect(await fingerprint(shopUrl)).toEqual(before.shop);
    expect(await fingerprint(crmUrl)).toEqual(before.crm);
    expect(await fingerprint(env.targetUrl)).toEqual(before.default);
    // The safety backups went to their own targets' folders.
    for (const b of await env.db.backupJob.findMany({ where: { id: { in: safety.map((s) => s.id) } } })) {
      expect(b.storageKey).toContain(b.targetId === shop ? "backups/prod/shop-prod/" : "backups/staging/crm-staging/");
    }
  }, 300_000);

  it("prunes each target by its own policy among its own backups", async () => {
    await env.db.target.update({ where: { id: crm }, data: { settings: { retention: { days: 0, keepLast: 1, keepQuick: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 } } } });
    const before = await env.db.backupJob.groupBy({ by: ["targetId"], where: { status: "SUCCEEDED" }, _count: true });
    const count = (t: string) => before.find((g) => g.targetId === t)?._count ?? 0;
    expect(count(crm)).toBeGreaterThanOrEqual(2);
    const r = await runRetention(env.ctx);
    expect(r.status).toBe("done");
    const after = await env.db.backupJob.groupBy({ by: ["targetId"], where: { status: "SUCCEEDED" }, _count: true });
    const now = (t: string) => after.find((g) => g.targetId === t)?._count ?? 0;
    // crm keeps its newest FULL (and its safety backup, kept for 7 days); the others keep all.
    expect(now(crm)).toBeLessThan(count(crm));
    expect(now("default")).toBe(count("default"));
    expect(now(shop)).toBe(count(shop));
    const prunedEvent = await env.db.auditEvent.findFirst({ where: { action: "retention.pruned" }, orderBy: { at: "desc" } });
    expect((prunedEvent!.details as { target: { name: string } }).target.name).toBe("crm-staging");
  }, 60_000);

  it("never drills another target's backup", async () => {
    // The newest successful FULL backups are shop's and crm's; the drill takes the default's.
    await backupOf(env.ctx, shop);
    const claim = await claimDrillSlot(env.ctx, new Date("2026-01-01T03:00:00Z"), "catch-up");
    expect(claim.claimed && claim.backupId).toBeTruthy();
    const drilled = await env.db.backupJob.findUniqueOrThrow({ where: { id: (claim as { backupId: string }).backupId } });
    expect(drilled.targetId).toBe("default");
  }, 120_000);
});

describe("the worker's queue", () => {
  let env: TestEnv;
  let otherUrl: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: { rows: 300 }, overrides: { targetSecret: SECRET } });
    otherUrl = await createDatabase("queued");
    await seedTarget(otherUrl, { rows: 300 });
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
    await dropDatabase(otherUrl).catch(() => {});
  });

  it("runs a target's queued backup while another target's backup is held up, not behind it", async () => {
    const other = await addTarget(env.db, { name: "queued", environment: "test", url: otherUrl });
    const worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
    // Another backup of `default` "runs" elsewhere: default's next backup is taken from the
    // queue and waits for the target's lock, holding one of the worker's handlers.
    const held = await waitBackupLock(env.appUrl, "default");
    try {
      const a = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL" }, SYSTEM);
      await waitFor(async () => (await env.db.backupJob.findUniqueOrThrow({ where: { id: a.id } })).phase === "waiting for another backup", 30_000);
      const b = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL", targetId: other }, SYSTEM);
      const doneB = await waitFor(async () => {
        const r = await env.db.backupJob.findUniqueOrThrow({ where: { id: b.id } });
        return r.status === "SUCCEEDED" ? r : null;
      }, 60_000);
      expect(doneB.storageKey).toMatch(/^backups\/test\/queued\//);
      expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: a.id } })).status).toBe("QUEUED");
      await held.release();
      const doneA = await waitFor(async () => {
        const r = await env.db.backupJob.findUniqueOrThrow({ where: { id: a.id } });
        return r.status === "SUCCEEDED" ? r : null;
      }, 60_000);
      expect(doneA.storageKey).toMatch(/^backups\/test\/default\//);
    } finally {
      await held.release();
      await worker.stop();
    }
  }, 180_000);
});

describe("schedules per target across replicas", () => {
  let env: TestEnv;
  let replica: Db;
  let a: string;
  let b: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { targetSecret: SECRET } });
    replica = createDb(env.appUrl);
    const every = { enabled: true, cron: "*/5 * * * *", timezone: "UTC", kind: "FULL" as const };
    a = await addTarget(env.db, { name: "shop-prod", environment: "prod", url: env.targetUrl, settings: { schedule: every } });
    b = await addTarget(env.db, { name: "crm-prod", environment: "prod", url: env.targetUrl, settings: { schedule: { ...every, timezone: "Europe/Paris" } } });
    await addTarget(env.db, { name: "unscheduled", environment: "prod", url: env.targetUrl });
    // Saved well before the slot below.
    await sql(env.appUrl, `UPDATE "Target" SET "updatedAt" = '2026-01-01T00:00:00Z'`);
  }, 120_000);

  afterAll(async () => {
    await replica?.$disconnect();
    await env?.cleanup();
  });

  it("makes exactly one SCHEDULED backup per target for the same minute, whatever the number of replicas and ticks", async () => {
    // In the past (a slot's job is written at or after its slot), after the targets were saved.
    const slot = new Date("2026-01-05T03:05:00Z");
    const createdOn = new Date(slot.getTime() + 4_000);
    const now = new Date(slot.getTime() + 9_000);
    const ctxs = [env.ctx, { ...env.ctx, db: replica }];
    const ticks = ctxs.flatMap((ctx) => [a, b, a, b].map((targetId) => handleTick(ctx, createdOn, now, undefined, { targetId })));
    const results = await Promise.all(ticks);
    expect(results.filter((r) => r.claimed)).toHaveLength(2);
    const jobs = await env.db.backupJob.findMany({ where: { trigger: "SCHEDULED" } });
    expect(jobs.map((j) => j.targetId).sort()).toEqual([a, b].sort());
    for (const j of jobs) expect((j.metadata as { scheduleSlot: string }).scheduleSlot).toBe(slot.toISOString());
  });

  it("keeps pg-boss's crons in step with the targets' schedules", async () => {
    const boss = await getBoss(env.appUrl);
    const keys = async () => (await boss.getSchedules(QUEUES.schedule)).filter((s) => s.key.startsWith("target.")).map((s) => `${s.key} ${s.cron} ${s.timezone}`).sort();
    const first = await syncTargetSchedules(env.ctx);
    expect(first.scheduled.sort()).toEqual([targetScheduleKey(a), targetScheduleKey(b)].sort());
    expect(await keys()).toEqual([`${targetScheduleKey(a)} */5 * * * * UTC`, `${targetScheduleKey(b)} */5 * * * * Europe/Paris`].sort());
    expect((await syncTargetSchedules(env.ctx)).unchanged).toHaveLength(2);
    // Disabled on one, the other deleted: both crons go; the default's cron is not touched.
    await env.db.target.update({ where: { id: a }, data: { settings: { schedule: { enabled: false, cron: "*/5 * * * *", timezone: "UTC", kind: "FULL" } } } });
    await env.db.backupJob.deleteMany({ where: { targetId: b } });
    await env.db.target.delete({ where: { id: b } });
    const last = await syncTargetSchedules(env.ctx);
    expect(last.unscheduled.sort()).toEqual([targetScheduleKey(a), targetScheduleKey(b)].sort());
    expect(await keys()).toEqual([]);
  });
});

describe("reconcile from storage and the CLI, per target, in both layouts", () => {
  let env: TestEnv;
  let otherUrl: string;
  let other: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: { rows: 100 }, overrides: { targetSecret: SECRET } });
    otherUrl = await createDatabase("other");
    await seedTarget(otherUrl, { rows: 50 });
    other = await addTarget(env.db, { name: "shop-staging", environment: "staging", url: otherUrl });
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
    await dropDatabase(otherUrl).catch(() => {});
  });

  it("rebuilds rows with their targets from both layouts, re-creating a target that is gone (without its URL)", async () => {
    const mine = await backupOf(env.ctx, "default");
    const theirs = await backupOf(env.ctx, other);
    const quick = await backupOf(env.ctx, other, "QUICK");

    // A backup written before targets: at <prefix>/<env>/YYYY/MM/<id>/, its manifest without `target`.
    const old = await backupOf(env.ctx, "default");
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: old } });
    const newDir = (row.metadata as { manifestKey: string }).manifestKey.replace(/\/manifest\.json$/, "");
    const legacy = legacyBackupKeys("backups", "test", old, row.createdAt);
    const m = JSON.parse((await env.ctx.storage.getBytes(`${newDir}/manifest.json`)).toString("utf8"));
    delete m.target;
    for (const p of m.parts) {
      const to = p.key.replace(newDir, legacy.dir);
      await env.ctx.storage.putBytes(to, await env.ctx.storage.getBytes(p.key), "application/octet-stream");
      await env.ctx.storage.delete(p.key);
      p.key = to;
    }
    await env.ctx.storage.putBytes(legacy.manifest, JSON.stringify(m, null, 2), "application/json");
    await env.ctx.storage.delete(`${newDir}/manifest.json`);

    // The catalogue loses every backup row and the target shop-staging.
    await env.db.backupJob.deleteMany({});
    await env.db.target.delete({ where: { id: other } });

    const r = await reconcileFromStorage(env.ctx);
    expect(r.backups).toBe(4);
    const rows = await env.db.backupJob.findMany({ select: { id: true, targetId: true, storageKey: true, metadata: true } });
    expect(Object.fromEntries(rows.map((x) => [x.id, x.targetId]))).toEqual({ [mine]: "default", [old]: "default", [theirs]: other, [quick]: other });
    expect(rows.find((x) => x.id === old)!.storageKey).toBe(`${legacy.dir}/archive.dump.gpg`);
    const back = await env.db.target.findUniqueOrThrow({ where: { id: other } });
    expect(back).toMatchObject({ name: "shop-staging", environment: "staging", databaseUrlEncrypted: null, isDefault: false });

    // The old-layout backup is still restorable where it is: verified through its row's keys.
    const { verifyBackupObjects } = await import("../lib/backup/verify");
    const full = await env.db.backupJob.findUniqueOrThrow({ where: { id: old } });
    expect((await verifyBackupObjects(env.ctx, full)).ok).toBe(true);
  }, 240_000);

  it("lists, verifies and backs up per target from the CLI", async () => {
    // The re-created target gets its URL back (as an administrator would) for the CLI's backup.
    await env.db.target.update({ where: { id: other }, data: { databaseUrlEncrypted: encryptTargetUrl(SECRET, otherUrl) } });
    const cli = (...args: string[]) => exec("npx", ["tsx", "scripts/cli.ts", ...args], { env: cliEnv(env), maxBuffer: 1 << 24 });

    const backedUp = await cli("backup", "--target", "shop-staging");
    expect(backedUp.stdout).toMatch(/of shop-staging started/);
    expect(backedUp.stdout).toMatch(/SUCCEEDED .* key=backups\/staging\/shop-staging\/\d{4}\/\d{2}\//);
    const newest = await env.db.backupJob.findFirstOrThrow({ where: { targetId: other }, orderBy: { createdAt: "desc" } });

    const listed = await cli("list", "--target", "shop-staging");
    const lines = listed.stdout.trim().split("\n");
    expect(lines[0].split("\t").slice(0, 2)).toEqual(["id", "target"]);
    const body = lines.slice(1, -1);
    expect(body.length).toBe(3);
    expect(body.every((l) => l.split("\t")[1] === "shop-staging")).toBe(true);
    expect(body.some((l) => l.startsWith(newest.id))).toBe(true);
    // Without --target: the default's backups only, both layouts.
    const defaults = (await cli("list")).stdout.trim().split("\n").slice(1, -1);
    expect(defaults).toHaveLength(2);
    expect(defaults.every((l) => l.split("\t")[1] === "default")).toBe(true);
    // Storage alone (no catalogue look-up) with --env.
    const offline = await exec("npx", ["tsx", "scripts/cli.ts", "verify", newest.id, "--target", "shop-staging", "--env", "staging"], {
      env: { ...cliEnv(env), DATABASE_URL: "postgresql://nobody:x@127.0.0.1:1/none" },
    });
    expect(offline.stdout).toMatch(/database: OK/);
    await expect(cli("list", "--target", "no-such-target")).rejects.toMatchObject({ stderr: expect.stringMatching(/no-such-target/) });
  }, 240_000);
});

describe("a catalogue from before targets", () => {
  const TARGETS = "20261202010000_targets";
  let url: string;
  let before: string;

  beforeAll(async () => {
    url = await createDatabase("pretargets");
    before = mkdtempSync(path.join(tmpdir(), "vaultline-mig-"));
    const names = readMigrations().map((m) => m.name);
    for (const name of names.slice(0, names.indexOf(TARGETS))) cpSync(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
    cpSync(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
    await migrate(url, before);
    await sql(
      url,
      `INSERT INTO "BackupJob" (id, kind, trigger, status, "storageKey", "updatedAt", metadata)
         VALUES ('b_old_full', 'FULL', 'SCHEDULED', 'SUCCEEDED', 'backups/prod/2026/11/b_old_full/archive.dump.gpg', now(), '{"scheduleSlot":"2026-11-30T03:00:00.000Z"}'),
                ('b_old_safety', 'FULL', 'PRE_RESTORE', 'SUCCEEDED', 'backups/prod/2026/11/b_old_safety/archive.dump.gpg', now(), '{}');
       INSERT INTO "RestoreJob" (id, "backupId", "safetyBackupId", status, "updatedAt") VALUES ('r_old', 'b_old_full', 'b_old_safety', 'SUCCEEDED', now());
       INSERT INTO "DrillRun" (id, "backupId", trigger, status) VALUES ('d_old', 'b_old_full', 'MANUAL', 'PASSED');`,
    );
    await migrate(url);
  }, 120_000);

  afterAll(async () => {
    rmSync(before, { recursive: true, force: true });
    await dropDatabase(url).catch(() => {});
  });

  it("upgrades with its whole history under `default`, keys where they were", async () => {
    const rows = await sql<{ t: string; id: string; target: string }>(
      url,
      `SELECT 'backup' AS t, id, "targetId" AS target FROM "BackupJob" UNION ALL
       SELECT 'restore', id, "targetId" FROM "RestoreJob" UNION ALL
       SELECT 'drill', id, "targetId" FROM "DrillRun" ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { t: "backup", id: "b_old_full", target: "default" },
      { t: "backup", id: "b_old_safety", target: "default" },
      { t: "drill", id: "d_old", target: "default" },
      { t: "restore", id: "r_old", target: "default" },
    ]);
    const [t] = await sql<{ id: string; name: string; isDefault: boolean }>(url, `SELECT id, name, "isDefault" FROM "Target"`);
    expect(t).toEqual({ id: "default", name: "default", isDefault: true });
    const [k] = await sql<{ storageKey: string }>(url, `SELECT "storageKey" FROM "BackupJob" WHERE id = 'b_old_full'`);
    expect(k.storageKey).toBe("backups/prod/2026/11/b_old_full/archive.dump.gpg");
  });
});

describe("createBackupJob", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { targetSecret: SECRET } });
  }, 60_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("writes the target's id (default when absent) and refuses an unknown target with a 404", async () => {
    const t = await addTarget(env.db, { name: "shop-prod", environment: "prod", url: env.targetUrl });
    const plain = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL" }, SYSTEM);
    const named = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL", targetId: t }, SYSTEM);
    expect([plain.targetId, named.targetId]).toEqual(["default", t]);
    const audit = await env.db.auditEvent.findFirst({ where: { action: "backup.requested", target: named.id } });
    expect(JSON.stringify(audit!.details)).toContain("shop-prod");
    expect(JSON.stringify(audit!.details)).not.toMatch(/postgres(ql)?:\/\//);
    await expect(createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL", targetId: "nope" }, SYSTEM)).rejects.toMatchObject({ name: "UnknownTargetError" });
    // Another target's QUICK backup does not borrow the default app's commit.
    await expect(createBackupJob({ ...env.ctx, appCommitSha: "abc1234" }, { kind: "QUICK", trigger: "MANUAL", targetId: t }, SYSTEM)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("retries a failed scheduled backup on its own target, whatever another target's backups did", async () => {
    const t = (await env.db.target.findUniqueOrThrow({ where: { name: "shop-prod" } })).id;
    const failed = await env.db.backupJob.create({ data: { targetId: t, kind: "FULL", trigger: "SCHEDULED", status: "FAILED", metadata: {} } });
    // A newer scheduled success of the default target does not make shop-prod's retry pointless.
    await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", metadata: {} } });
    const r = await scheduleRetry(env.ctx, failed.id);
    expect(r.retried).toBe(true);
    const retry = await env.db.backupJob.findUniqueOrThrow({ where: { id: (r as { retryId: string }).retryId } });
    expect(retry.targetId).toBe(t);
  });
});
