// The dashboard's own server pieces against a real migrated database: the today banner
// (getToday), the audit log reader with webhook masking, and the audited settings save.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase, sql } from "./support/vitest-env";
import { createDb, type Db } from "../lib/db";
import { getToday } from "../lib/backup/today";
import { backupTombstone, safetyBackupFor } from "../lib/backup/related";
import { getRestore, listRestores } from "../lib/backup/restores-catalog";
import { listAuditEvents } from "../lib/audit-query";
import { saveSettings, settingsView } from "../lib/settings-view";
import { audit } from "../lib/audit";
import { DEFAULT_SETTINGS } from "../lib/validation/settings";

let url: string;
let db: Db;
const admin = { type: "user" as const, id: "u_admin", label: "admin@example.test" };
const now = new Date("2025-10-05T10:00:00Z");
let n = 0;

async function job(fields: { status: string; kind?: string; trigger?: string; createdAt: string; completedAt?: string | null; failureReason?: string; sizeBytes?: number }) {
  const id = `job${String(++n).padStart(22, "0")}`;
  await sql(
    url,
    `INSERT INTO "BackupJob" (id, kind, trigger, status, "createdAt", "completedAt", "failureReason", "sizeBytes", "updatedAt")
     VALUES ($1, $2::"BackupKind", $3::"BackupTrigger", $4::"JobStatus", $5::timestamptz AT TIME ZONE 'UTC', $6::timestamptz AT TIME ZONE 'UTC', $7, $8, $5::timestamptz AT TIME ZONE 'UTC')`,
    [id, fields.kind ?? "FULL", fields.trigger ?? "SCHEDULED", fields.status, fields.createdAt, fields.completedAt ?? null, fields.failureReason ?? null, fields.sizeBytes ?? null],
  );
  return id;
}

beforeAll(async () => {
  url = await createMigratedDatabase("dashboard");
  db = createDb(url);
});
afterAll(async () => {
  await db.$disconnect();
  await dropDatabase(url);
});

describe("getToday", () => {
  beforeEach(async () => {
    await sql(url, `DELETE FROM "BackupJob"`);
  });

  it("is missing with no history, and shows the next scheduled run", async () => {
    const t = await getToday(db, now);
    expect(t).toMatchObject({ state: "missing", dayStartUtc: "2025-10-05T00:00:00.000Z", lastSuccess: null, hoursSinceLastSuccess: null, running: null });
    expect(t.schedule).toMatchObject({ enabled: true, cron: "0 2 * * *", timezone: "UTC", nextRunAt: "2025-10-06T02:00:00.000Z", lastRunAt: null });
  });

  it("is missing after yesterday's success, with the hours since", async () => {
    const id = await job({ status: "SUCCEEDED", createdAt: "2025-10-04T07:59:50Z", completedAt: "2025-10-04T08:00:00Z", sizeBytes: 1000 });
    const t = await getToday(db, now);
    expect(t.state).toBe("missing");
    expect(t.lastSuccess?.id).toBe(id);
    expect(t.hoursSinceLastSuccess).toBe(26);
    expect(t.schedule.lastRunAt).toBe("2025-10-04T07:59:50.000Z");
  });

  it("is failed when today's only finished backup failed, and carries the reason", async () => {
    await job({ status: "SUCCEEDED", createdAt: "2025-10-04T02:00:00Z", completedAt: "2025-10-04T02:00:12Z" });
    const id = await job({ status: "FAILED", createdAt: "2025-10-05T02:00:00Z", completedAt: "2025-10-05T02:00:03Z", failureReason: "disk full" });
    const t = await getToday(db, now);
    expect(t.state).toBe("failed");
    expect(t.todays.latest?.id).toBe(id);
    expect(t.lastFailure?.failureReason).toBe("disk full");
  });

  it("is ok after a success today, and running while one is in flight", async () => {
    await job({ status: "SUCCEEDED", createdAt: "2025-10-05T02:00:00Z", completedAt: "2025-10-05T02:00:12Z", sizeBytes: 3_400_000 });
    expect((await getToday(db, now)).state).toBe("ok");
    const running = await job({ status: "RUNNING", kind: "QUICK", trigger: "MANUAL", createdAt: "2025-10-05T09:59:00Z" });
    const t = await getToday(db, now);
    expect(t.state).toBe("running");
    expect(t.running?.id).toBe(running);
  });

  it("is not ok after a day of QUICK backups only (GET /api/today's answer): missing, naming the code-only backup", async () => {
    const full = await job({ status: "SUCCEEDED", createdAt: "2025-10-04T07:59:50Z", completedAt: "2025-10-04T08:00:00Z", sizeBytes: 5_000_000 });
    const quick = await job({ status: "SUCCEEDED", kind: "QUICK", trigger: "PRE_DEPLOY", createdAt: "2025-10-05T09:37:59Z", completedAt: "2025-10-05T09:38:00Z", sizeBytes: 1100 });
    const t = await getToday(db, now);
    expect(t.state).toBe("missing");
    expect(t.todays.codeOnly?.id).toBe(quick);
    expect(t.lastSuccess?.id).toBe(full);
    expect(t.hoursSinceLastSuccess).toBe(26);
    // The route answers exactly this value as JSON.
    expect(JSON.parse(JSON.stringify(t))).toMatchObject({ state: "missing", lastSuccess: { id: full, kind: "FULL" }, todays: { codeOnly: { id: quick, kind: "QUICK" } } });
    // Even when the schedule itself takes QUICK backups.
    await saveSettings(db, { schedule: { ...DEFAULT_SETTINGS.schedule, kind: "QUICK" } }, admin, { appDatabaseUrl: null });
    expect((await getToday(db, now)).state).toBe("missing");
    await saveSettings(db, { schedule: DEFAULT_SETTINGS.schedule }, admin, { appDatabaseUrl: null });
    // A FULL success today makes it ok.
    await job({ status: "SUCCEEDED", createdAt: "2025-10-05T02:00:00Z", completedAt: "2025-10-05T02:00:12Z", sizeBytes: 5_000_000 });
    expect((await getToday(db, now)).state).toBe("ok");
  });

  it("reports no next run when the schedule is off", async () => {
    await saveSettings(db, { schedule: { ...DEFAULT_SETTINGS.schedule, enabled: false } }, admin, { appDatabaseUrl: null });
    expect((await getToday(db, now)).schedule).toMatchObject({ enabled: false, nextRunAt: null });
    await saveSettings(db, { schedule: DEFAULT_SETTINGS.schedule }, admin, { appDatabaseUrl: null });
  });
});

describe("tombstones and safety backups", () => {
  it("a removed backup's tombstone says when and by which rule, from the audit log", async () => {
    const pruned = "cmpruned00000000000000001";
    const deleted = "cmdeleted0000000000000001";
    await audit(db, {
      actor: { type: "system", label: "retention" },
      action: "retention.pruned",
      target: `cmother000000000000000001,${pruned}`,
      details: {
        ids: ["cmother000000000000000001", pruned],
        backups: [
          { id: "cmother000000000000000001", kind: "QUICK", reason: "other" },
          { id: pruned, kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt: "2025-09-01T02:00:00.000Z", sizeBytes: 1234, reason: "older than 30 days and not among the newest 10 successful FULL backups" },
        ],
      },
    });
    await audit(db, { actor: admin, action: "backup.deleted", target: deleted, details: { kind: "FULL", status: "FAILED", sizeBytes: null, createdAt: "2025-10-01T00:00:00.000Z" } });
    expect(await backupTombstone(db, pruned)).toMatchObject({
      how: "pruned",
      by: "retention",
      reason: "older than 30 days and not among the newest 10 successful FULL backups",
      kind: "FULL",
      sizeBytes: 1234,
    });
    expect(await backupTombstone(db, deleted)).toMatchObject({ how: "deleted", by: admin.label, reason: null, status: "FAILED" });
    expect(await backupTombstone(db, "cmnever000000000000000001")).toBeNull();
  });

  it("a safety backup names its restore; the restore list says which backups are gone or cancelled", async () => {
    await sql(url, `DELETE FROM "RestoreJob"`);
    const safety = await job({ status: "CANCELLED", trigger: "PRE_RESTORE", createdAt: "2025-10-05T09:00:00Z", completedAt: "2025-10-05T09:00:01Z" });
    const r = await db.restoreJob.create({
      data: { backupId: "cmgone0000000000000000001", safetyBackupId: safety, status: "FAILED", failureReason: "checksum mismatch: refused" },
    });
    expect(await safetyBackupFor(db, safety)).toMatchObject({ restoreId: r.id, backupId: "cmgone0000000000000000001", restoreStatus: "FAILED", restoreFailureReason: "checksum mismatch: refused" });
    const { restores } = await listRestores(db, { limit: 10, offset: 0 });
    expect(restores[0]).toMatchObject({ id: r.id, backupStatus: null, safetyBackupStatus: "CANCELLED" });
  });

  it("one restore says how far its safety backup has got while it runs, and what became of it after", async () => {
    const restored = await job({ status: "SUCCEEDED", createdAt: "2025-10-05T08:00:00Z", completedAt: "2025-10-05T08:01:00Z" });
    const safety = await job({ status: "RUNNING", trigger: "PRE_RESTORE", createdAt: "2025-10-05T09:30:00Z", completedAt: null });
    await db.backupJob.update({ where: { id: safety }, data: { phase: "dumping", progressBytes: 52_428_800n } });
    const r = await db.restoreJob.create({ data: { backupId: restored, safetyBackupId: safety, status: "RUNNING", phase: "safety backup" } });
    expect(await getRestore(db, r.id)).toMatchObject({
      id: r.id,
      backupStatus: "SUCCEEDED",
      safetyBackupStatus: "RUNNING",
      safetyBackup: { status: "RUNNING", phase: "dumping", progressBytes: 52_428_800 },
    });
    await db.backupJob.update({ where: { id: safety }, data: { status: "SUCCEEDED", phase: null, progressBytes: 60_000_000n } });
    expect((await getRestore(db, r.id)).safetyBackup).toEqual({ status: "SUCCEEDED", phase: null, progressBytes: 60_000_000 });
    // Removed since: null, as in the list; a restore without one has none.
    await db.backupJob.delete({ where: { id: safety } });
    expect(await getRestore(db, r.id)).toMatchObject({ safetyBackupStatus: null, safetyBackup: null });
    const none = await db.restoreJob.create({ data: { backupId: restored, status: "QUEUED" } });
    expect(await getRestore(db, none.id)).toMatchObject({ safetyBackupId: null, safetyBackup: null, backupStatus: "SUCCEEDED" });
  });
});

describe("settings save and the audit log", () => {
  beforeEach(async () => {
    await sql(url, `DELETE FROM "AuditEvent"`);
  });

  it("audits one event per real change with before/after, none for a no-op", async () => {
    const notifications = { ...DEFAULT_SETTINGS.notifications, missedBackupAfterHours: 30 };
    const saved = await saveSettings(db, { notifications, retention: DEFAULT_SETTINGS.retention }, admin, { appDatabaseUrl: null });
    expect(saved.changed).toEqual(["notifications"]);
    expect(saved.nextRuns).toHaveLength(5);
    const again = await saveSettings(db, { notifications }, admin, { appDatabaseUrl: null });
    expect(again.changed).toEqual([]);

    const events = await sql<{ action: string; target: string; details: { changed: Record<string, { before: unknown; after: unknown }> } }>(
      url,
      `SELECT action, target, details FROM "AuditEvent"`,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: "settings.updated", target: "notifications" });
    expect(events[0].details.changed.notifications).toMatchObject({ before: { missedBackupAfterHours: 26 }, after: { missedBackupAfterHours: 30 } });
  });

  it("shows a webhook URL of an earlier release's settings change whole to ADMINs only, in the audit log", async () => {
    // Before notification channels (migration 20261201053000) the URL was a setting and its changes were audited.
    await audit(db, {
      actor: { type: "user", label: "admin" },
      action: "settings.updated",
      target: "notifications",
      details: { changed: { notifications: { before: { webhookUrl: null }, after: { webhookUrl: "https://hooks.example.com/services/T0/B0/OTHER" } } } },
    });
    expect(JSON.stringify(await settingsView(db))).not.toContain("hooks.example.com");

    const q = { limit: 50, offset: 0, action: "settings.updated" };
    expect(JSON.stringify((await listAuditEvents(db, q, true)).events)).toContain("OTHER");
    const asViewer = JSON.stringify((await listAuditEvents(db, q, false)).events);
    expect(asViewer).not.toContain("OTHER");
    expect(asViewer).toContain("https://hooks.example.com/…");
  });

  it("lists newest first, filters by action, action prefix and actor type, and pages", async () => {
    for (const [action, type] of [["backup.created", "user"], ["backup.failed", "system"], ["token.created", "user"], ["backup.succeeded", "system"]] as const) {
      await audit(db, { actor: { type, label: type }, action, target: "x" });
      await new Promise((r) => setTimeout(r, 5));
    }
    const all = await listAuditEvents(db, { limit: 50, offset: 0 }, true);
    expect(all.events.map((e) => e.action)).toEqual(["backup.succeeded", "token.created", "backup.failed", "backup.created"]);
    expect(all.actions).toEqual(["backup.created", "backup.failed", "backup.succeeded", "token.created"]);
    expect((await listAuditEvents(db, { limit: 50, offset: 0, action: "backup.failed" }, true)).total).toBe(1);
    expect((await listAuditEvents(db, { limit: 50, offset: 0, action: "backup.*" }, true)).total).toBe(3);
    expect((await listAuditEvents(db, { limit: 50, offset: 0, actorType: "system" }, true)).events.map((e) => e.action)).toEqual([
      "backup.succeeded",
      "backup.failed",
    ]);
    const page2 = await listAuditEvents(db, { limit: 2, offset: 2 }, true);
    expect(page2).toMatchObject({ total: 4, limit: 2, offset: 2 });
    expect(page2.events.map((e) => e.action)).toEqual(["backup.failed", "backup.created"]);
  });
});
