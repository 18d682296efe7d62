// The retention plan of the catalogue as it is now: the one function both the preview
// (GET /api/retention/preview, the Settings page) and the pruning run (retention-run.ts)
// call, so what the preview shows is exactly what pruning then deletes.
import type { Db } from "../db";
import { getSettings } from "../settings";
import { BOSS_SCHEMA, QUEUES } from "../queue";
import { ACTIVE_JOB_STATUSES, type BackupKind, type BackupTrigger, type JobStatus, type VerifyStatus } from "../validation/backups";
import { planRetention, type BusyReason, type RetentionPlan, type RetentionPolicy } from "./retention";
import { DEFAULT_TARGET_ID, findTarget, targetSettings } from "./targets";

export interface RetentionRow {
  id: string;
  kind: BackupKind;
  trigger: BackupTrigger;
  status: JobStatus;
  createdAt: Date;
  completedAt: Date | null;
  sizeBytes: number | null;
  verifyStatus: VerifyStatus | null;
}

export interface CataloguePlan {
  policy: RetentionPolicy;
  timeZone: string;
  now: Date;
  plan: RetentionPlan;
  rows: Map<string, RetentionRow>;
}

/**
 * Backups whose stored objects are being read: the backup of a queued or running restore
 * (rollbacks restore through the same RestoreJob), and of a drill waiting in or taken
 * from the queue (a drill has no row of its own; its queue message names the backup).
 */
export async function busyBackups(db: Db): Promise<Map<string, BusyReason>> {
  const busy = new Map<string, BusyReason>();
  // No pg-boss schema yet (a catalogue whose queue never started): nothing is drilling.
  const [{ exists }] = await db.$queryRawUnsafe<{ exists: boolean }[]>(`SELECT to_regclass($1) IS NOT NULL AS exists`, `"${BOSS_SCHEMA}".job`);
  const drills = exists
    ? await db.$queryRawUnsafe<{ id: string | null }[]>(
        `SELECT data->>'jobId' AS id FROM "${BOSS_SCHEMA}".job WHERE name = $1 AND state IN ('created', 'retry', 'active')`,
        QUEUES.drill,
      )
    : [];
  for (const d of drills) if (d.id) busy.set(d.id, "drilling");
  // A drill under way (scheduled ones pick their backup when they start: only the run knows it).
  const running = await db.drillRun.findMany({ where: { status: "RUNNING", backupId: { not: null } }, select: { backupId: true } });
  for (const d of running) busy.set(d.backupId!, "drilling");
  const restores = await db.restoreJob.findMany({ where: { status: { in: [...ACTIVE_JOB_STATUSES] } }, select: { backupId: true } });
  for (const r of restores) busy.set(r.backupId, "restoring");
  return busy;
}

/**
 * Every catalogue row, newest first (the preview reads top down; the plan does not depend
 * on order). Raw SQL with times as epoch milliseconds: Prisma's row mapping and pg's
 * timestamp parsing took seconds on a 100k-row catalogue (docs/decisions.md §71).
 */
async function readCatalogue(db: Db, targetId: string): Promise<RetentionRow[]> {
  const raw = await db.$queryRaw<
    { id: string; kind: BackupKind; trigger: BackupTrigger; status: JobStatus; created: number; completed: number | null; size: number | null; verifyStatus: VerifyStatus | null }[]
  >`
    SELECT id, kind::text AS kind, trigger::text AS trigger, status::text AS status,
           (extract(epoch FROM "createdAt") * 1000)::float8 AS created, (extract(epoch FROM "completedAt") * 1000)::float8 AS completed,
           "sizeBytes"::float8 AS size, "verifyStatus"::text AS "verifyStatus"
      FROM "BackupJob" WHERE "targetId" = ${targetId} ORDER BY "createdAt" DESC, id DESC`;
  return raw.map((r) => ({
    id: r.id,
    kind: r.kind,
    trigger: r.trigger,
    status: r.status,
    createdAt: new Date(Math.round(r.created)),
    completedAt: r.completed === null ? null : new Date(Math.round(r.completed)),
    sizeBytes: r.size,
    verifyStatus: r.verifyStatus,
  }));
}

/**
 * The plan of one target's backups (absent = `default`; counted among its own backups only)
 * for its policy — its own `settings.retention`, else Settings → Retention — or for
 * `proposed` laid over it (a field left out keeps its saved value), at `now`, in its
 * schedule's time zone.
 */
export async function planCatalogue(db: Db, opts: { proposed?: Partial<RetentionPolicy>; now?: Date; targetId?: string } = {}): Promise<CataloguePlan> {
  const now = opts.now ?? new Date();
  const settings = await getSettings(db);
  const targetId = opts.targetId ?? DEFAULT_TARGET_ID;
  const own = targetId === DEFAULT_TARGET_ID ? {} : targetSettings((await findTarget(db, targetId)) ?? { settings: {} });
  const policy: RetentionPolicy = { ...(own.retention ?? settings.retention), ...opts.proposed };
  const timeZone = own.schedule?.timezone ?? settings.schedule.timezone;
  const [rows, busy] = await Promise.all([readCatalogue(db, targetId), busyBackups(db)]);
  const plan = planRetention(rows, policy, now, { timeZone, busy });
  return { policy, timeZone, now, plan, rows: new Map(rows.map((r) => [r.id, r])) };
}
