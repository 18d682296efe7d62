// Sends one event to every configured channel. A notification is never worth a failed
// backup or restore: notify() never throws, it logs and reports what happened.
import type { Config } from "../config";
import { componentLogger } from "../log";
import type { NotificationSettings } from "../validation/settings";
import { sendEmail } from "./email";
import { backupEventMessage, type NotifyEvent } from "./messages";
import { sendWebhook, webhookOrigin, type WebhookResult } from "./webhook";

export type { NotifyEvent } from "./messages";

export type NotifyConfig = Pick<Config, "WEBHOOK_SECRET" | "SMTP_URL"> & { SMTP_FROM?: string };

export interface NotifyOptions {
  fetchImpl?: typeof fetch;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
  now?: Date;
}

export interface EmailOutcome {
  ok: boolean;
  accepted?: string[];
  rejected?: string[];
  error?: string;
}

export interface NotifyResult {
  event: NotifyEvent["type"];
  /** Set when the settings say this event is not wanted, or no channel is configured. */
  skipped?: string;
  webhook?: WebhookResult;
  email?: EmailOutcome;
}

const log = componentLogger("notify");

/** Why `event` is not sent under `settings`, or null when it is. */
export function skipReason(event: NotifyEvent, settings: NotificationSettings): string | null {
  if (event.type === "backup.succeeded" && !settings.onSuccess) return "onSuccess is off";
  if ((event.type === "backup.failed" || event.type === "drill.failed") && !settings.onFailure) return "onFailure is off";
  if (event.type === "retention.pruned" && event.count === 0) return "nothing pruned";
  if (!settings.webhookUrl && settings.emails.length === 0) return "no webhook or email configured";
  return null;
}

function jobIdOf(event: NotifyEvent): string | undefined {
  if ("backup" in event) return event.backup.id;
  if ("restore" in event) return event.restore.id;
  return undefined;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function notify(
  event: NotifyEvent,
  settings: NotificationSettings,
  cfg: NotifyConfig,
  opts: NotifyOptions = {},
): Promise<NotifyResult> {
  const result: NotifyResult = { event: event.type };
  const jobId = jobIdOf(event);
  const elog = log.child({ event: event.type, ...(jobId ? { jobId } : {}) });
  try {
    const skip = skipReason(event, settings);
    if (skip) {
      elog.debug({ reason: skip }, "notification skipped");
      return { ...result, skipped: skip };
    }
    const msg = backupEventMessage(event, opts.now);
    const tasks: Promise<void>[] = [];

    if (settings.webhookUrl) {
      const url = settings.webhookUrl;
      tasks.push(
        sendWebhook(url, msg.payload, {
          secret: cfg.WEBHOOK_SECRET,
          retries: opts.retries,
          backoffMs: opts.backoffMs,
          timeoutMs: opts.timeoutMs,
          fetchImpl: opts.fetchImpl,
        }).then((r) => {
          result.webhook = r;
          const fields = { origin: webhookOrigin(url), attempts: r.attempts, status: r.status };
          if (r.ok) elog.info(fields, "webhook delivered");
          else elog.error({ ...fields, error: r.error }, "webhook delivery failed");
        }),
      );
    }

    // Mail servers treat addresses case-insensitively in practice; one copy each.
    const seen = new Set<string>();
    const recipients: string[] = [];
    for (const address of settings.emails) {
      if (seen.has(address.toLowerCase())) continue;
      seen.add(address.toLowerCase());
      recipients.push(address);
    }
    if (recipients.length > 0) {
      if (!cfg.SMTP_URL) {
        result.email = { ok: false, error: "SMTP_URL is not set" };
        elog.error({ recipients: recipients.length }, "email notification configured but SMTP_URL is not set");
      } else {
        tasks.push(
          sendEmail(cfg.SMTP_URL, cfg.SMTP_FROM ?? "vaultline@localhost", recipients, msg.subject, msg.body).then(
            (r) => {
              result.email = { ok: true, accepted: r.accepted, rejected: r.rejected };
              elog.info({ accepted: r.accepted.length, rejected: r.rejected.length }, "email sent");
            },
            (e: unknown) => {
              result.email = { ok: false, error: message(e) };
              elog.error({ error: message(e) }, "email notification failed");
            },
          ),
        );
      }
    }
    for (const r of await Promise.allSettled(tasks)) {
      if (r.status === "rejected") elog.error({ error: message(r.reason) }, "notification failed");
    }
  } catch (e) {
    // Only a bug gets here (the senders report their own failures); still never rethrown.
    elog.error({ error: message(e) }, "notification failed");
    if (!result.webhook && !result.email) result.skipped = `internal error: ${message(e)}`;
  }
  return result;
}
