// GET /api/metrics: Prometheus text built from the catalogue on each scrape, in a fresh
// registry, so every replica answers the same numbers and they always match the database.
// Counters are counts of rows: pruning old rows lowers them, which Prometheus reads as
// a counter reset (rate() and increase() handle that).
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "./db";
import { lastGoodBackupAt } from "./backup/last-success";
import { storageUsage } from "./backup/storage-usage";
import { registerDrillMetrics } from "./drill-metrics";
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

export async function renderMetrics(db: Db, now = new Date()): Promise<RenderedMetrics> {
  const windowStart = new Date(now.getTime() - DURATION_WINDOW_DAYS * 86_400_000);
  const [lastGood, durations, lastByKind, backupCounts, restoreCounts, usage] = await Promise.all([
    lastGoodBackupAt(db),
    db.backupJob.findMany({
      where: { status: "SUCCEEDED", durationSeconds: { not: null }, completedAt: { gte: windowStart } },
      select: { kind: true, durationSeconds: true },
    }),
    Promise.all(
      KINDS.map((kind) =>
        db.backupJob.findFirst({
          where: { status: "SUCCEEDED", kind },
          orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
          select: { kind: true, sizeBytes: true },
        }),
      ),
    ),
    db.backupJob.groupBy({ by: ["kind", "trigger", "status"], where: { status: { in: [...FINISHED] } }, _count: { _all: true } }),
    db.restoreJob.groupBy({ by: ["status"], where: { status: { in: [...FINISHED] } }, _count: { _all: true } }),
    storageUsage(db),
  ]);

  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: "vaultline_up", help: "1 when Vaultline answers and its database is reachable", registers }).set(1);
  new Gauge({
    name: "vaultline_backup_last_success_timestamp_seconds",
    help: "Unix time the newest successful database (FULL) backup completed; QUICK backups hold no data and never count; 0 when none",
    registers,
  }).set(lastGood ? lastGood.getTime() / 1000 : 0);
  const duration = new Histogram({
    name: "vaultline_backup_duration_seconds",
    help: `Duration of successful backups completed in the last ${DURATION_WINDOW_DAYS} days`,
    labelNames: ["kind"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  for (const kind of KINDS) duration.zero({ kind });
  for (const d of durations) duration.observe({ kind: d.kind }, d.durationSeconds!);
  const size = new Gauge({ name: "vaultline_backup_size_bytes", help: "Stored size of the newest successful backup", labelNames: ["kind"], registers });
  for (const row of lastByKind) if (row) size.set({ kind: row.kind }, Number(row.sizeBytes ?? 0n));
  const backups = new Counter({
    name: "vaultline_backups_total",
    help: "Finished backups in the catalogue",
    labelNames: ["kind", "trigger", "status"],
    registers,
  });
  for (const c of backupCounts) backups.inc({ kind: c.kind, trigger: c.trigger, status: c.status }, c._count._all);
  const restores = new Counter({ name: "vaultline_restores_total", help: "Finished restores", labelNames: ["status"], registers });
  for (const status of ["SUCCEEDED", "FAILED"] as const) restores.inc({ status }, 0);
  for (const c of restoreCounts) restores.inc({ status: c.status }, c._count._all);
  new Gauge({ name: "vaultline_storage_bytes", help: "Sum of the stored sizes of successful backups", registers }).set(usage.totalBytes);

  await registerDrillMetrics(db, registers, { windowDays: DURATION_WINDOW_DAYS, buckets: DURATION_BUCKETS, now });

  return { contentType: registry.contentType, body: await registry.metrics() };
}
