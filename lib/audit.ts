// Audit events go to the database and are mirrored to storage (DESIGN §3), so a restore
// of the app's own database cannot erase the trail. The mirror is attached by the
// backup module at start-up; the database row is written first and never skipped.
import type { Db } from "./db";
import { componentLogger } from "./log";

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
  details: unknown;
  ip: string | null;
  at: Date;
}

type Mirror = (event: AuditRecord) => Promise<void>;
const g = globalThis as unknown as { __vaultlineAuditMirror?: Mirror };

export function setAuditMirror(mirror: Mirror | undefined): void {
  g.__vaultlineAuditMirror = mirror;
}

const log = componentLogger("audit");

export async function audit(db: Db, input: AuditInput): Promise<AuditRecord> {
  const row = await db.auditEvent.create({
    data: {
      actorType: input.actor.type,
      actorId: input.actor.id ?? null,
      actorLabel: input.actor.label ?? null,
      action: input.action,
      target: input.target ?? null,
      details: (input.details ?? {}) as object,
      ip: input.ip ?? null,
    },
  });
  const mirror = g.__vaultlineAuditMirror;
  if (mirror) {
    // The database row stands even if storage is briefly away; the failure is logged
    // loudly because the storage copy is what survives a restore.
    await mirror(row).catch((e: Error) =>
      log.error({ err: e.message, action: row.action, auditId: row.id }, "audit mirror to storage failed"),
    );
  }
  return row;
}
