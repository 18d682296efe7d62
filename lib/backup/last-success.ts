// "When did we last have a good backup?" — the one answer the missed-backup alert, the
// health check and the metrics share. A QUICK backup holds no data, so it only counts
// when QUICK is what the schedule takes.
import type { Db } from "../db";
import type { ScheduleSettings } from "../validation/settings";

export function countedKinds(schedule: Pick<ScheduleSettings, "kind">): ("FULL" | "QUICK")[] {
  return schedule.kind === "QUICK" ? ["FULL", "QUICK"] : ["FULL"];
}

/** completedAt of the newest successful backup of a counted kind, or null. */
export async function lastGoodBackupAt(db: Db, schedule: Pick<ScheduleSettings, "kind">): Promise<Date | null> {
  const row = await db.backupJob.findFirst({
    where: { status: "SUCCEEDED", kind: { in: countedKinds(schedule) } },
    orderBy: [{ completedAt: { sort: "desc", nulls: "last" } }, { createdAt: "desc" }],
    select: { completedAt: true, createdAt: true },
  });
  return row ? (row.completedAt ?? row.createdAt) : null;
}
