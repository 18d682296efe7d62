// Storage copies of the audit trail and restore records (DESIGN §3, issue 4): what a
// restore of Vaultline's own database would otherwise erase. Audit rows are the outbox:
// the worker copies those with `mirroredAt` null. One object per event —
// object stores cannot append, and a read-modify-write day file would race between
// replicas (docs/decisions.md).
import type { BackupContext } from "./context";
import type { AuditRecord } from "../audit";

function day(d: Date) {
  const iso = d.toISOString();
  return { y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10) };
}

type CatalogueCtx = Pick<BackupContext, "prefix" | "env" | "catalogueEnv">;

export function auditPrefix(ctx: CatalogueCtx): string {
  return `${ctx.prefix}/${ctx.catalogueEnv ?? ctx.env}/audit/`;
}

export function auditKey(ctx: CatalogueCtx, e: { id: string; at: Date }): string {
  const { y, m, d } = day(e.at);
  return `${auditPrefix(ctx)}${y}/${m}/${d}/${e.at.toISOString().replace(/[:.]/g, "-")}-${e.id}.json`;
}

export function restoresPrefix(ctx: CatalogueCtx): string {
  return `${ctx.prefix}/${ctx.catalogueEnv ?? ctx.env}/restores/`;
}

/**
 * Which targets have backups, and in which environment: written beside the audit trail by
 * every backup of a target other than `default`, so that a catalogue restored from before a
 * target existed still finds (and re-creates) it from storage (reconcile.ts).
 */
export function targetsPrefix(ctx: CatalogueCtx): string {
  return `${ctx.prefix}/${ctx.catalogueEnv ?? ctx.env}/targets/`;
}

export function targetRecordKey(ctx: CatalogueCtx, id: string): string {
  return `${targetsPrefix(ctx)}${id}.json`;
}

export function restoreKey(ctx: CatalogueCtx, id: string): string {
  return `${restoresPrefix(ctx)}${id}.json`;
}

/** An event as its storage copy holds it: every column but `mirroredAt` (the outbox's own). */
export type AuditCopy = Omit<AuditRecord, "details"> & { details: object };

/** The storage copy of an event; `parseAuditCopy` reads it back (reconcile.ts): keep them symmetric. */
export function serializeAuditCopy(e: AuditRecord): string {
  const { id, actorType, actorId, actorLabel, action, target, targetId, details, ip, at } = e;
  return JSON.stringify({ id, actorType, actorId, actorLabel, action, target, targetId, details, ip, at });
}

/** A storage copy as a row again; copies written before targets have no `targetId` (null). */
export function parseAuditCopy(bytes: Buffer | string): AuditCopy {
  const e = JSON.parse(bytes.toString()) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : null);
  if (typeof e.id !== "string" || typeof e.actorType !== "string" || typeof e.action !== "string" || typeof e.at !== "string" || Number.isNaN(Date.parse(e.at))) {
    throw new Error("not an audit event (id, actorType, action or at missing)");
  }
  return {
    id: e.id,
    actorType: e.actorType,
    actorId: text(e.actorId),
    actorLabel: text(e.actorLabel),
    action: e.action,
    target: text(e.target),
    targetId: text(e.targetId),
    details: e.details && typeof e.details === "object" ? e.details : {},
    ip: text(e.ip),
    at: new Date(e.at),
  };
}

export async function mirrorAuditEvent(ctx: BackupContext, e: AuditRecord): Promise<void> {
  await ctx.storage.putBytes(auditKey(ctx, e), serializeAuditCopy(e), "application/json");
}

/**
 * Copies audit events not yet in storage, oldest first, `batch` at a time; answers how
 * many were copied. A copy that fails stays pending and is retried on the next call (the
 * worker's loop runs this every few seconds). Two workers copying the same event write the
 * same object twice, which is harmless.
 */
export async function mirrorPendingAuditEvents(ctx: BackupContext, batch = 200): Promise<number> {
  const pending = await ctx.db.auditEvent.findMany({ where: { mirroredAt: null }, orderBy: { at: "asc" }, take: batch });
  const done: string[] = [];
  let failure: Error | null = null;
  for (const e of pending) {
    try {
      await mirrorAuditEvent(ctx, e);
      done.push(e.id);
    } catch (err) {
      failure = err as Error;
      break;
    }
  }
  if (done.length) await ctx.db.auditEvent.updateMany({ where: { id: { in: done } }, data: { mirroredAt: new Date() } });
  if (failure) throw new Error(`audit trail not copied to storage (${pending.length - done.length} pending): ${failure.message}`);
  return done.length;
}

/** Copies every pending audit event now (before Vaultline's own database is replaced). */
export async function flushAuditMirror(ctx: BackupContext): Promise<number> {
  let total = 0;
  for (let n = await mirrorPendingAuditEvents(ctx); n > 0; n = await mirrorPendingAuditEvents(ctx)) total += n;
  return total;
}
