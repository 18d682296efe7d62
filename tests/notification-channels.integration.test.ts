// Notification channels against real loopback receivers: each service's native payload
// (Slack blocks, Discord embed within its limits, Teams Workflows Adaptive Card, ntfy
// headers and text, the signed generic JSON, email), routing (an event reaches only the
// channels routed for it), delivery health (a channel that keeps failing shows it, and
// one slow channel does not hold up the others), "Send test" with its rate limit, and
// secrets that never come back out (API view, audit log, logs).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createMigratedDatabase, dropDatabase } from "./support/vitest-env";
import { startHookReceiver, startSmtp, type HookReceiver } from "./support/receivers";
import { setChannels } from "./support/channels";
import { createDb, type Db } from "../lib/db";
import { SYSTEM } from "../lib/audit";
import { channelView, listChannels, notifyRouted, testChannel, updateChannel, createChannel } from "../lib/notify/channels";
import { DISCORD_LIMITS } from "../lib/notify/formats";
import type { BackupSummary } from "../lib/notify/messages";
import type { NotifyConfig } from "../lib/notify";
import { createChannelSchema } from "../lib/validation/notification-channels";
import { channelSchema } from "../lib/openapi/notification-channels";
import { announceGateDecision } from "../lib/notify/announce";

const NOW = new Date("2026-11-21T02:00:05Z");
const failed: BackupSummary = {
  id: "cmbk0failed000000000001",
  status: "FAILED",
  kind: "FULL",
  trigger: "SCHEDULED",
  sizeBytes: null,
  durationSeconds: 4.2,
  failureReason: "pg_dump: connection to server failed: FATAL: password authentication failed for user \"app\"",
  createdAt: new Date("2026-11-21T02:00:00Z"),
  completedAt: new Date("2026-11-21T02:00:04Z"),
};
const failedEvent = { type: "backup.failed" as const, backup: failed, attempt: 3, maxAttempts: 3 };

let url: string;
let db: Db;
let slack: HookReceiver;
let discord: HookReceiver;
let teams: HookReceiver;
let ntfy: HookReceiver;
let generic: HookReceiver;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let cfg: NotifyConfig;
const receivers = () => [slack, discord, teams, ntfy, generic];

beforeAll(async () => {
  url = await createMigratedDatabase("channels");
  db = createDb(url);
  slack = await startHookReceiver(undefined, { path: "/services/T000/B000/slacksecretpath" });
  discord = await startHookReceiver(undefined, { path: "/api/webhooks/123/discordsecrettoken", status: 204 });
  // Workflows answers 202 Accepted.
  teams = await startHookReceiver(undefined, { path: "/workflows/abc/triggers/manual/paths/invoke?sig=teamssig", status: 202 });
  ntfy = await startHookReceiver(undefined, { path: "/vaultline-backups-x7" });
  generic = await startHookReceiver("channel-signing-secret", { path: "/hooks/generic" });
  smtp = await startSmtp();
  cfg = { SMTP_URL: smtp.url, SMTP_FROM: "vaultline@example.test" };
});

afterAll(async () => {
  await db.$disconnect();
  for (const r of receivers()) await r.close();
  await smtp.close();
  await dropDatabase(url);
});

afterEach(() => {
  for (const r of receivers()) {
    r.hooks.length = 0;
    r.failFirst = 0;
    r.hang = false;
  }
  slack.status = 200;
  smtp.mails.length = 0;
});

const all = (events: string[]) => [
  { kind: "SLACK", name: "Slack #ops", url: slack.url, events },
  { kind: "DISCORD", name: "Discord", url: discord.url, events },
  { kind: "TEAMS", name: "Teams", url: teams.url, events },
  { kind: "NTFY", name: "ntfy", url: ntfy.url, token: "tk_ntfysecrettoken", events },
  { kind: "WEBHOOK", name: "Generic", url: generic.url, signingSecret: "channel-signing-secret", events },
  { kind: "EMAIL", name: "On-call mail", recipients: ["oncall@example.test"], events },
];

describe("native formats, checked by the receivers", () => {
  it("sends one failed backup to six channels at once, each in its own format", async () => {
    await setChannels(db, all(["BACKUP_FAILED"]));
    const r = await notifyRouted(db, failedEvent, cfg, { now: NOW, retries: 0 });
    expect(r.deliveries.map((d) => [d.kind, d.ok, d.status ?? null])).toEqual([
      ["SLACK", true, 200],
      ["DISCORD", true, 204],
      ["TEAMS", true, 202],
      ["NTFY", true, 200],
      ["WEBHOOK", true, 200],
      ["EMAIL", true, null],
    ]);

    // Slack: incoming-webhook JSON, fallback text + Block Kit.
    expect(slack.hooks).toHaveLength(1);
    expect(slack.hooks[0].headers["content-type"]).toBe("application/json");
    expect(JSON.parse(slack.hooks[0].body)).toEqual({
      text: ':x: Vaultline backup FAILED (FULL, scheduled, attempt 3 of 3): pg_dump: connection to server failed: FATAL: password authentication failed for user "app"',
      blocks: [
        { type: "header", text: { type: "plain_text", text: "Backup FAILED (FULL, scheduled, attempt 3 of 3)", emoji: true } },
        { type: "section", text: { type: "mrkdwn", text: ':x: Vaultline backup FAILED (FULL, scheduled, attempt 3 of 3): pg_dump: connection to server failed: FATAL: password authentication failed for user "app"' } },
        {
          type: "section",
          fields: [
            { type: "mrkdwn", text: `*Backup*\n${failed.id}` },
            { type: "mrkdwn", text: "*Kind*\nFULL" },
            { type: "mrkdwn", text: "*Trigger*\nscheduled" },
            { type: "mrkdwn", text: "*Status*\nFAILED" },
            { type: "mrkdwn", text: "*Size*\nunknown size" },
            { type: "mrkdwn", text: "*Duration*\n4.2 s" },
            { type: "mrkdwn", text: "*Started*\n2026-11-21T02:00:00.000Z" },
          ],
        },
        { type: "section", text: { type: "mrkdwn", text: '```pg_dump: connection to server failed: FATAL: password authentication failed for user "app"```' } },
        { type: "context", elements: [{ type: "mrkdwn", text: "Vaultline · backup.failed · 2026-11-21T02:00:05.000Z" }] },
      ],
    });

    // Discord: content + one embed, red, with fields, no mentions.
    const d = JSON.parse(discord.hooks[0].body);
    expect(Object.keys(d).sort()).toEqual(["allowed_mentions", "content", "embeds"]);
    expect(d.allowed_mentions).toEqual({ parse: [] });
    expect(d.content).toBe('Vaultline backup FAILED (FULL, scheduled, attempt 3 of 3): pg_dump: connection to server failed: FATAL: password authentication failed for user "app"');
    expect(d.embeds).toHaveLength(1);
    expect(d.embeds[0]).toMatchObject({ title: "Backup FAILED (FULL, scheduled, attempt 3 of 3)", color: 0xd92d20, footer: { text: "Vaultline" }, timestamp: "2026-11-21T02:00:05.000Z" });
    expect(d.embeds[0].fields).toContainEqual({ name: "Backup", value: failed.id, inline: true });
    expect(d.embeds[0].description).toContain("password authentication failed");

    // Teams (Workflows): a message with one Adaptive Card attachment.
    const t = JSON.parse(teams.hooks[0].body);
    expect(t).toMatchObject({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null }] });
    expect(t.attachments).toHaveLength(1);
    const card = t.attachments[0].content;
    expect(card).toMatchObject({ $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4" });
    expect(card.body[0]).toEqual({ type: "TextBlock", text: "Backup FAILED (FULL, scheduled, attempt 3 of 3)", weight: "Bolder", size: "Medium", color: "Attention", wrap: true });
    expect(card.body.find((b: { type: string }) => b.type === "FactSet").facts).toContainEqual({ title: "Backup", value: failed.id });

    // ntfy: plain text to the topic URL, metadata in headers, bearer token.
    const n = ntfy.hooks[0];
    expect(n.method).toBe("POST");
    expect(n.headers.title).toBe("Backup FAILED (FULL, scheduled, attempt 3 of 3)");
    expect(n.headers.priority).toBe("5");
    expect(n.headers.tags).toBe("rotating_light,vaultline");
    expect(n.headers.authorization).toBe("Bearer tk_ntfysecrettoken");
    expect(n.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(n.body.split("\n")[0]).toBe('Vaultline backup FAILED (FULL, scheduled, attempt 3 of 3): pg_dump: connection to server failed: FATAL: password authentication failed for user "app"');
    expect(n.body).toContain(`Backup: ${failed.id}`);

    // The generic webhook: today's payload, signed with the channel's secret.
    expect(generic.hooks[0].signatureValid).toBe(true);
    expect(JSON.parse(generic.hooks[0].body)).toMatchObject({ source: "vaultline", event: "backup.failed", attempt: 3, maxAttempts: 3, backup: { id: failed.id } });

    // Email: subject and plain body.
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0].to).toEqual(["oncall@example.test"]);
    expect(smtp.mails[0].subject).toBe("[Vaultline] Backup FAILED (FULL, scheduled, attempt 3 of 3)");
    expect(smtp.mails[0].body).toContain("This was the last attempt; no further retries.");
  });

  it("keeps Discord within its limits for a huge failure reason, and ntfy's header readable for non-ASCII", async () => {
    await setChannels(db, all(["BACKUP_FAILED"]).filter((c) => c.kind === "DISCORD" || c.kind === "NTFY"));
    const reason = `pg_dump: error: ${"x".repeat(9000)} — schéma « ventes »`;
    const r = await notifyRouted(db, { ...failedEvent, backup: { ...failed, failureReason: reason, commitSha: "ü".repeat(10) } }, cfg, { retries: 0 });
    expect(r.deliveries.every((x) => x.ok)).toBe(true);
    const d = JSON.parse(discord.hooks[0].body);
    expect([...d.content].length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    const e = d.embeds[0];
    const total = [e.title, e.description, e.footer.text, ...e.fields.flatMap((f: { name: string; value: string }) => [f.name, f.value])].join("");
    expect([...total].length).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect([...e.description].length).toBeLessThanOrEqual(DISCORD_LIMITS.description);
    expect(e.description.endsWith("…")).toBe(true);

    await setChannels(db, all(["RESTORE_FINISHED"]).filter((c) => c.kind === "NTFY"));
    await notifyRouted(db, { type: "restore.finished", restore: { id: "r1", backupId: "bü1" }, status: "SUCCEEDED" }, cfg, { retries: 0 });
    const title = ntfy.hooks.at(-1)!.headers.title as string;
    expect(title).toMatch(/^=\?UTF-8\?B\?/);
    expect(Buffer.from(title.slice(10, -2), "base64").toString("utf8")).toBe("Restore finished from backup bü1");
    expect(ntfy.hooks.at(-1)!.headers.priority).toBe("2");
  });
});

describe("routing", () => {
  it("sends an event only to the enabled channels routed for it", async () => {
    await setChannels(db, [
      { kind: "SLACK", name: "failures", url: slack.url, events: ["BACKUP_FAILED", "DRILL_FAILED"] },
      { kind: "DISCORD", name: "successes", url: discord.url, events: ["BACKUP_SUCCEEDED"] },
      { kind: "TEAMS", name: "failures, disabled", url: teams.url, events: ["BACKUP_FAILED"], enabled: false },
      { kind: "NTFY", name: "deploys", url: ntfy.url, events: ["DEPLOY_BLOCKED"] },
    ]);
    const r = await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    expect(r.deliveries.map((x) => x.name)).toEqual(["failures"]);
    expect(slack.hooks).toHaveLength(1);
    expect(discord.hooks.length + teams.hooks.length + ntfy.hooks.length).toBe(0);

    await notifyRouted(db, { type: "drill.failed", drill: { id: "dr1", backupId: "b1", trigger: "SCHEDULED", failureReason: "row counts differ: public.orders", recoverySeconds: null } }, cfg, { retries: 0 });
    expect(slack.hooks).toHaveLength(2);
    expect(JSON.parse(slack.hooks[1].body).text).toBe(":x: Vaultline restore drill FAILED of backup b1: row counts differ: public.orders");

    await notifyRouted(db, { type: "deploy.blocked", commitSha: "abc1234", reasons: ["no FULL backup in the last 60 minutes"], actor: "ci" }, cfg, { retries: 0 });
    expect(ntfy.hooks).toHaveLength(1);
    expect(ntfy.hooks[0].headers.title).toBe("Deploy of abc1234 blocked");
    expect(slack.hooks).toHaveLength(2);

    const none = await notifyRouted(db, { type: "retention.pruned", count: 2, bytes: 10, ids: ["a", "b"] }, cfg);
    expect(none).toEqual({ event: "retention.pruned", skipped: "no channel is routed for this event", deliveries: [] });
  });
});

describe("the gate's refusal", () => {
  it("is announced to channels routed for DEPLOY_BLOCKED, an allowed deploy is not", async () => {
    await setChannels(db, [{ kind: "NTFY", name: "deploys", url: ntfy.url, events: ["DEPLOY_BLOCKED"] }]);
    expect(await announceGateDecision({ db }, { allowed: true, reasons: [] }, "abc1234", "ci", cfg)).toBeNull();
    const r = await announceGateDecision({ db }, { allowed: false, reasons: ["no FULL backup in the last 60 minutes", "schema drift: 1 table"] }, "abc1234", "ci (admin@example.test)", cfg);
    expect(r?.deliveries).toMatchObject([{ name: "deploys", ok: true }]);
    expect(ntfy.hooks).toHaveLength(1);
    expect(ntfy.hooks[0].headers).toMatchObject({ title: "Deploy of abc1234 blocked", priority: "5" });
    expect(ntfy.hooks[0].body).toContain("- no FULL backup in the last 60 minutes\n- schema drift: 1 table");
  });
});

describe("delivery health", () => {
  it("records failures in a row and the last error, clears them on the next success, and names no secret", async () => {
    const [ch] = await setChannels(db, [{ kind: "SLACK", name: "flaky", url: slack.url, events: ["BACKUP_FAILED"] }]);
    slack.status = 404;
    for (let i = 0; i < 3; i++) await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    let [v] = await listChannels(db);
    expect(v.health).toMatchObject({ consecutiveFailures: 3, failing: true, lastSuccessAt: null, lastError: "HTTP 404: no" });
    expect(v.health.lastFailureAt).toBeInstanceOf(Date);
    slack.status = 200;
    await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    [v] = await listChannels(db);
    expect(v.health).toMatchObject({ consecutiveFailures: 0, failing: false, lastError: "HTTP 404: no" });
    expect(v.health.lastSuccessAt).toBeInstanceOf(Date);
    expect(v.id).toBe(ch.id);
  });

  it("retries a 5xx with backoff before calling it failed", async () => {
    await setChannels(db, [{ kind: "DISCORD", name: "retry", url: discord.url, events: ["BACKUP_FAILED"] }]);
    discord.failFirst = 2;
    const r = await notifyRouted(db, failedEvent, cfg, { retries: 3, backoffMs: 10 });
    expect(r.deliveries[0]).toMatchObject({ ok: true, attempts: 3, status: 204 });
    expect(discord.hooks).toHaveLength(3);
  });

  it("one hung channel does not delay the others' delivery or their record", async () => {
    await setChannels(db, [
      { kind: "TEAMS", name: "hung", url: teams.url, events: ["BACKUP_FAILED"] },
      { kind: "SLACK", name: "quick", url: slack.url, events: ["BACKUP_FAILED"] },
    ]);
    teams.hang = true;
    const started = Date.now();
    const pending = notifyRouted(db, failedEvent, cfg, { retries: 0, timeoutMs: 3000 });
    // The quick channel is delivered and recorded while the hung one is still waiting.
    await expect
      .poll(async () => (await listChannels(db)).find((c) => c.name === "quick")?.health.lastSuccessAt ?? null, { timeout: 2500, interval: 100 })
      .not.toBeNull();
    expect(Date.now() - started).toBeLessThan(2500);
    const r = await pending;
    expect(r.deliveries.find((x) => x.name === "hung")).toMatchObject({ ok: false, error: "timed out after 3000 ms" });
    expect((await listChannels(db)).find((c) => c.name === "hung")?.health.failing).toBe(true);
  });
});

describe("secrets", () => {
  it("never come back: not in the view, not in the audit log, not in a recorded error", async () => {
    const secretPath = "/services/T000/B000/slacksecretpath";
    const [ch] = await setChannels(db, [
      { kind: "SLACK", name: "s", url: slack.url, events: ["BACKUP_FAILED"] },
      { kind: "NTFY", name: "n", url: ntfy.url, token: "tk_ntfysecrettoken", events: ["BACKUP_FAILED"] },
      { kind: "EMAIL", name: "m", recipients: ["a@example.test"], smtpUrl: "smtp://user:mailpassw0rd@127.0.0.1:1", events: [] },
    ]);
    expect(ch.destination).toBe(`${new URL(slack.url).origin}/…`);
    const views = await listChannels(db);
    // The view is exactly the documented shape (no extra fields).
    for (const v of views) expect(channelSchema.strict().parse(JSON.parse(JSON.stringify(v)))).toBeTruthy();
    expect(views.map((v) => v.secretsSet)).toEqual([["url"], ["token", "url"], ["smtpUrl"]]);
    const rows = await db.auditEvent.findMany({ where: { action: { startsWith: "notification-channel." } } });
    const visible = JSON.stringify({ views, rows });
    for (const secret of [secretPath, "slacksecretpath", "tk_ntfysecrettoken", "mailpassw0rd", "vaultline-backups-x7"]) expect(visible).not.toContain(secret);

    // A receiver that echoes its URL in an error: the recorded error does not carry it.
    const echo = await startHookReceiver(undefined, { path: "/api/webhooks/9/echo-token-123", status: 400, errorBody: "bad request to /api/webhooks/9/echo-token-123" });
    try {
      const [e] = await setChannels(db, [{ kind: "DISCORD", name: "echo", url: echo.url, events: ["BACKUP_FAILED"] }]);
      const r = await notifyRouted(db, failedEvent, cfg, { retries: 0 });
      expect(r.deliveries[0].error).toBe("HTTP 400: bad request to /[secret]");
      expect((await listChannels(db)).find((c) => c.id === e.id)?.health.lastError).toBe("HTTP 400: bad request to /[secret]");
    } finally {
      await echo.close();
    }
  });

  it("an update keeps an omitted secret, replaces a given one and clears a null one", async () => {
    const created = await createChannel(db, createChannelSchema.parse({ kind: "NTFY", name: "ntfy-upd", url: ntfy.url, token: "tk_old", events: ["BACKUP_FAILED"] }), SYSTEM);
    const renamed = await updateChannel(db, created.id, { name: "ntfy-renamed", events: ["BACKUP_FAILED", "BACKUP_MISSED"] }, SYSTEM);
    expect(renamed.secretsSet).toEqual(["token", "url"]);
    await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    expect(ntfy.hooks.at(-1)!.headers.authorization).toBe("Bearer tk_old");
    await updateChannel(db, created.id, { token: "tk_new" }, SYSTEM);
    await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    expect(ntfy.hooks.at(-1)!.headers.authorization).toBe("Bearer tk_new");
    const cleared = await updateChannel(db, created.id, { token: null }, SYSTEM);
    expect(cleared.secretsSet).toEqual(["url"]);
    await notifyRouted(db, failedEvent, cfg, { retries: 0 });
    expect(ntfy.hooks.at(-1)!.headers.authorization).toBeUndefined();
    await expect(updateChannel(db, created.id, { recipients: ["x@example.test"] }, SYSTEM)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(updateChannel(db, created.id, { signingSecret: "s" }, SYSTEM)).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const audited = JSON.stringify(await db.auditEvent.findMany({ where: { target: created.id } }));
    expect(audited).not.toContain("tk_old");
    expect(audited).not.toContain("tk_new");
    expect(audited).toContain('"secretsChanged":["token"]');
  });
});

describe("Send test", () => {
  it("answers the receiver's status, records it, and allows one test per channel every few seconds", async () => {
    const [ok] = await setChannels(db, [
      { kind: "TEAMS", name: "teams-ok", url: teams.url, events: [] },
      { kind: "SLACK", name: "slack-gone", url: slack.url, events: [] },
    ]);
    const now = new Date();
    const r = await testChannel(db, ok.id, cfg, { type: "user", id: "u1", label: "alice@example.test" }, { now });
    expect(r).toMatchObject({ ok: true, attempts: 1, status: 202, error: null });
    expect(r.channel.health.lastSuccessAt).not.toBeNull();
    const card = JSON.parse(teams.hooks[0].body).attachments[0].content;
    expect(card.body[0].text).toBe("Test notification (teams-ok)");
    await expect(testChannel(db, ok.id, cfg, SYSTEM, { now: new Date(now.getTime() + 1000) })).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(teams.hooks).toHaveLength(1);
    expect((await testChannel(db, ok.id, cfg, SYSTEM, { now: new Date(now.getTime() + 6000) })).ok).toBe(true);

    const gone = (await listChannels(db)).find((c) => c.name === "slack-gone")!;
    slack.status = 410;
    const bad = await testChannel(db, gone.id, cfg, SYSTEM);
    expect(bad).toMatchObject({ ok: false, attempts: 1, status: 410, error: "HTTP 410: no" });
    expect(bad.channel.health).toMatchObject({ failing: true, consecutiveFailures: 1, lastError: "HTTP 410: no" });
    expect(slack.hooks).toHaveLength(1);
    expect(await db.auditEvent.count({ where: { action: "notification-channel.tested" } })).toBeGreaterThanOrEqual(3);
  });

  it("is a 404 for a channel that does not exist", async () => {
    await expect(testChannel(db, "cm000000000000000000000000", cfg, SYSTEM)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("the view", () => {
  it("marks a channel failing after one failed delivery and shows recipients for email", async () => {
    const row = await db.notificationChannel.create({ data: { name: "v", kind: "EMAIL", events: [], options: { recipients: ["a@example.test"] }, secrets: {}, consecutiveFailures: 1 } });
    expect(channelView(row)).toMatchObject({ destination: null, recipients: ["a@example.test"], secretsSet: [], health: { failing: true } });
  });
});
