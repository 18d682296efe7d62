// STAND-IN for part READ's `targetsOverview(db, now)` (lib/backup/today.ts), which is not in
// this branch yet: GET /api/targets needs each target's today. Same rules as getToday
// (todayState: UTC day, only FULL backups count), per target, computed simply. To be
// replaced by READ's function at the merge (the import in lib/backup/targets-admin.ts).
import type { Db } from "../db";
import { getSettings } from "../settings";
import { cronNextRuns } from "../validation/settings";
import { ACTIVE_JOB_STATUSES, FINISHED_JOB_STATUSES } from "../validation/backups";
import { readTargetSettings } from "../validation/targets";
import { todayState, utcDayStart, type TodayState } from "./today";

export interface TargetToday {
  state: TodayState;
  lastSuccess: { id: string; kind: string; completedAt: Date | null; sizeBytes: number | null } | null;
  nextRunAt: Date | null;
  /** The last 14 successful FULL backups' sizes, oldest first. */
  sizes: number[];
}

export async function targetsOverview(db: Db, now = new Date()): Promise<Map<string, TargetToday>> {
  const targets = await db.target.findMany({ select: { id: true, isDefault: true, settings: true } });
  const appSchedule = (await getSettings(db)).schedule;
  const out = new Map<string, TargetToday>();
  for (const t of targets) {
    const [active, finished, successes] = await Promise.all([
      db.backupJob.count({ where: { targetId: t.id, status: { in: [...ACTIVE_JOB_STATUSES] } } }),
      db.backupJob.findMany({
        where: { targetId: t.id, status: { in: [...FINISHED_JOB_STATUSES] }, OR: [{ completedAt: { gte: utcDayStart(now) } }, { completedAt: null, updatedAt: { gte: utcDayStart(now) } }] },
        select: { status: true, kind: true, completedAt: true, updatedAt: true },
      }),
      db.backupJob.findMany({
        where: { targetId: t.id, status: "SUCCEEDED", kind: "FULL" },
        orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
        take: 14,
        select: { id: true, kind: true, completedAt: true, sizeBytes: true },
      }),
    ]);
    const schedule = readTargetSettings(t.settings).schedule ?? (t.isDefault ? appSchedule : undefined);
    let nextRunAt: Date | null = null;
    if (schedule?.enabled) {
      try {
        nextRunAt = cronNextRuns(schedule, now, 1)[0] ?? null;
      } catch {
        nextRunAt = null;
      }
    }
    const last = successes[0];
    out.set(t.id, {
      state: todayState({ now, active: active > 0, finished: finished.map((j) => ({ status: j.status as (typeof FINISHED_JOB_STATUSES)[number], kind: j.kind, finishedAt: j.completedAt ?? j.updatedAt })) }),
      lastSuccess: last ? { id: last.id, kind: last.kind, completedAt: last.completedAt, sizeBytes: last.sizeBytes === null ? null : Number(last.sizeBytes) } : null,
      nextRunAt,
      sizes: successes.map((s) => Number(s.sizeBytes ?? 0)).reverse(),
    });
  }
  return out;
}
