// Restores on real parts: preview, the RESTORE word, refusal before anything is touched,
// the safety backup, all-or-nothing pg_restore, surviving a restore of Vaultline's own
// database, one destructive operation at a time, drills.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFile, writeFile, mkdtemp, rm, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { makeEnv, waitFor, sql, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { spawnEngine } from "./support/spawn-engine";
import { runBackup } from "../lib/backup/run-backup";
import { startRestore, runRestore, sweepStaleRestores } from "../lib/backup/restore";
import { previewRestore } from "../lib/backup/preview";
import { runDrill, scratchDatabasePrefix } from "../lib/backup/drill";
import { deleteBackup } from "../lib/backup/delete";
import { backupKeys } from "../lib/backup/manifest";
import { verifyBackupObjects } from "../lib/backup/verify";
import { audit, SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const actor = SYSTEM;

async function fullBackup(env: TestEnv, trigger: "MANUAL" | "SCHEDULED" = "MANUAL", includeFiles = false) {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger, metadata: { includeFiles, phases: [] } } });
  const r = await runBackup(env.ctx, job.id);
  expect(r.failureReason).toBeUndefined();
  return env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
}

afterAll(async () => {
  await stopBosses();
});

describe("restore of an application database", () => {
  let env: TestEnv;
  let original: Record<string, string>;
  let backupId: string;
  let filesDir: string;

  beforeAll(async () => {
    filesDir = await mkdtemp(path.join(tmpdir(), "vaultline-files-"));
    await writeFile(path.join(filesDir, "logo.png"), "original-logo");
    env = await makeEnv({ overrides: { filesDir } });
    await sql(env.targetUrl, `CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0);
      INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('a', 'x', now(), '20260101_init', 1)`);
    original = await dbState(env.targetUrl);
    backupId = (await fullBackup(env, "MANUAL", true)).id;
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(filesDir, { recursive: true, force: true });
  });

  it("previews the added table, the dropped column and the reverted migration, then restores exactly the original", async () => {
    await sql(env.targetUrl, `UPDATE customers SET name = 'changed' WHERE id <= 10;
      DELETE FROM invoices WHERE id > 3000;
      ALTER TABLE customers DROP COLUMN created_at;
      CREATE TABLE user_favorites (id serial PRIMARY KEY, customer_id int);
      INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('b', 'y', now(), '20260201_favorites', 1)`);
    await writeFile(path.join(filesDir, "logo.png"), "changed-logo");
    await writeFile(path.join(filesDir, "new.png"), "new");

    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.verified.ok).toBe(true);
    expect(preview.differences.tables.dropped).toEqual(["public.user_favorites"]);
    expect(preview.differences.columns.added).toEqual(["public.customers.created_at"]);
    expect(preview.differences.migrations.reverted).toEqual(["20260201_favorites"]);
    expect(preview.warnings.join("\n")).toMatch(/user_favorites/);
    expect(preview.rowEstimates["public.invoices"]).toEqual({ live: 3000, backup: 4000 });

    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, backupId, actor, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    expect(await dbState(env.targetUrl)).toEqual(original);
    expect(await readFile(path.join(filesDir, "logo.png"), "utf8")).toBe("original-logo");
    expect(await readdir(filesDir)).toEqual(["logo.png"]);

    const safety = await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } });
    expect(safety).toMatchObject({ status: "SUCCEEDED", trigger: "PRE_RESTORE", kind: "FULL" });
    const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(r).toMatchObject({ status: "SUCCEEDED", safetyBackupId: preRestoreBackupId, backupId });
    expect((r.preview as { differences: { tables: { dropped: string[] } } }).differences.tables.dropped).toEqual(["public.user_favorites"]);
    // The post-restore checks ran and passed: the target's migrations are the backup's.
    const checks = r.checks as { status: string; results: { id: string; status: string }[] };
    expect(checks.status).toBe("pass");
    expect(checks.results.map((c) => [c.id, c.status])).toEqual(expect.arrayContaining([["drift:target-backup", "pass"], ["drift:vaultline", "pass"]]));
    expect(r.durationSeconds).toBeGreaterThan(0);
    // The safety backup holds the state just before the restore: the favorites table.
    const safetyPreview = await previewRestore(env.ctx, preRestoreBackupId);
    expect(safetyPreview.differences.tables.added).toEqual(["public.user_favorites"]);
  });

  it("answers 422 unless the word is exactly RESTORE", async () => {
    for (const word of [undefined, "", "restore", "RESTORE ", " RESTORE", "Restore"]) {
      await expect(startRestore(env.ctx, backupId, actor, { confirm: word })).rejects.toMatchObject({ code: "CONFIRMATION_REQUIRED", status: 422 });
    }
    expect(await env.db.restoreJob.count({ where: { status: "QUEUED" } })).toBe(0);
  });

  it("answers 409 to a second restore while one is queued, and to a delete", async () => {
    const first = await startRestore(env.ctx, backupId, actor, { confirm: "RESTORE" });
    await expect(startRestore(env.ctx, backupId, actor, { confirm: "RESTORE" })).rejects.toMatchObject({ code: "OPERATION_IN_PROGRESS", status: 409 });
    await expect(deleteBackup(env.ctx, backupId, actor)).rejects.toMatchObject({ status: 409 });
    expect(await runRestore(env.ctx, first.restoreId)).toBe("SUCCEEDED");
  });

  describe.each([
    ["a flipped byte", async (key: string, e: TestEnv) => {
      const b = await e.ctx.storage.getBytes(key);
      b[Math.floor(b.length * 0.7)] ^= 0x40;
      await e.ctx.storage.putBytes(key, b);
    }, /checksum|altered/i],
    ["a truncated archive", async (key: string, e: TestEnv) => {
      const b = await e.ctx.storage.getBytes(key);
      await e.ctx.storage.putBytes(key, b.subarray(0, Math.floor(b.length / 2)));
    }, /checksum|truncated|altered/i],
  ] as const)("refuses %s with the target untouched", (_name, doctor, reason) => {
    it("refuses before the safety backup and leaves the data as it was", async () => {
      const good = await fullBackup(env);
      await doctor(good.storageKey!, env);
      await sql(env.targetUrl, `UPDATE customers SET name = 'after' WHERE id = 1`);
      const before = await dbState(env.targetUrl);
      const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, good.id, actor, { confirm: "RESTORE" });
      expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
      const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
      expect(r.failureReason).toMatch(reason);
      expect(await dbState(env.targetUrl)).toEqual(before);
      expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("CANCELLED");
    });
  });

  it("refuses a manifest edited after the backup (still valid JSON) before the safety backup", async () => {
    // Fault suite doctored archive #59: a bit flip inside the manifest's catalogue record
    // was caught only at the swap's copy check, after the safety backup had run.
    const good = await fullBackup(env);
    const key = backupKeys("backups", "test", good.id, good.createdAt).manifest;
    const manifest = JSON.parse((await env.ctx.storage.getBytes(key)).toString("utf8"));
    manifest.note = "edited by someone with write access to the bucket";
    await env.ctx.storage.putBytes(key, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    await sql(env.targetUrl, `UPDATE customers SET name = 'after' WHERE id = 1`);
    const before = await dbState(env.targetUrl);
    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, good.id, actor, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toMatch(/manifest was altered/);
    expect(await dbState(env.targetUrl)).toEqual(before);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("CANCELLED");
    const verify = await verifyBackupObjects(env.ctx, await env.db.backupJob.findUniqueOrThrow({ where: { id: good.id } }));
    expect(verify).toMatchObject({ ok: false, reason: expect.stringMatching(/manifest was altered/) });
  });

  it("refuses a backup encrypted with another passphrase", async () => {
    const good = await fullBackup(env);
    const before = await dbState(env.targetUrl);
    const other = { ...env.ctx, passphrase: "a-different-passphrase" };
    const { restoreId } = await startRestore(other, good.id, actor, { confirm: "RESTORE" });
    expect(await runRestore(other, restoreId)).toBe("FAILED");
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toMatch(/passphrase|decrypt|key/i);
    expect(await dbState(env.targetUrl)).toEqual(before);
  });

  it("refuses a backup whose files part is missing", async () => {
    const good = await fullBackup(env, "MANUAL", true);
    await env.ctx.storage.delete(backupKeys("backups", "test", good.id, good.createdAt).files);
    const before = await dbState(env.targetUrl);
    const { restoreId } = await startRestore(env.ctx, good.id, actor, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toMatch(/files part/);
    expect(await dbState(env.targetUrl)).toEqual(before);
  });

  it("drill passes on a good backup and fails on a doctored one", async () => {
    const good = await fullBackup(env);
    const pass = await runDrill(env.ctx, good.id);
    expect(pass.ok).toBe(true);
    expect(pass.tables.find((t) => t.table === "public.customers")).toMatchObject({ ok: true });
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: good.id } })).verifyStatus).toBe("PASSED");
    const b = await env.ctx.storage.getBytes(good.storageKey!);
    b[100] ^= 0xff;
    await env.ctx.storage.putBytes(good.storageKey!, b);
    const fail = await runDrill(env.ctx, good.id);
    expect(fail.ok).toBe(false);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: good.id } })).verifyStatus).toBe("FAILED");
    // This test's two drills' scratch databases (other test files drill at the same time).
    for (const drillId of [pass.drillId, fail.drillId]) {
      const leftovers = await sql<{ n: number }>(env.targetUrl, `SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1`, [`${scratchDatabasePrefix(drillId)}%`]);
      expect(leftovers[0].n).toBe(0);
    }
  });
});

describe("a restore killed mid-pg_restore (in place)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv();
  });
  afterAll(async () => env.cleanup());

  it("leaves the target wholly in its old state; the sweep fails the job; the safety backup exists", async () => {
    const good = await fullBackup(env);
    await sql(env.targetUrl, `UPDATE customers SET name = 'newer' WHERE id <= 100; CREATE TABLE added_later (id int)`);
    const before = await dbState(env.targetUrl);
    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, good.id, actor, { confirm: "RESTORE" });

    // A reader holds a lock the restore's DROP needs, so the restore stalls mid-transaction.
    const blocker = new pg.Client({ connectionString: env.targetUrl });
    await blocker.connect();
    await blocker.query("BEGIN; SELECT 1 FROM invoices LIMIT 1");
    const child = spawnEngine({ ctx: { ...env.spec, filesDir: env.ctx.filesDir, restoreStrategy: "in-place" }, action: "restore", restoreId });
    try {
      await waitFor(async () => (await env.db.restoreJob.findUnique({ where: { id: restoreId } }))?.phase === "restoring database", 60_000);
      await waitFor(async () => {
        const rows = await sql<{ n: number }>(env.targetUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
        return rows[0].n > 0;
      }, 90_000);
      await child.kill9();
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }
    // The orphaned pg_restore reads a closed pipe and rolls back; wait until it is gone.
    await waitFor(async () => {
      const rows = await sql<{ n: number }>(env.targetUrl, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'vaultline-restore' AND pid <> pg_backend_pid()`);
      return rows[0].n === 0;
    }, 90_000);
    expect(await dbState(env.targetUrl)).toEqual(before);

    expect(await sweepStaleRestores(env.ctx, new Date(Date.now() + 3 * 60_000))).toContain(restoreId);
    const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/single transaction/);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("SUCCEEDED");
  }, 240_000);
});

describe("a restore of Vaultline's own database", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ targetIsApp: true, seed: false });
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("keeps the backups taken after the restore point, the restore itself, its safety backup and the audit trail", async () => {
    const point = await fullBackup(env);
    await audit(env.db, { actor, action: "test.before_x", target: "t" });
    const x = await fullBackup(env, "SCHEDULED");
    const y = await fullBackup(env);
    await audit(env.db, { actor, action: "test.after_y", target: "t" });

    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, point.id, actor, { confirm: "RESTORE" });
    await runRestore(env.ctx, restoreId);
    const outcome = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect({ status: outcome.status, reason: outcome.failureReason }).toEqual({ status: "SUCCEEDED", reason: null });

    const ids = (await env.db.backupJob.findMany({ select: { id: true, status: true } })).filter((b) => b.status === "SUCCEEDED").map((b) => b.id);
    expect(ids).toEqual(expect.arrayContaining([point.id, x.id, y.id, preRestoreBackupId]));
    const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(r.status).toBe("SUCCEEDED");
    expect(r.safetyBackupId).toBe(preRestoreBackupId);
    const actions = (await env.db.auditEvent.findMany({ select: { action: true } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["test.before_x", "test.after_y", "restore.requested", "restore.succeeded"]));
    // pg-boss's queue is neither in the backup nor in its preview or drill counts.
    const { startWorker } = await import("../lib/worker");
    const w = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
    await w.stop();
    const preview = await previewRestore(env.ctx, y.id);
    expect(Object.keys(preview.rowEstimates).filter((t) => t.startsWith("pgboss."))).toEqual([]);
    expect(preview.differences.tables).toEqual({ added: [], dropped: [] });
    expect((await runDrill(env.ctx, y.id)).ok).toBe(true);
    // The reinserted X keeps its trigger and checksum.
    expect(await env.db.backupJob.findUniqueOrThrow({ where: { id: x.id } })).toMatchObject({ trigger: "SCHEDULED", checksumSha256: x.checksumSha256 });
  });
});

describe("a restore of Vaultline's own database keeps credentials current (issue 11 finding 4)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ targetIsApp: true, seed: false });
  });
  afterAll(async () => env.cleanup());

  it("never brings back a revoked token, a disabled or deleted user, an old password or an ended session", async () => {
    const { hashPassword, verifyPassword } = await import("../lib/passwords");
    const { createToken, revokeToken } = await import("../lib/users");
    const { findToken } = await import("../lib/tokens");
    const admin = await env.db.user.create({ data: { email: "admin@own.test", displayName: "Admin", role: "ADMIN", passwordHash: await hashPassword("old-password-1") } });
    const gone = await env.db.user.create({ data: { email: "gone@own.test", displayName: "Gone", role: "OPERATOR", passwordHash: await hashPassword("gone-password-1") } });
    const later = await env.db.user.create({ data: { email: "later@own.test", displayName: "Later", role: "VIEWER", passwordHash: await hashPassword("later-password-1") } });
    const token = await createToken(env.db, { name: "ci", scopes: ["backups:read"] }, admin.id, actor);
    expect(await findToken(env.db, token.token)).not.toBeNull();
    const channel = await env.db.notificationChannel.create({ data: { name: "slack", kind: "SLACK", events: ["BACKUP_FAILED"], secrets: { url: "https://hooks.slack.test/services/OLD" } } });
    const point = await fullBackup(env);
    // After the backup: the channel's URL is rotated and another channel added.
    await env.db.notificationChannel.update({ where: { id: channel.id }, data: { secrets: { url: "https://hooks.slack.test/services/NEW" } } });
    const addedChannel = await env.db.notificationChannel.create({ data: { name: "ntfy", kind: "NTFY", events: ["BACKUP_MISSED", "DRILL_FAILED"], secrets: { url: "https://ntfy.test/t" } } });

    // After the backup: the token is revoked, a user disabled, one deleted, a password changed.
    await revokeToken(env.db, token.id, actor);
    await env.db.user.update({ where: { id: later.id }, data: { disabledAt: new Date() } });
    await env.db.user.delete({ where: { id: gone.id } });
    await env.db.user.update({ where: { id: admin.id }, data: { passwordHash: await hashPassword("new-password-2"), sessionVersion: { increment: 1 } } });
    const keyRows = await sql<{ id: string }>(env.appUrl, `SELECT id FROM "EncryptionKey" ORDER BY id`);
    const created = await env.db.user.create({ data: { email: "new@own.test", displayName: "New", role: "VIEWER", passwordHash: await hashPassword("new-user-password") } });
    expect(await findToken(env.db, token.token)).toBeNull();

    const { restoreId } = await startRestore(env.ctx, point.id, actor, { confirm: "RESTORE" });
    expect({ status: await runRestore(env.ctx, restoreId), reason: (await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason }).toEqual({ status: "SUCCEEDED", reason: null });
    const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(r.strategy).toBe("in-place");
    expect(r.warnings).toEqual([]);

    expect(await findToken(env.db, token.token)).toBeNull();
    expect((await env.db.apiToken.findUniqueOrThrow({ where: { id: token.id } })).revokedAt).not.toBeNull();
    expect((await env.db.user.findUniqueOrThrow({ where: { id: later.id } })).disabledAt).not.toBeNull();
    expect(await env.db.user.findUnique({ where: { id: gone.id } })).toBeNull();
    expect(await env.db.user.findUnique({ where: { id: created.id } })).not.toBeNull();
    const [{ hash }] = await sql<{ hash: string }>(env.appUrl, `SELECT "passwordHash" AS hash FROM "User" WHERE id = $1`, [admin.id]);
    expect(await verifyPassword("new-password-2", hash)).toBe(true);
    expect(await verifyPassword("old-password-1", hash)).toBe(false);
    // Sessions issued before the password change stay ended; key records stay current.
    const [{ v }] = await sql<{ v: number }>(env.appUrl, `SELECT "sessionVersion" AS v FROM "User" WHERE id = $1`, [admin.id]);
    expect(v).toBe(1 + (admin as { sessionVersion?: number }).sessionVersion!);
    expect(await sql<{ id: string }>(env.appUrl, `SELECT id FROM "EncryptionKey" ORDER BY id`)).toEqual(keyRows);
    // Notification channels are current state too: the rotated URL stays, the later channel stays.
    expect((await env.db.notificationChannel.findUniqueOrThrow({ where: { id: channel.id } })).secrets).toEqual({ url: "https://hooks.slack.test/services/NEW" });
    expect((await env.db.notificationChannel.findUniqueOrThrow({ where: { id: addedChannel.id } })).events).toEqual(["BACKUP_MISSED", "DRILL_FAILED"]);
    // The copy kept for after the migrations is gone.
    expect(await sql(env.appUrl, `SELECT to_regclass('public._vaultline_kept_credentials') AS t`)).toEqual([{ t: null }]);
  });
});

describe("the stale-job sweep and a restore of Vaultline's own database (issue 11 finding 5)", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ targetIsApp: true, seed: false });
  });
  afterAll(async () => env.cleanup());

  it("never fails or deletes a backup whose manifest exists, and does nothing while a destructive operation holds the lock", async () => {
    const { sweepStaleJobs } = await import("../lib/backup/jobs");
    const { tryDestructiveLock } = await import("../lib/backup/locks");
    const b = await fullBackup(env);
    // As the restored dump has it: the backup's own row captured RUNNING, with an old heartbeat.
    const old = new Date(Date.now() - 3600_000);
    await env.db.backupJob.update({ where: { id: b.id }, data: { status: "RUNNING", phase: "dumping", heartbeatAt: old, completedAt: null } });
    const lock = await tryDestructiveLock(env.appUrl);
    expect(lock).not.toBeNull();
    expect(await sweepStaleJobs(env.ctx)).toEqual({ failed: [], requeued: [] });
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: b.id } })).status).toBe("RUNNING");
    await lock!.release();

    expect((await sweepStaleJobs(env.ctx)).failed).toEqual([]);
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: b.id } });
    expect(row.status).toBe("SUCCEEDED");
    const keys = backupKeys(env.ctx.prefix, env.ctx.env, b.id, b.createdAt);
    expect(await env.ctx.storage.getBytes(keys.manifest)).toBeTruthy();
    expect((await verifyBackupObjects(env.ctx, row)).ok).toBe(true);
  });
});

