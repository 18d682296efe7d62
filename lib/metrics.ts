// GET /api/metrics: Prometheus text built from the catalogue on each scrape, in a fresh
// registry, so every replica answers the same numbers and they always match the database.
// Counters are counts of rows: pruning old rows lowers them, which Prometheus reads as
// a counter reset (rate() and increase() handle that).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "./db";
import { registerDrillMetrics } from "./drill-metrics";
import { newestSucceeded } from "./backup/last-success";
import { BACKUP_KINDS, FINISHED_JOB_STATUSES } from "./validation/backups";

/** The duration histogram covers successful backups completed in this window. */
export const DURATION_WINDOW_DAYS = 30;
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];
const FINISHED = FINISHED_JOB_STATUSES;
const KINDS = BACKUP_KINDS;

export interface RenderedMetrics {
  contentType: string;
  body: string;
}

/**
 * Every series about backups and restores carries `target` (the target's name, DESIGN §8);
 * the families keep their names, so a scraper that ignores labels sees the same ones
 * (summing over `target` gives the totals from before targets).
 */
export async function renderMetrics(db: Db, now = new Date()): Promise<RenderedMetrics> {
  const windowStart = new Date(now.getTime() - DURATION_WINDOW_DAYS * 86_400_000);
  const targets = await db.target.findMany({ select: { id: true, name: true }, orderBy: { name: "asc" } });
  const [durations, newestByKind, backupCounts, restoreCounts, stored] = await Promise.all([
    db.backupJob.findMany({
      where: { status: "SUCCEEDED", durationSeconds: { not: null }, completedAt: { gte: windowStart } },
      select: { targetId: true, kind: true, durationSeconds: true },
    }),
    // Per target and kind, two index-ordered reads each (newestSucceeded, decision 117): one
    // DISTINCT ON over the catalogue sorted every successful row, 1.1 s with 1,000,000.
    // The newest FULL one is also the last good backup (lastGoodBackupAt's answer).
    Promise.all(targets.flatMap((t) => KINDS.map(async (kind) => ({ targetId: t.id, kind, newest: await newestSucceeded(db, t.id, kind) })))),
    // From the tally the list's totals come from (decision 116): a few dozen rows, not the catalogue.
    db.backupJobTally.groupBy({ by: ["targetId", "kind", "trigger", "status"], where: { status: { in: [...FINISHED] } }, _sum: { n: true }, having: { n: { _sum: { not: 0 } } } }),
    db.restoreJob.groupBy({ by: ["targetId", "status"], where: { status: { in: [...FINISHED] } }, _count: { _all: true } }),
    // As storageUsage (lib/backup/storage-usage.ts), per target.
    db.backupJobTally.groupBy({ by: ["targetId"], where: { status: "SUCCEEDED" }, _sum: { bytes: true } }),
  ]);
  const nameOf = new Map(targets.map((t) => [t.id, t.name]));
  const target = (id: string) => nameOf.get(id) ?? id;

  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: "vaultline_up", help: "1 when Vaultline answers and its database is reachable", registers }).set(1);
  const last = new Gauge({
    name: "vaultline_backup_last_success_timestamp_seconds",
    help: "Unix time the target's newest successful database (FULL) backup completed; QUICK backups hold no data and never count; 0 when none",
    labelNames: ["target"],
    registers,
  });
  for (const t of targets) last.set({ target: t.name }, 0);
  for (const { targetId, kind, newest } of newestByKind) {
    if (kind === "FULL" && newest) last.set({ target: target(targetId) }, (newest.completedAt ?? newest.createdAt).getTime() / 1000);
  }
  const duration = new Histogram({
    name: "vaultline_backup_duration_seconds",
    help: `Duration of successful backups completed in the last ${DURATION_WINDOW_DAYS} days`,
    labelNames: ["target", "kind"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  for (const t of targets) for (const kind of KINDS) duration.zero({ target: t.name, kind });
  for (const d of durations) duration.observe({ target: target(d.targetId), kind: d.kind }, d.durationSeconds!);
  const size = new Gauge({ name: "vaultline_backup_size_bytes", help: "Stored size of the target's newest successful backup", labelNames: ["target", "kind"], registers });
  for (const row of newestByKind) if (row.newest) size.set({ target: target(row.targetId), kind: row.kind }, Number(row.newest.sizeBytes ?? 0n));
  const backups = new Counter({
    name: "vaultline_backups_total",
    help: "Finished backups in the catalogue",
    labelNames: ["target", "kind", "trigger", "status"],
    registers,
  });
  for (const c of backupCounts) backups.inc({ target: target(c.targetId), kind: c.kind, trigger: c.trigger, status: c.status }, Number(c._sum.n ?? 0n));
  const restores = new Counter({ name: "vaultline_restores_total", help: "Finished restores", labelNames: ["target", "status"], registers });
  for (const t of targets) for (const status of ["SUCCEEDED", "FAILED"] as const) restores.inc({ target: t.name, status }, 0);
  for (const c of restoreCounts) restores.inc({ target: target(c.targetId), status: c.status }, c._count._all);
  const storage = new Gauge({ name: "vaultline_storage_bytes", help: "Sum of the stored sizes of the target's successful backups", labelNames: ["target"], registers });
  for (const t of targets) storage.set({ target: t.name }, 0);
  for (const s of stored) storage.set({ target: target(s.targetId) }, Number(s._sum.bytes ?? 0n));

  await registerDrillMetrics(db, registers, { windowDays: DURATION_WINDOW_DAYS, buckets: DURATION_BUCKETS, now });

  return { contentType: registry.contentType, body: await registry.metrics() };
}
