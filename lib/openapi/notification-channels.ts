// Response schemas of /api/notification-channels (lib/notify/channels.ts ChannelView):
// secrets are never part of an answer, only which of them are set.
import { z } from "zod";
import { CHANNEL_KINDS, NOTIFICATION_EVENTS } from "../validation/notification-channels";

const isoTime = z.string().meta({ format: "date-time" });

export const channelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(CHANNEL_KINDS),
    enabled: z.boolean(),
    events: z.array(z.enum(NOTIFICATION_EVENTS)),
    destination: z.string().nullable().meta({ description: "The URL masked to `scheme://host/…` (its path is the credential of chat webhooks); for email, the channel's own SMTP server if any." }),
    recipients: z.array(z.string()).meta({ description: "Email addresses (EMAIL channels; empty otherwise)." }),
    secretsSet: z.array(z.string()).meta({ description: "Which write-only fields hold a value: url, token, signingSecret, smtpUrl." }),
    health: z.object({
      lastSuccessAt: isoTime.nullable(),
      lastFailureAt: isoTime.nullable(),
      lastError: z.string().nullable(),
      consecutiveFailures: z.number().int(),
      failing: z.boolean().meta({ description: "The last delivery (event or test) failed." }),
    }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: "NotificationChannel" });

export const channelListSchema = z.object({ channels: z.array(channelSchema) }).meta({ id: "NotificationChannelList" });

export const channelTestSchema = z
  .object({
    ok: z.boolean(),
    attempts: z.number().int(),
    status: z.number().int().nullable().meta({ description: "The receiver's HTTP status, when it answered (null for email and unreachable receivers)." }),
    error: z.string().nullable(),
    channel: channelSchema,
  })
  .meta({ id: "NotificationChannelTest" });
