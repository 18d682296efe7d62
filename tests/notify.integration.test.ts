// Notifications against real loopback servers: an HTTP receiver that checks the HMAC
// signature and can fail on purpose, and an SMTP server (smtp-server) that takes mail.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sendWebhook } from "../lib/notify/webhook";
import { sendEmail } from "../lib/notify/email";
import { notify, type DeliverableChannel, type NotifyResult } from "../lib/notify";
import type { BackupSummary, WebhookPayload } from "../lib/notify/messages";
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

describe("notify (the generic webhook and email channels)", () => {
  const cfg = () => ({ WEBHOOK_SECRET: SECRET, SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.test" });
  const webhook = (url: string): DeliverableChannel => ({ id: "c_webhook", name: "Webhook", kind: "WEBHOOK", options: {}, secrets: { url } });
  const email = (recipients: string[]): DeliverableChannel => ({ id: "c_email", name: "Email", kind: "EMAIL", options: { recipients }, secrets: {} });
  const outcome = (r: NotifyResult, kind: string) => r.deliveries.find((d) => d.kind === kind);

  it("sends a failed backup to the webhook and by email, naming the attempt", async () => {
    const result = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 2, maxAttempts: 3 },
      [webhook(receiver.url), email(["ops@example.test", "OPS@example.test", "dba@example.test"])],
      cfg(),
      { backoffMs: 10, now: new Date("2026-11-21T02:00:05Z") },
    );
    expect(result.skipped).toBeUndefined();
    expect(outcome(result, "WEBHOOK")).toEqual({ channelId: "c_webhook", name: "Webhook", kind: "WEBHOOK", ok: true, attempts: 1, status: 200 });
    expect(outcome(result, "EMAIL")).toMatchObject({ ok: true, attempts: 1 });

    expect(receiver.hooks).toHaveLength(1);
    expect(receiver.hooks[0].signatureValid).toBe(true);
    const payload = JSON.parse(receiver.hooks[0].body) as WebhookPayload;
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

  it("signs with the channel's own secret when it has one, instead of WEBHOOK_SECRET", async () => {
    const own = await startHookReceiver("channel-own-secret");
    try {
      const ch = { ...webhook(own.url), secrets: { url: own.url, signingSecret: "channel-own-secret" } };
      const r = await notify({ type: "backup.succeeded", backup: succeededBackup }, [ch], cfg());
      expect(r.deliveries[0].ok).toBe(true);
      expect(own.hooks[0].signatureValid).toBe(true);
    } finally {
      await own.close();
    }
  });

  it("carries a success's size and duration", async () => {
    const on = await notify({ type: "backup.succeeded", backup: succeededBackup }, [webhook(receiver.url)], cfg());
    expect(on.deliveries[0].ok).toBe(true);
    const payload = JSON.parse(receiver.hooks[0].body) as WebhookPayload;
    expect(payload.text).toBe(":white_check_mark: Vaultline backup succeeded (FULL, manual): 1.2 GiB in 35 s");
    expect(payload.backup).toMatchObject({ size: 1_288_490_189, duration: 35, status: "SUCCEEDED" });
  });

  it("words restore and retention events", async () => {
    const s = [webhook(receiver.url)];
    const restore = { id: "rs1", backupId: "b1", safetyBackupId: "b2", durationSeconds: 12, initiatedBy: "Alice" };
    await notify({ type: "restore.started", restore }, s, cfg());
    await notify({ type: "restore.finished", restore, status: "FAILED", failureReason: "pg_restore: error" }, s, cfg());
    await notify({ type: "retention.pruned", count: 2, bytes: 3 * 1024 ** 3, ids: ["x", "y"] }, s, cfg());
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
      [webhook(`http://127.0.0.1:${port}/hook`), email(["ops@example.test"])],
      { WEBHOOK_SECRET: SECRET, SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_FROM: "vaultline@example.test" },
      { backoffMs: 5 },
    );
    expect(outcome(result, "WEBHOOK")).toMatchObject({ ok: false, attempts: 4 });
    expect(outcome(result, "WEBHOOK")?.error).toMatch(/ECONNREFUSED/);
    expect(outcome(result, "EMAIL")).toMatchObject({ ok: false, attempts: 4 });
    expect(outcome(result, "EMAIL")?.error).toMatch(/ECONNREFUSED/);
  });

  it("reports an email channel without SMTP_URL instead of failing the others", async () => {
    const result = await notify(
      { type: "backup.missed", lastSuccessAt: new Date("2026-11-19T02:00:00Z"), hours: 26 },
      [webhook(receiver.url), email(["ops@example.test"])],
      { SMTP_FROM: "vaultline@example.test" },
    );
    expect(outcome(result, "EMAIL")).toMatchObject({ ok: false, attempts: 0, error: "SMTP_URL is not set and the channel has no SMTP URL" });
    expect(outcome(result, "WEBHOOK")?.ok).toBe(true);
    expect((JSON.parse(receiver.hooks[0].body) as WebhookPayload).missed).toEqual({
      lastSuccessAt: "2026-11-19T02:00:00.000Z",
      hours: 26,
    });
  });

  it("does not throw for an unusable SMTP_URL", async () => {
    const result = await notify(
      { type: "backup.failed", backup: failedBackup, attempt: 1, maxAttempts: 1 },
      [email(["ops@example.test"])],
      { SMTP_URL: "http://127.0.0.1:1/", SMTP_FROM: "vaultline@example.test" },
      { retries: 0 },
    );
    expect(result.deliveries[0].ok).toBe(false);
    expect(result.deliveries[0].error).toMatch(/smtp:\/\//);
  });
});
