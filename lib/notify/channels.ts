// Notification channels in the database: create, change, remove (each audited without its
// secrets), the view the API and the Settings page get (secrets never; which secrets are
// set, yes), routing an event to the channels that want it, the delivery record that
// shows a channel that keeps failing, and "Send test".
import type { Db } from "../db";
import { targetChannelIds } from "./target-routing";
import { ApiError, notFound } from "../errors";
import { audit, type Actor } from "../audit";
import { maskUrl } from "../audit-query";
import type { NotificationChannel, Prisma } from "../generated/prisma/client";
import {
  FAILING_AFTER,
  SECRET_FIELDS,
  type CreateChannelInput,
  type NotificationEvent,
  type UpdateChannelInput,
} from "../validation/notification-channels";
import { notify, type ChannelOptions, type ChannelSecrets, type DeliverableChannel, type DeliveryOutcome, type NotifyConfig, type NotifyEvent, type NotifyOptions, type NotifyResult } from "./index";
import type { NotifyEventType } from "./messages";

/** The routing key of each event ("test" is sent to one channel, never routed). */
export const ROUTE_OF: Record<Exclude<NotifyEventType, "test">, NotificationEvent> = {
  "backup.failed": "BACKUP_FAILED",
  "backup.succeeded": "BACKUP_SUCCEEDED",
  "backup.missed": "BACKUP_MISSED",
  "drill.failed": "DRILL_FAILED",
  // Overdue drills go where failed ones go: both say "no restore proven lately".
  "drill.overdue": "DRILL_FAILED",
  "restore.started": "RESTORE_STARTED",
  "restore.finished": "RESTORE_FINISHED",
  "retention.pruned": "RETENTION_PRUNED",
  "deploy.blocked": "DEPLOY_BLOCKED",
  "backup.blocking": "BACKUP_BLOCKING",
};

/** One "Send test" per channel in this window (every replica sees the same row). */
export const TEST_INTERVAL_MS = 5_000;

export interface ChannelView {
  id: string;
  name: string;
  kind: NotificationChannel["kind"];
  enabled: boolean;
  events: NotificationEvent[];
  /** Where it goes, masked (`https://host/…`): the path of a chat webhook URL is its credential. */
  destination: string | null;
  recipients: string[];
  /** Which write-only fields hold a value (`url`, `token`, `signingSecret`, `smtpUrl`). */
  secretsSet: string[];
  health: {
    lastSuccessAt: Date | null;
    lastFailureAt: Date | null;
    lastError: string | null;
    consecutiveFailures: number;
    failing: boolean;
  };
  createdAt: Date;
  updatedAt: Date;
}

const secretsOf = (row: Pick<NotificationChannel, "secrets">) => (row.secrets ?? {}) as ChannelSecrets;
const optionsOf = (row: Pick<NotificationChannel, "options">) => (row.options ?? {}) as ChannelOptions;

export function channelView(row: NotificationChannel): ChannelView {
  const secrets = secretsOf(row);
  const options = optionsOf(row);
  const shown = secrets.url ?? secrets.smtpUrl;
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled,
    events: row.events,
    destination: shown ? maskUrl(shown) : null,
    recipients: options.recipients ?? [],
    secretsSet: Object.entries(secrets)
      .filter(([, v]) => typeof v === "string" && v.length > 0)
      .map(([k]) => k)
      .sort(),
    health: {
      lastSuccessAt: row.lastSuccessAt,
      lastFailureAt: row.lastFailureAt,
      lastError: row.lastError,
      consecutiveFailures: row.consecutiveFailures,
      failing: row.consecutiveFailures >= FAILING_AFTER,
    },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export const deliverable = (row: NotificationChannel): DeliverableChannel => ({
  id: row.id,
  name: row.name,
  kind: row.kind,
  options: optionsOf(row),
  secrets: secretsOf(row),
});

export async function listChannels(db: Pick<Db, "notificationChannel">): Promise<ChannelView[]> {
  const rows = await db.notificationChannel.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  return rows.map(channelView);
}

async function findChannel(db: Pick<Db, "notificationChannel">, id: string): Promise<NotificationChannel> {
  const row = await db.notificationChannel.findUnique({ where: { id } });
  if (!row) throw notFound("Notification channel");
  return row;
}

/** What the audit log may say about a channel: never a secret, only which are set. */
const auditable = (v: ChannelView) => ({ name: v.name, kind: v.kind, enabled: v.enabled, events: v.events, destination: v.destination, recipients: v.recipients, secretsSet: v.secretsSet });

function uniqueName(e: unknown, name: string): never {
  if ((e as { code?: string }).code === "P2002") throw new ApiError("CONFLICT", `A channel named "${name}" exists`);
  throw e;
}

export async function createChannel(db: Db, input: CreateChannelInput, actor: Actor): Promise<ChannelView> {
  const secrets: ChannelSecrets = {};
  const options: ChannelOptions = {};
  if (input.kind === "EMAIL") {
    options.recipients = input.recipients;
    if (input.smtpUrl) secrets.smtpUrl = input.smtpUrl;
  } else {
    secrets.url = input.url;
    if (input.kind === "NTFY" && input.token) secrets.token = input.token;
    if (input.kind === "WEBHOOK" && input.signingSecret) secrets.signingSecret = input.signingSecret;
  }
  const row = await db.notificationChannel
    .create({
      data: {
        name: input.name,
        kind: input.kind,
        enabled: input.enabled,
        events: input.events,
        options: options as Prisma.InputJsonValue,
        secrets: secrets as Prisma.InputJsonValue,
      },
    })
    .catch((e: unknown) => uniqueName(e, input.name));
  const view = channelView(row);
  await audit(db, { actor, action: "notification-channel.created", target: row.id, details: auditable(view) });
  return view;
}

export async function updateChannel(db: Db, id: string, input: UpdateChannelInput, actor: Actor): Promise<ChannelView> {
  const row = await findChannel(db, id);
  const allowed = new Set<string>(SECRET_FIELDS[row.kind]);
  const misplaced = (["url", "token", "signingSecret", "smtpUrl"] as const).filter((k) => input[k] !== undefined && !allowed.has(k));
  if (input.recipients !== undefined && row.kind !== "EMAIL") misplaced.push("recipients" as never);
  if (misplaced.length > 0) {
    throw new ApiError("VALIDATION_FAILED", `A ${row.kind} channel has no ${misplaced.join(", ")}`, {
      fields: misplaced.map((path) => ({ path, message: `not a field of a ${row.kind} channel` })),
    });
  }
  const secrets = { ...secretsOf(row) };
  for (const k of ["url", "token", "signingSecret", "smtpUrl"] as const) {
    const v = input[k];
    if (v === undefined) continue;
    if (v === null) delete secrets[k];
    else secrets[k] = v;
  }
  const options = { ...optionsOf(row), ...(input.recipients ? { recipients: input.recipients } : {}) };
  const before = channelView(row);
  const destinationChanged = Object.keys(input).some((k) => allowed.has(k) || k === "recipients");
  const updated = await db.notificationChannel
    .update({
      where: { id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        ...(input.events !== undefined ? { events: input.events } : {}),
        options: options as Prisma.InputJsonValue,
        secrets: secrets as Prisma.InputJsonValue,
        // A new destination starts a new record: the old one's failures are not its own.
        ...(destinationChanged ? { consecutiveFailures: 0, lastError: null } : {}),
      },
    })
    .catch((e: unknown) => uniqueName(e, input.name ?? row.name));
  const after = channelView(updated);
  const secretsChanged = (["url", "token", "signingSecret", "smtpUrl"] as const).filter((k) => input[k] !== undefined);
  await audit(db, { actor, action: "notification-channel.updated", target: id, details: { before: auditable(before), after: auditable(after), secretsChanged } });
  return after;
}

export async function deleteChannel(db: Db, id: string, actor: Actor): Promise<void> {
  const row = await findChannel(db, id);
  await db.notificationChannel.delete({ where: { id } });
  await audit(db, { actor, action: "notification-channel.deleted", target: id, details: auditable(channelView(row)) });
}

/** Writes one delivery's outcome onto its channel (gone meanwhile: nothing to write). */
export async function recordDelivery(db: Pick<Db, "notificationChannel">, outcome: DeliveryOutcome, now = new Date()): Promise<void> {
  await db.notificationChannel.updateMany({
    where: { id: outcome.channelId },
    data: outcome.ok
      ? { lastSuccessAt: now, consecutiveFailures: 0 }
      : { lastFailureAt: now, lastError: (outcome.error ?? "failed").slice(0, 1000), consecutiveFailures: { increment: 1 } },
  });
}

/** The enabled channels routed for `event`. */
/**
 * The enabled channels subscribed to `event`; with `target`, only those among the target's
 * `settings.notify.channelIds` when it sets them (absent = every subscribed channel).
 */
export async function routedChannels(
  db: Pick<Db, "notificationChannel" | "target">,
  event: Exclude<NotifyEventType, "test">,
  target?: { id: string } | null,
): Promise<NotificationChannel[]> {
  const only = target ? await targetChannelIds(db, target.id) : undefined;
  return db.notificationChannel.findMany({
    where: { enabled: true, events: { has: ROUTE_OF[event] }, ...(only ? { id: { in: only } } : {}) },
    orderBy: { createdAt: "asc" },
  });
}

/** Sends `event` to the channels routed for it (and its target) and records each outcome. Never throws. */
export async function notifyRouted(
  db: Pick<Db, "notificationChannel" | "target">,
  event: Exclude<NotifyEvent, { type: "test" }>,
  cfg: NotifyConfig,
  opts: NotifyOptions = {},
): Promise<NotifyResult> {
  if (event.type === "retention.pruned" && event.count === 0) return { event: event.type, skipped: "nothing pruned", deliveries: [] };
  const rows = await routedChannels(db, event.type, event.target);
  return notify(event, rows.map(deliverable), cfg, { ...opts, onOutcome: (o) => recordDelivery(db, o, opts.now) });
}

export interface TestOutcome {
  ok: boolean;
  attempts: number;
  /** The receiver's HTTP status, when it answered. */
  status: number | null;
  error: string | null;
  channel: ChannelView;
}

/**
 * "Send test": one test message to this channel only, once, with a short timeout, at most
 * one per TEST_INTERVAL_MS per channel (429 otherwise). The outcome is recorded like any
 * delivery, so a channel that cannot be reached shows it at once.
 */
export async function testChannel(db: Db, id: string, cfg: NotifyConfig, actor: Actor, opts: NotifyOptions = {}): Promise<TestOutcome> {
  const row = await findChannel(db, id);
  const now = opts.now ?? new Date();
  const claimed = await db.notificationChannel.updateMany({
    where: { id, OR: [{ lastTestAt: null }, { lastTestAt: { lte: new Date(now.getTime() - TEST_INTERVAL_MS) } }] },
    data: { lastTestAt: now },
  });
  if (claimed.count === 0) {
    throw new ApiError("RATE_LIMITED", `One test per ${TEST_INTERVAL_MS / 1000} seconds per channel; try again shortly`);
  }
  const result = await notify({ type: "test", channelName: row.name, by: actor.label ?? null }, [deliverable(row)], cfg, {
    retries: 0,
    timeoutMs: 10_000,
    ...opts,
    onOutcome: (o) => recordDelivery(db, o, now),
  });
  const d = result.deliveries[0];
  await audit(db, { actor, action: "notification-channel.tested", target: id, details: { name: row.name, kind: row.kind, ok: d.ok, status: d.status ?? null } });
  return { ok: d.ok, attempts: d.attempts, status: d.status ?? null, error: d.error ?? null, channel: channelView(await findChannel(db, id)) };
}
