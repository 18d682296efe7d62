// Reading the audit log (GET /api/audit): newest first, filtered, paginated; every target's
// events unless `target` names one (decision 110: the one list that shows everything). Webhook
// URLs often carry their secret in the path (Slack, Discord), so only callers allowed
// "settings.secrets" (ADMIN sessions, tokens with the settings scope) see them whole.
import { z } from "zod";
import type { Db } from "./db";
import { requireTarget } from "./backup/targets";
import { targetSelectorSchema } from "./validation/target-selector";
import type { TargetRefDto } from "./targets-client";

export const ACTOR_TYPES = ["user", "token", "system"] as const;

export const listAuditSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  // An exact action ("settings.updated"), or a prefix ending in "*" ("backup.*").
  action: z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9_.*-]+$/, "letters, digits, . _ - and a trailing *").optional(),
  actorType: z.enum(ACTOR_TYPES).optional(),
  // Only the events of this target (id or name); omitted: every event, of any target or none.
  target: targetSelectorSchema.optional(),
});

export type ListAuditInput = z.infer<typeof listAuditSchema>;

export interface AuditEventDto {
  id: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  target: string | null;
  /** The target (database) the event concerns; null for events of none (sign-ins, users, settings). */
  targetId: string | null;
  /** That target's name and environment; null when none, or when the target has since been removed. */
  targetRef: TargetRefDto | null;
  details: unknown;
  ip: string | null;
  at: string;
}

/** "https://hooks.slack.com/services/T0/B0/xyz" → "https://hooks.slack.com/…" */
export function maskUrl(value: string): string {
  try {
    const u = new URL(value);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return "…";
  }
}

/** Copies `value` with every string under a `webhookUrl` key masked, at any depth. */
export function maskWebhookUrls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskWebhookUrls);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        k === "webhookUrl" && typeof v === "string" ? maskUrl(v) : maskWebhookUrls(v),
      ]),
    );
  }
  return value;
}

function actionWhere(action: string | undefined) {
  if (!action) return undefined;
  if (action.endsWith("*")) return { startsWith: action.slice(0, -1).replaceAll("*", "") };
  return { equals: action };
}

export async function listAuditEvents(db: Db, q: ListAuditInput, revealSecrets: boolean) {
  // An unknown target is a 404 naming it (UnknownTargetError), as on every other list.
  const targetId = q.target === undefined ? undefined : (await requireTarget(db, q.target)).id;
  const where = { action: actionWhere(q.action), actorType: q.actorType, targetId };
  const [rows, total, actions] = await Promise.all([
    db.auditEvent.findMany({ where, orderBy: [{ at: "desc" }, { id: "desc" }], take: q.limit, skip: q.offset }),
    db.auditEvent.count({ where }),
    // For the filter's choices; the (action, at) index makes this cheap.
    db.auditEvent.groupBy({ by: ["action"], orderBy: { action: "asc" } }),
  ]);
  // The page's targets in one read of a small table; a removed target's events keep its id only.
  const ids = [...new Set(rows.map((r) => r.targetId).filter((id): id is string => !!id))];
  const refs = new Map(
    (ids.length ? await db.target.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, environment: true } }) : []).map((t) => [t.id, t]),
  );
  const events: AuditEventDto[] = rows.map((r) => ({
    id: r.id,
    actorType: r.actorType,
    actorId: r.actorId,
    actorLabel: r.actorLabel,
    action: r.action,
    target: r.target,
    targetId: r.targetId,
    targetRef: (r.targetId && refs.get(r.targetId)) || null,
    details: revealSecrets ? r.details : maskWebhookUrls(r.details),
    ip: r.ip,
    at: r.at.toISOString(),
  }));
  return { events, total, limit: q.limit, offset: q.offset, actions: actions.map((a) => a.action) };
}
