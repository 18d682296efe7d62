// Notification channel schemas shared by the Settings page and /api/notification-channels.
// Browser-safe. Secret fields (webhook URLs, ntfy tokens, signing secrets, SMTP URLs) are
// write-only: on an update, an omitted secret keeps the stored one and null clears an
// optional one; answers never carry them.
import { z } from "zod";
import { NotificationChannelKind, NotificationEvent } from "../generated/prisma/enums";

export { NotificationChannelKind, NotificationEvent };
export const CHANNEL_KINDS = Object.values(NotificationChannelKind);
export const NOTIFICATION_EVENTS = Object.values(NotificationEvent);

export const CHANNEL_KIND_LABELS: Record<NotificationChannelKind, string> = {
  SLACK: "Slack",
  DISCORD: "Discord",
  TEAMS: "Microsoft Teams (Workflows)",
  NTFY: "ntfy",
  WEBHOOK: "Generic JSON webhook (signed)",
  EMAIL: "Email",
};

export const EVENT_LABELS: Record<NotificationEvent, string> = {
  BACKUP_FAILED: "Backup failed",
  BACKUP_SUCCEEDED: "Backup succeeded",
  BACKUP_MISSED: "Missed backup",
  DRILL_FAILED: "Restore drill failed",
  RESTORE_STARTED: "Restore started",
  RESTORE_FINISHED: "Restore done",
  RETENTION_PRUNED: "Retention pruned",
  DEPLOY_BLOCKED: "Deploy blocked",
  BACKUP_BLOCKING: "Backup holds up a session",
};

/** What a new channel is routed for unless the form says otherwise: what someone must act on. */
export const DEFAULT_CHANNEL_EVENTS: NotificationEvent[] = ["BACKUP_FAILED", "BACKUP_MISSED", "DRILL_FAILED", "RESTORE_FINISHED", "DEPLOY_BLOCKED", "BACKUP_BLOCKING"];

/** A channel that failed this many deliveries in a row is shown as failing. */
export const FAILING_AFTER = 1;

// The pattern browsers use for <input type="email">, so the form and the server agree
// and internal addresses such as ops@localhost are accepted.
export const emailSchema = z.string().trim().max(320).pipe(z.email({ pattern: z.regexes.html5Email }));

const httpUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^https?$/, hostname: z.regexes.hostname, message: "must be an http(s) URL" }));

const smtpUrl = z
  .string()
  .trim()
  .max(2048)
  .pipe(z.url({ protocol: /^smtps?$/, message: "must be an smtp:// or smtps:// URL" }));

// PostgreSQL text cannot hold NUL, and a newline in a header value would split it.
const noControl = /^[^\u0000-\u001f\u007f]*$/;

const secretText = z.string().trim().min(1, "must not be empty").max(512).regex(noControl, "no control characters");

const nameSchema = z.string().trim().min(1, "a name is required").max(80).regex(noControl, "no control characters");

const eventsSchema = z
  .array(z.enum(NotificationEvent))
  .max(NOTIFICATION_EVENTS.length)
  .refine((list) => new Set(list).size === list.length, { message: "an event is listed twice" });

const recipientsSchema = z
  .array(emailSchema)
  .min(1, "at least one address")
  .max(50)
  .refine((list) => new Set(list.map((e) => e.toLowerCase())).size === list.length, { message: "duplicate address" });

const common = { name: nameSchema, enabled: z.boolean().default(true), events: eventsSchema };

/** POST /api/notification-channels: a new channel, its destination required. */
export const createChannelSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("SLACK"), ...common, url: httpUrl }),
  z.strictObject({ kind: z.literal("DISCORD"), ...common, url: httpUrl }),
  z.strictObject({ kind: z.literal("TEAMS"), ...common, url: httpUrl }),
  z.strictObject({ kind: z.literal("NTFY"), ...common, url: httpUrl, token: secretText.nullable().optional() }),
  z.strictObject({ kind: z.literal("WEBHOOK"), ...common, url: httpUrl, signingSecret: secretText.nullable().optional() }),
  z.strictObject({ kind: z.literal("EMAIL"), ...common, recipients: recipientsSchema, smtpUrl: smtpUrl.nullable().optional() }),
]);

/**
 * PATCH /api/notification-channels/:id: any of the fields; the kind stays. Fields that do
 * not belong to the channel's kind are refused by the server (lib/notify/channels.ts).
 */
export const updateChannelSchema = z
  .strictObject({
    name: nameSchema.optional(),
    enabled: z.boolean().optional(),
    events: eventsSchema.optional(),
    url: httpUrl.optional(),
    token: secretText.nullable().optional(),
    signingSecret: secretText.nullable().optional(),
    recipients: recipientsSchema.optional(),
    smtpUrl: smtpUrl.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "nothing to change" });

/** Which write-only fields a kind has; `url` is required where listed first. */
export const SECRET_FIELDS: Record<NotificationChannelKind, readonly ("url" | "token" | "signingSecret" | "smtpUrl")[]> = {
  SLACK: ["url"],
  DISCORD: ["url"],
  TEAMS: ["url"],
  NTFY: ["url", "token"],
  WEBHOOK: ["url", "signingSecret"],
  EMAIL: ["smtpUrl"],
};

export type CreateChannelInput = z.infer<typeof createChannelSchema>;
export type UpdateChannelInput = z.infer<typeof updateChannelSchema>;
