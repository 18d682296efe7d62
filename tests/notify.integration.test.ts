// Notifications against real loopback servers: an HTTP receiver that checks the HMAC
// signature and can fail on purpose, and an SMTP server (smtp-server) that takes mail.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sendWebhook } from "../lib/notify/webhook";
import { sendEmail } from "../lib/notify/email";
import { notify } from "../lib/notify";
import type { BackupSummary, WebhookPayload } from "../lib/notify/messages";
import { DEFAULT_SETTINGS, type NotificationSettings } from "../lib/validation/settings";
import { closedPort, parseMail, startHookReceiver, startSmtp, type HookReceiver } from "./support/receivers";

const SECRET = "whsec-test-3f9a";

const failedBackup: BackupSummary = {
  id: "cmbk0failed000000000001",
  status: "FAILED",
  kind: "FULL",
  trigger: "SCHEDULED",
  sizeBytes: null,
  durationSeconds: 4.2,
  failureReason: "pg_dump: connection refused",
  createdAt: new Date("2026-11-21T02:00:00Z"),
  completedAt: new Date("2026-11-21T02:00:04Z"),
};

const succeededBackup: BackupSummary = {
  id: "cmbk0ok00000000000000002",
  status: "SUCCEEDED",
  kind: "FULL",
  trigger: "MANUAL",
  sizeBytes: 1_288_490_189n,
  durationSeconds: 35,
  failureReason: null,
  createdAt: new Date("2026-11-21T09:00:00Z"),
  completedAt: new Date("2026-11-21T09:00:35Z"),
};

const settingsFor = (over: Partial<NotificationSettings>): NotificationSettings => ({
  ...DEFAULT_SETTINGS.notifications,
  ...over,
});

let receiver: HookReceiver;
let smtp: Awaited<ReturnType<typeof startSmtp>>;

beforeAll(async () => {
  receiver = await startHookReceiver(SECRET, { path: "/hooks/T000/B000/secret-path" });
  smtp = await startSmtp();
});

afterAll(async () => {
  await receiver.close();
  await smtp.close();
});

afterEach(() => {
  receiver.hooks.length = 0;
  receiver.failFirst = 0;
  receiver.status = 200;
  receiver.hang = false;
  smtp.mails.length = 0;
});

describe("sendWebhook", () => {
  it("POSTs the payload as JSON, signed with the HMAC of timestamp.body", async () => {
    const payload = { text: "hello", n: 1, nested: { ok: true } };
    const r = await sendWebhook(receiver.url, payload, { secret: SECRET, backoffMs: 10 });
    expect(r).toEqual({ ok: true, attempts: 1, status: 200 });
    expect(receiver.hooks).toHaveLength(1);
    const req = receiver.hooks[0];
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["x-vaultline-signature"]).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(req.headers["x-vaultline-timestamp"]).toMatch(/^\d{10}$/);
    expect(req.signatureValid).toBe(true);
    expect(JSON.parse(req.body)).toEqual(payload);
  });

  it("sends no signature headers without a secret", async () => {
    const r = await sendWebhook(receiver.url, { text: "x" }, { backoffMs: 10 });
    expect(r.ok).toBe(true);
    expect(receiver.hooks[0].headers["x-vaultline-signature"]).toBeUndefined();
    expect(receiver.hooks[0].headers["x-vaultline-timestamp"]).toBeUndefined();
  });

  it("retries 5xx with growing backoff and succeeds, every attempt validly signed", async () => {
    receiver.failFirst = 2;
    const r = await sendWebhook(receiver.url, { text: "retry me" }, { secret: SECRET, backoffMs: 60 });
    expect(r).toEqual({ ok: true, attempts: 3, status: 200 });
    expect(receiver.hooks).toHaveLength(3);
    expect(receiver.hooks.every((q) => q.signatureValid === true)).toBe(true);
    const [a, b, c] = receiver.hooks.map((q) => q.at);
    expect(b - a).toBeGreaterThanOrEqual(55);
    expect(c - b).toBeGreaterThanOrEqual(115);
  });

  it("gives up after 1 + retries attempts and reports the last status", async () => {
    receiver.failFirst = 100;
    const r = await sendWebhook(receiver.url, { text: "never" }, { secret: SECRET, retries: 3, backoffMs: 5 });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBe(4);
    expect(r.status).toBe(500);
    expect(r.error).toBe("HTTP 500: boom");
    expect(receiver.hooks).toHaveLength(4);
  });

  it("does not retry a 4xx the receiver means", async () => {
    receiver.status = 404;
    const r = await sendWebhook(receiver.url, { text: "gone" }, { retries: 3, backoffMs: 5 });
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 404 });
    expect(receiver.hooks).toHaveLength(1);
  });

  it("times out a hung receiver per attempt and retries", async () => {
    receiver.hang = true;
    const started = Date.now();
    const r = await sendWebhook(receiver.url, { text: "slow" }, { retries: 1, backoffMs: 5, timeoutMs: 250 });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBe(2);
    expect(r.error).toBe("timed out after 250 ms");
    expect(receiver.hooks).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("reports a refused connection without throwing", async () => {
    const port = await closedPort();
    const r = await sendWebhook(`http://127.0.0.1:${port}/x`, { text: "x" }, { retries: 2, backoffMs: 5 });
    expect(r.ok).toBe(false);
    expect(r.attempts).toBe(3);
    expect(r.error).toMatch(/ECONNREFUSED/);
  });
});

describe("sendEmail", () => {
  it("delivers to every recipient over real SMTP with subject and body", async () => {
    const r = await sendEmail(
      smtp.url,
      "vaultline@example.test",
      ["ops@example.test", "dba@example.test"],
      "[Vaultline] test subject",
      "line one\nline two",
    );
    expect(r.accepted.sort()).toEqual(["dba@example.test", "ops@example.test"]);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0];
    expect(mail.from).toBe("vaultline@example.test");
    expect(mail.to.sort()).toEqual(["dba@example.test", "ops@example.test"]);
    const { headers, body } = parseMail(mail.raw);
    expect(headers.subject).toBe("[Vaultline] test subject");
    expect(body.trim()).toBe("line one\nline two");
  });

  it("takes nodemailer options from the URL (ignoreTLS)", async () => {
    await sendEmail(`${smtp.url}?ignoreTLS=true`, "vaultline@example.test", ["ops@example.test"], "s", "b");
    expect(smtp.mails).toHaveLength(1);
  });

  it("throws when the SMTP server is unreachable", async () => {
    const port = await closedPort();
    await expect(
      sendEmail(`smtp://127.0.0.1:${port}`, "vaultline@example.test", ["ops@example.test"], "s", "b"),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("notify", () => {
  const cfg = () => ({ WEBHOOK_SECRET: SECRET, SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.test" });

  it("sends a failed backup to the webhook and by email, naming the attempt", async () => {
    const result = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 2, maxAttempts: 3 },
      settingsFor({ webhookUrl: receiver.url, emails: ["ops@example.test", "OPS@example.test", "dba@example.test"] }),
      cfg(),
      { backoffMs: 10, now: new Date("2026-11-21T02:00:05Z") },
    );
    expect(result.skipped).toBeUndefined();
    expect(result.webhook).toEqual({ ok: true, attempts: 1, status: 200 });
    expect(result.email?.ok).toBe(true);

    expect(receiver.hooks).toHaveLength(1);
    expect(receiver.hooks[0].signatureValid).toBe(true);
    const payload = JSON.parse(receiver.hooks[0].body) as WebhookPayload;
    // The example in the hand-off report is this payload.
    console.log(`example webhook payload:\n${JSON.stringify(payload, null, 2)}`);
    expect(payload).toEqual({
      text: ":x: Vaultline backup FAILED (FULL, scheduled, attempt 2 of 3): pg_dump: connection refused",
      source: "vaultline",
      event: "backup.failed",
      occurredAt: "2026-11-21T02:00:05.000Z",
      backup: {
        id: failedBackup.id,
        status: "FAILED",
        kind: "FULL",
        trigger: "SCHEDULED",
        size: null,
        duration: 4.2,
        failureReason: "pg_dump: connection refused",
        commitSha: null,
        createdAt: "2026-11-21T02:00:00.000Z",
        completedAt: "2026-11-21T02:00:04.000Z",
      },
      attempt: 2,
      maxAttempts: 3,
    });

    // Duplicate addresses (by case) receive one copy.
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].to.sort()).toEqual(["dba@example.test", "ops@example.test"]);
    const { headers, body } = parseMail(smtp.mails[0].raw);
    expect(headers.subject).toBe("[Vaultline] Backup FAILED (FULL, scheduled, attempt 2 of 3)");
    expect(body).toContain("Vaultline backup FAILED (FULL, scheduled, attempt 2 of 3): pg_dump: connection refused");
    expect(body).toContain(`Backup:   ${failedBackup.id}`);
    expect(body).toContain("Vaultline will try again.");
  });

  it("sends a success only when onSuccess is on", async () => {
    const event = { type: "backup.succeeded" as const, backup: succeededBackup };
    const off = await notify(event, settingsFor({ webhookUrl: receiver.url, onSuccess: false }), cfg());
    expect(off.skipped).toBe("onSuccess is off");
    expect(receiver.hooks).toHaveLength(0);

    const on = await notify(event, settingsFor({ webhookUrl: receiver.url, onSuccess: true }), cfg());
    expect(on.webhook?.ok).toBe(true);
    const payload = JSON.parse(receiver.hooks[0].body) as WebhookPayload;
    expect(payload.text).toBe(":white_check_mark: Vaultline backup succeeded (FULL, manual): 1.2 GiB in 35 s");
    expect(payload.backup).toMatchObject({ size: 1_288_490_189, duration: 35, status: "SUCCEEDED" });
  });

  it("drops failures when onFailure is off", async () => {
    const r = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 3, maxAttempts: 3 },
      settingsFor({ webhookUrl: receiver.url, emails: ["ops@example.test"], onFailure: false }),
      cfg(),
    );
    expect(r.skipped).toBe("onFailure is off");
    expect(receiver.hooks).toHaveLength(0);
    expect(smtp.mails).toHaveLength(0);
  });

  it("sends restore and retention events regardless of onSuccess/onFailure", async () => {
    const s = settingsFor({ webhookUrl: receiver.url, onSuccess: false, onFailure: false });
    const restore = { id: "rs1", backupId: "b1", safetyBackupId: "b2", durationSeconds: 12, initiatedBy: "Alice" };
    await notify({ type: "restore.started", restore }, s, cfg());
    await notify({ type: "restore.finished", restore, status: "FAILED", failureReason: "pg_restore: error" }, s, cfg());
    await notify({ type: "retention.pruned", count: 2, bytes: 3 * 1024 ** 3, ids: ["x", "y"] }, s, cfg());
    await notify({ type: "retention.pruned", count: 0, bytes: 0, ids: [] }, s, cfg());
    const texts = receiver.hooks.map((q) => (JSON.parse(q.body) as WebhookPayload).text);
    expect(texts).toEqual([
      ":rotating_light: Vaultline restore started from backup b1 by Alice (safety backup b2)",
      ":x: Vaultline restore from backup b1 FAILED: pg_restore: error",
      ":wastebasket: Vaultline retention pruned 2 backups (3 GiB)",
    ]);
  });

  it("does not throw when the webhook and SMTP server are both down", async () => {
    const port = await closedPort();
    const result = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 1, maxAttempts: 3 },
      settingsFor({ webhookUrl: `http://127.0.0.1:${port}/hook`, emails: ["ops@example.test"] }),
      { WEBHOOK_SECRET: SECRET, SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: "vaultline@example.test" },
      { backoffMs: 5 },
    );
    expect(result.webhook).toMatchObject({ ok: false, attempts: 4 });
    expect(result.webhook?.error).toMatch(/ECONNREFUSED/);
    expect(result.email).toMatchObject({ ok: false });
    expect(result.email?.error).toMatch(/ECONNREFUSED/);
  });

  it("reports email configured without SMTP_URL instead of failing", async () => {
    const result = await notify(
      { type: "backup.missed", lastSuccessAt: new Date("2026-11-19T02:00:00Z"), hours: 26 },
      settingsFor({ webhookUrl: receiver.url, emails: ["ops@example.test"] }),
      { SMTP_FROM: "vaultline@example.test" },
    );
    expect(result.email).toEqual({ ok: false, error: "SMTP_URL is not set" });
    expect(result.webhook?.ok).toBe(true);
    expect((JSON.parse(receiver.hooks[0].body) as WebhookPayload).missed).toEqual({
      lastSuccessAt: "2026-11-19T02:00:00.000Z",
      hours: 26,
    });
  });

  it("does not throw for an unusable SMTP_URL", async () => {
    const result = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 1, maxAttempts: 1 },
      settingsFor({ emails: ["ops@example.test"] }),
      { SMTP_URL: "http://127.0.0.1:1/", SMTP_FROM: "vaultline@example.test" },
    );
    expect(result.email?.ok).toBe(false);
    expect(result.email?.error).toMatch(/smtp:\/\//);
  });
});
