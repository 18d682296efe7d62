// The restore drill's metrics (issue 17 §1), added to GET /api/metrics's registry: when a
// restore was last proven, and how long the recoveries take.
import { Gauge, Histogram, type Registry } from "prom-client";
import type { Db } from "./db";

/** Same window and buckets as the backup duration histogram (lib/metrics.ts passes them). */
export interface DrillMetricsOptions {
  windowDays: number;
  buckets: number[];
  now: Date;
}

export async function registerDrillMetrics(db: Db, registers: Registry[], opts: DrillMetricsOptions): Promise<void> {
  const windowStart = new Date(opts.now.getTime() - opts.windowDays * 86_400_000);
  const [last, recoveries] = await Promise.all([
    db.drillRun.findFirst({ where: { status: "PASSED" }, orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }], select: { completedAt: true } }),
    db.drillRun.findMany({ where: { status: "PASSED", recoverySeconds: { not: null }, completedAt: { gte: windowStart } }, select: { recoverySeconds: true } }),
  ]);
  new Gauge({
    name: "vaultline_drill_last_success_timestamp_seconds",
    help: "Unix time the newest successful restore drill finished (the last proven restore); 0 when none",
    registers,
  }).set(last?.completedAt ? last.completedAt.getTime() / 1000 : 0);
  const h = new Histogram({
    name: "vaultline_drill_duration_seconds",
    help: `Recovery time (download + decrypt + restore) of successful restore drills in the last ${opts.windowDays} days`,
    buckets: opts.buckets,
    registers,
  });
  for (const r of recoveries) h.observe(r.recoverySeconds!);
}
