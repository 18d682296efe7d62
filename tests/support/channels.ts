// Notification channels for tests: replaces whatever channels exist with the ones given,
// through lib/notify/channels.ts as the API does (validated, audited as the system).
import type { Db } from "../../lib/db";
import { SYSTEM } from "../../lib/audit";
import { createChannel } from "../../lib/notify/channels";
import { createChannelSchema, type NotificationEvent } from "../../lib/validation/notification-channels";

/** What the single webhook + email list of earlier releases received (onFailure and onSuccess on). */
export const LEGACY_EVENTS: NotificationEvent[] = ["BACKUP_FAILED", "BACKUP_SUCCEEDED", "BACKUP_MISSED", "RESTORE_STARTED", "RESTORE_FINISHED", "RETENTION_PRUNED"];

export async function setChannels(db: Db, channels: unknown[]) {
  await db.notificationChannel.deleteMany({});
  const made = [];
  for (const c of channels) made.push(await createChannel(db, createChannelSchema.parse(c), SYSTEM));
  return made;
}

/** A generic signed webhook and an email channel, as the old `notifications` setting made them. */
export function webhookAndEmail(url: string, emails: string[], events: NotificationEvent[] = LEGACY_EVENTS) {
  return [
    { kind: "WEBHOOK", name: "Webhook", url, events },
    ...(emails.length > 0 ? [{ kind: "EMAIL", name: "Email", recipients: emails, events }] : []),
  ];
}
