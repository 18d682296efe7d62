// Audit events go to the database, and from there to storage (DESIGN §3), so a restore of
// the app's own database cannot erase the trail: the row is the outbox (`mirroredAt`
// null) and the worker copies it (lib/backup/mirror.ts), retrying until storage has it.
import type { Db } from "./db";

export interface Actor {
  type: "user" | "token" | "system";
  id?: string | null;
  label?: string | null;
}

export const SYSTEM: Actor = { type: "system", label: "system" };

export interface AuditInput {
  actor: Actor;
  action: string;
  target?: string | null;
  /** The target (database) the event concerns; null for events of none (sign-ins, users, settings). */
  targetId?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

export interface AuditRecord {
  id: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  target: string | null;
  targetId: string | null;
  details: unknown;
  ip: string | null;
  at: Date;
}

export async function audit(db: Db, input: AuditInput): Promise<AuditRecord> {
  const row = await db.auditEvent.create({
    data: {
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      actorLabel: input.actor.label ?? null,
      action: input.action,
      target: input.target ?? null,
      targetId: input.targetId ?? null,
      details: (input.details ?? {}) as object,
      ip: input.ip ?? null,
    },
  });
  return row;
}
