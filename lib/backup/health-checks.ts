// The backup domain's checks for GET /api/health: storage reachable, pg_dump present and
// not older than the target server, a recent successful backup, storage under the
// warning threshold, room on local storage's disk for the next backup. Each answers "degraded" (works, needs attention), never "down":
// only an unreachable database makes Vaultline down.
import type { BackupContext } from "./context";
import type { HealthCheck } from "../health-check";
import { checkDumpCompatibility } from "./dump";
import { storageDisk, storageUsage } from "./storage-usage";
import { lastGoodBackupAt } from "./last-success";
import { scheduleStateSince } from "./schedule";
import { getSettings } from "../settings";
import { formatBytes } from "../format";
import { LocalStorage } from "./storage/local";

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

export async function storageCheck(ctx: Pick<BackupContext, "storage">): Promise<HealthCheck> {
  try {
    await ctx.storage.ping();
    return { status: "ok", storage: ctx.storage.description };
  } catch (e) {
    return { status: "degraded", message: `storage unreachable: ${firstLine(e)}`, storage: ctx.storage.description };
  }
}

export async function pgDumpCheck(ctx: Pick<BackupContext, "targetUrl" | "pgBinDir">): Promise<HealthCheck> {
  const c = await checkDumpCompatibility(ctx.targetUrl, ctx.pgBinDir);
  if (!c.ok) return { status: "degraded", message: c.reason };
  return { status: "ok", pgDump: c.pgDump.full, server: c.server.full };
}

/** Degraded when the last good backup is older than notifications.missedBackupAfterHours. */
export async function lastBackupCheck(ctx: Pick<BackupContext, "db">, now = new Date()): Promise<HealthCheck> {
  const settings = await getSettings(ctx.db);
  const hours = settings.notifications.missedBackupAfterHours;
  const last = await lastGoodBackupAt(ctx.db);
  const limitMs = hours * 3_600_000;
  if (last) {
    const ageHours = Math.round(((now.getTime() - last.getTime()) / 3_600_000) * 10) / 10;
    if (now.getTime() - last.getTime() > limitMs) {
      return { status: "degraded", message: `no successful backup for ${ageHours} hours (limit ${hours})`, lastSuccessAt: last.toISOString(), ageHours };
    }
    return { status: "ok", lastSuccessAt: last.toISOString(), ageHours };
  }
  // A fresh install is not unhealthy until it has had the time to take its first backup.
  const since = await scheduleStateSince(ctx, now);
  if (now.getTime() - since.getTime() > limitMs) {
    return { status: "degraded", message: `no successful backup on record (watching since ${since.toISOString()})`, lastSuccessAt: null };
  }
  return { status: "ok", message: "no successful backup yet", lastSuccessAt: null };
}

export async function storageUsageCheck(ctx: Pick<BackupContext, "db">, warnBytes?: number | null): Promise<HealthCheck> {
  const u = await storageUsage(ctx.db, warnBytes);
  const fields = { totalBytes: u.totalBytes, warnBytes: u.warnBytes };
  if (u.overWarn) {
    return { status: "degraded", message: `backups take ${formatBytes(u.totalBytes)}, over STORAGE_WARN_BYTES (${formatBytes(u.warnBytes)})`, ...fields };
  }
  return { status: "ok", ...fields };
}

/**
 * Local storage's disk: degraded when the next backup would likely not fit above the reserve
 * a write leaves free (DISK_RESERVE_MB, decision 159) — said the day before the nightly
 * backup fails, not by its failure.
 */
export async function storageDiskCheck(ctx: Pick<BackupContext, "db">, storage: LocalStorage, now = new Date()): Promise<HealthCheck> {
  const d = (await storageDisk(ctx.db, storage, now))!;
  if (d.freeBytes < d.reserveBytes) {
    return { status: "degraded", message: `the storage disk has ${formatBytes(d.freeBytes)} free, less than the ${formatBytes(d.reserveBytes)} a backup leaves free (DISK_RESERVE_MB): backups to it stop`, ...d };
  }
  if (!d.fits) {
    return {
      status: "degraded",
      message: `the next backup may not fit on the storage disk: ${formatBytes(d.freeBytes)} free, ${formatBytes(d.reserveBytes)} of it kept free (DISK_RESERVE_MB), and the largest FULL backup of the last 8 days took ${formatBytes(d.nextBackupBytes)}`,
      ...d,
    };
  }
  return { status: "ok", ...d };
}

/** The backup domain's checks for GET /api/health, by name; each runs when called. */
export function backupHealthChecks(ctx: BackupContext, warnBytes: number | null | undefined): Record<string, () => Promise<HealthCheck>> {
  return {
    storage: () => storageCheck(ctx),
    pgDump: () => pgDumpCheck(ctx),
    lastBackup: () => lastBackupCheck(ctx),
    storageUsage: () => storageUsageCheck(ctx, warnBytes),
    ...(ctx.storage instanceof LocalStorage ? { storageDisk: () => storageDiskCheck(ctx, ctx.storage as LocalStorage) } : {}),
  };
}
