// A database of the release before notification channels upgrades with the same
// behaviour: its single webhook (and its email list) become channels routed for exactly
// the events they received before, the webhook still signed with WEBHOOK_SECRET and the
// mail still sent through SMTP_URL, and the moved fields leave the setting.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { startHookReceiver, startSmtp, type HookReceiver } from "./support/receivers";
import { MIGRATIONS_DIR, migrate, readMigrations } from "../lib/migrate";
import { createDb, type Db } from "../lib/db";
import { getSettings } from "../lib/settings";
import { listChannels, notifyRouted } from "../lib/notify/channels";
import type { BackupSummary } from "../lib/notify/messages";

const UPGRADE = "20261201053000_notification_channels";
const SECRET = "whsec-upgrade";
const backup: BackupSummary = { id: "cmbk0up0000000000000001", status: "SUCCEEDED", kind: "FULL", trigger: "SCHEDULED", sizeBytes: 10n, durationSeconds: 1 };

const dbs: string[] = [];
let before: string;
let hooks: HookReceiver;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
const open: Db[] = [];

/** A database at the release before the upgrade, with `notifications` stored as it wrote it (or no row). */
async function oldDatabase(name: string, notifications?: unknown): Promise<{ url: string; db: Db }> {
  const url = await createDatabase(name);
  dbs.push(url);
  await migrate(url, before);
  if (notifications !== undefined) {
    await sql(url, `INSERT INTO "Setting" (key, value, version, "updatedBy", "updatedAt") VALUES ('notifications', $1, 3, 'alice', now())`, [JSON.stringify(notifications)]);
  }
  const applied = await migrate(url);
  expect(applied[0]).toBe(UPGRADE);
  const db = createDb(url);
  open.push(db);
  return { url, db };
}

beforeAll(async () => {
  before = mkdtempSync(path.join(tmpdir(), "vaultline-mig-"));
  const names = readMigrations().map((m) => m.name);
  expect(names).toContain(UPGRADE);
  for (const name of names.slice(0, names.indexOf(UPGRADE))) cpSync(path.join(MIGRATIONS_DIR, name), path.join(before, name), { recursive: true });
  cpSync(path.join(MIGRATIONS_DIR, "migration_lock.toml"), path.join(before, "migration_lock.toml"));
  hooks = await startHookReceiver(SECRET);
  smtp = await startSmtp();
});

afterEach(() => {
  hooks.hooks.length = 0;
  smtp.mails.length = 0;
});

afterAll(async () => {
  for (const db of open) await db.$disconnect();
  for (const url of dbs) await dropDatabase(url);
  rmSync(before, { recursive: true, force: true });
  await hooks.close();
  await smtp.close();
});

describe(`upgrade through ${UPGRADE}`, () => {
  it("turns the webhook and the email list into two channels that receive what they received before", async () => {
    const { url, db } = await oldDatabase("upg-both", {
      webhookUrl: hooks.url,
      emails: ["ops@example.test", "dba@example.test"],
      onSuccess: false,
      onFailure: true,
      missedBackupAfterHours: 30,
    });
    const channels = await listChannels(db);
    const legacy = ["BACKUP_FAILED", "BACKUP_MISSED", "RESTORE_STARTED", "RESTORE_FINISHED", "RETENTION_PRUNED"];
    expect(channels.map((c) => ({ name: c.name, kind: c.kind, enabled: c.enabled, events: c.events, recipients: c.recipients, secretsSet: c.secretsSet }))).toEqual([
      { name: "Webhook", kind: "WEBHOOK", enabled: true, events: legacy, recipients: [], secretsSet: ["url"] },
      { name: "Email", kind: "EMAIL", enabled: true, events: legacy, recipients: ["ops@example.test", "dba@example.test"], secretsSet: [] },
    ]);
    // Ids fit the API's path ids.
    for (const c of channels) expect(c.id).toMatch(/^[a-z0-9]{20,40}$/);

    // The setting keeps only what is still a setting, at the same version.
    expect(await getSettings(db)).toMatchObject({ notifications: { missedBackupAfterHours: 30 } });
    const [row] = await sql<{ value: unknown; version: number }>(url, `SELECT value, version FROM "Setting" WHERE key = 'notifications'`);
    expect(row).toEqual({ value: { missedBackupAfterHours: 30 }, version: 3 });

    // Same behaviour: a failure goes to both, signed with WEBHOOK_SECRET, mail through SMTP_URL; a success to neither.
    const cfg = { WEBHOOK_SECRET: SECRET, SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.test" };
    const failed = await notifyRouted(db, { type: "backup.failed", backup: { ...backup, status: "FAILED", failureReason: "disk full" }, attempt: 1, maxAttempts: 3 }, cfg, { retries: 0 });
    expect(failed.deliveries.map((d) => [d.kind, d.ok])).toEqual([["WEBHOOK", true], ["EMAIL", true]]);
    expect(hooks.hooks[0].signatureValid).toBe(true);
    expect(hooks.hooks[0].payload).toMatchObject({ source: "vaultline", event: "backup.failed", backup: { failureReason: "disk full" } });
    expect(smtp.mails[0].to.sort()).toEqual(["dba@example.test", "ops@example.test"]);
    const ok = await notifyRouted(db, { type: "backup.succeeded", backup }, cfg, { retries: 0 });
    expect(ok.deliveries).toEqual([]);
  });

  it("routes successes too when onSuccess was on, and drops failures when onFailure was off", async () => {
    const { db } = await oldDatabase("upg-flags", { webhookUrl: hooks.url, emails: [], onSuccess: true, onFailure: false, missedBackupAfterHours: 26 });
    const channels = await listChannels(db);
    expect(channels).toHaveLength(1);
    expect(channels[0].events).toEqual(["BACKUP_SUCCEEDED", "BACKUP_MISSED", "RESTORE_STARTED", "RESTORE_FINISHED", "RETENTION_PRUNED"]);
  });

  it("reads a row written before onSuccess/onFailure existed with their defaults (failures on, successes off)", async () => {
    const { db } = await oldDatabase("upg-partial", { emails: ["ops@example.test"] });
    const [email] = await listChannels(db);
    expect(email).toMatchObject({ kind: "EMAIL", events: ["BACKUP_FAILED", "BACKUP_MISSED", "RESTORE_STARTED", "RESTORE_FINISHED", "RETENTION_PRUNED"] });
    expect(await getSettings(db)).toMatchObject({ notifications: { missedBackupAfterHours: 26 } });
  });

  it("makes no channel from an empty or absent setting", async () => {
    const empty = await oldDatabase("upg-empty", { webhookUrl: null, emails: [], onSuccess: false, onFailure: true, missedBackupAfterHours: 26 });
    expect(await listChannels(empty.db)).toEqual([]);
    expect(await getSettings(empty.db)).toMatchObject({ notifications: { missedBackupAfterHours: 26 } });
    const none = await oldDatabase("upg-none");
    expect(await listChannels(none.db)).toEqual([]);
  });
});
