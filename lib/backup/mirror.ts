// Storage copies of the audit trail and restore records (DESIGN §3, issue 4): what a
// restore of Vaultline's own database would otherwise erase. One object per event —
// object stores cannot append, and a read-modify-write day file would race between
// replicas (docs/decisions.md).
import type { BackupContext } from "./context";
import { setAuditMirror, type AuditRecord } from "../audit";

function day(d: Date) {
  const iso = d.toISOString();
  return { y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10) };
}

export function auditPrefix(ctx: Pick<BackupContext, "prefix" | "env">): string {
  return `${ctx.prefix}/${ctx.env}/audit/`;
}

export function auditKey(ctx: Pick<BackupContext, "prefix" | "env">, e: { id: string; at: Date }): string {
  const { y, m, d } = day(e.at);
  return `${auditPrefix(ctx)}${y}/${m}/${d}/${e.at.toISOString().replace(/[:.]/g, "-")}-${e.id}.json`;
}

export function restoresPrefix(ctx: Pick<BackupContext, "prefix" | "env">): string {
  return `${ctx.prefix}/${ctx.env}/restores/`;
}

export function restoreKey(ctx: Pick<BackupContext, "prefix" | "env">, id: string): string {
  return `${restoresPrefix(ctx)}${id}.json`;
}

export async function mirrorAuditEvent(ctx: BackupContext, e: AuditRecord): Promise<void> {
  await ctx.storage.putBytes(auditKey(ctx, e), JSON.stringify(e), "application/json");
}

/** Every audit event written from now on is also stored beside the backups. */
export function attachStorageMirrors(ctx: BackupContext): void {
  setAuditMirror((e) => mirrorAuditEvent(ctx, e));
}
