// Sends one event to a set of channels, each in its own format, all at once: a slow or
// dead channel never delays the others. A notification is never worth a failed backup or
// restore: nothing here throws; each channel's outcome is reported (and recorded by
// lib/notify/channels.ts). Logs name the channel and the receiver's origin, never a URL's
// path (Slack, Discord and Teams keep the credential there) nor a token.
import type { Config } from "../config";
import { componentLogger } from "../log";
import type { NotificationChannelKind } from "../validation/notification-channels";
import { sendEmail } from "./email";
import { discordPayload, ntfyRequest, slackPayload, teamsPayload } from "./formats";
import { backupEventMessage, type NotificationMessage, type NotifyEvent } from "./messages";
import { postWithRetry, webhookOrigin, type WebhookOptions, type WebhookResult } from "./webhook";

export type { NotifyEvent } from "./messages";

export type NotifyConfig = Pick<Config, "WEBHOOK_SECRET" | "SMTP_URL"> & { SMTP_FROM?: string };

export interface NotifyOptions {
  fetchImpl?: typeof fetch;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
  now?: Date;
}

export interface ChannelSecrets {
  url?: string;
  token?: string;
  signingSecret?: string;
  smtpUrl?: string;
}

export interface ChannelOptions {
  recipients?: string[];
}

/** What delivery needs of a channel (a NotificationChannel row, read). */
export interface DeliverableChannel {
  id: string;
  name: string;
  kind: NotificationChannelKind;
  options: ChannelOptions;
  secrets: ChannelSecrets;
}

export interface DeliveryOutcome extends WebhookResult {
  channelId: string;
  name: string;
  kind: NotificationChannelKind;
}

export interface NotifyResult {
  event: NotifyEvent["type"];
  /** Set when the event is not sent at all (nothing pruned, no channel routed for it). */
  skipped?: string;
  deliveries: DeliveryOutcome[];
}

const log = componentLogger("notify");
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `text` with every secret of the channel replaced: an error message must not carry one. */
export function redact(text: string, secrets: ChannelSecrets): string {
  let out = text;
  for (const value of Object.values(secrets)) {
    if (typeof value !== "string" || value.length < 4) continue;
    out = out.split(value).join("[secret]");
    try {
      const u = new URL(value);
      if (u.pathname.length > 1) out = out.split(u.pathname).join("/[secret]");
      if (u.password) out = out.split(u.password).join("[secret]");
    } catch {
      // not a URL
    }
  }
  return out;
}

function jobIdOf(event: NotifyEvent): string | undefined {
  if ("backup" in event) return event.backup.id;
  if ("restore" in event) return event.restore.id;
  return undefined;
}

async function emailWithRetry(channel: DeliverableChannel, msg: NotificationMessage, cfg: NotifyConfig, opts: NotifyOptions): Promise<WebhookResult> {
  const recipients: string[] = [];
  const seen = new Set<string>();
  // Mail servers treat addresses case-insensitively in practice; one copy each.
  for (const a of channel.options.recipients ?? []) {
    if (seen.has(a.toLowerCase())) continue;
    seen.add(a.toLowerCase());
    recipients.push(a);
  }
  if (recipients.length === 0) return { ok: false, attempts: 0, error: "no recipients" };
  const smtpUrl = channel.secrets.smtpUrl ?? cfg.SMTP_URL;
  if (!smtpUrl) return { ok: false, attempts: 0, error: "SMTP_URL is not set and the channel has no SMTP URL" };
  const maxAttempts = Math.max(0, Math.floor(opts.retries ?? 3)) + 1;
  let last: WebhookResult = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      const r = await sendEmail(smtpUrl, cfg.SMTP_FROM ?? "vaultline@localhost", recipients, msg.subject, msg.body);
      // Some accepted, some refused: the message went out, and the refusal is what to fix.
      if (r.rejected.length > 0) return { ok: false, attempts: attempt, error: `refused by the mail server: ${r.rejected.join(", ")}` };
      return { ok: true, attempts: attempt };
    } catch (e) {
      last = { ok: false, attempts: attempt, error: message(e) };
    }
    if (attempt < maxAttempts) await sleep(Math.min((opts.backoffMs ?? 1000) * 2 ** (attempt - 1), 30_000));
  }
  return last;
}

/** One channel, one message, in the channel's format. Never throws. */
export async function deliver(channel: DeliverableChannel, msg: NotificationMessage, cfg: NotifyConfig, opts: NotifyOptions = {}): Promise<WebhookResult> {
  try {
    if (channel.kind === "EMAIL") return await emailWithRetry(channel, msg, cfg, opts);
    const url = channel.secrets.url;
    if (!url) return { ok: false, attempts: 0, error: "the channel has no URL" };
    const http: WebhookOptions = { retries: opts.retries, backoffMs: opts.backoffMs, timeoutMs: opts.timeoutMs, fetchImpl: opts.fetchImpl, redact: (t) => redact(t, channel.secrets) };
    const asJson = (payload: unknown) => ({ body: JSON.stringify(payload), headers: { "Content-Type": "application/json" } });
    switch (channel.kind) {
      case "SLACK":
        return await postWithRetry(url, asJson(slackPayload(msg)), http);
      case "DISCORD":
        return await postWithRetry(url, asJson(discordPayload(msg)), http);
      case "TEAMS":
        return await postWithRetry(url, asJson(teamsPayload(msg)), http);
      case "NTFY":
        return await postWithRetry(url, ntfyRequest(msg, channel.secrets.token), http);
      case "WEBHOOK":
        return await postWithRetry(url, asJson(msg.payload), { ...http, secret: channel.secrets.signingSecret ?? cfg.WEBHOOK_SECRET });
    }
  } catch (e) {
    return { ok: false, attempts: 0, error: message(e) };
  }
}

/**
 * Sends `event` to every channel given, in parallel; `onOutcome` runs as each one ends
 * (so a slow channel does not hold up recording the others).
 */
export async function notify(
  event: NotifyEvent,
  channels: DeliverableChannel[],
  cfg: NotifyConfig,
  opts: NotifyOptions & { onOutcome?: (o: DeliveryOutcome) => Promise<void> } = {},
): Promise<NotifyResult> {
  const jobId = jobIdOf(event);
  const elog = log.child({ event: event.type, ...(jobId ? { jobId } : {}) });
  if (channels.length === 0) return { event: event.type, skipped: "no channel is routed for this event", deliveries: [] };
  const msg = backupEventMessage(event, opts.now);
  const deliveries = await Promise.all(
    channels.map(async (channel): Promise<DeliveryOutcome> => {
      const r = await deliver(channel, msg, cfg, opts);
      const outcome: DeliveryOutcome = { ...r, ...(r.error ? { error: redact(r.error, channel.secrets) } : {}), channelId: channel.id, name: channel.name, kind: channel.kind };
      const fields = { channel: channel.name, kind: channel.kind, origin: channel.secrets.url ? webhookOrigin(channel.secrets.url) : undefined, attempts: r.attempts, status: r.status };
      if (r.ok) elog.info(fields, "notification delivered");
      else elog.error({ ...fields, error: outcome.error }, "notification delivery failed");
      try {
        await opts.onOutcome?.(outcome);
      } catch (e) {
        elog.error({ channel: channel.name, error: message(e) }, "delivery outcome not recorded");
      }
      return outcome;
    }),
  );
  return { event: event.type, deliveries };
}
