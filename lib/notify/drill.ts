// Drill alerts: a drill that finished FAILED, and "overdue" (no successful drill within the
// schedule's interval plus grace, lib/backup/drill-status.ts) sent once per gap between
// all replicas (lib/notify/once-per-gap.ts), as the missed-backup alert.
import type { BackupContext } from "../backup/context";
import type { DrillFinished } from "../backup/events";
import { drillSummary } from "../backup/drill-status";
import { getSettings } from "../settings";
import { componentLogger } from "../log";
import type { NotifyOptions, NotifyResult } from "./index";
import type { DrillNotifyEvent } from "./drill-messages";
import { claimAlert } from "./once-per-gap";

const log = componentLogger("notify");

/** RuntimeState row remembering the last overdue alert (`{lastAlertAt, gapStart}`). */
export const DRILL_OVERDUE_STATE_KEY = "drillOverdueAlert";

type Ctx = Pick<BackupContext, "db">;

export async function drillEventFor(ctx: Ctx, e: DrillFinished): Promise<DrillNotifyEvent | null> {
  if (e.status !== "FAILED") return null;
  const run = await ctx.db.drillRun.findUnique({ where: { id: e.drillId } });
  if (!run) return null;
  return {
    type: "drill.failed",
    drill: { id: run.id, backupId: run.backupId, trigger: run.trigger, failureReason: run.failureReason, recoverySeconds: run.recoverySeconds },
  };
}

export type Sender = (event: DrillNotifyEvent, opts?: NotifyOptions) => Promise<NotifyResult>;

/** Sends the overdue alert when the drill state is "overdue" and this gap has not alerted yet. */
export async function checkOverdueDrill(ctx: Ctx, send: Sender, now = new Date()): Promise<{ sent: boolean; reason?: string }> {
  const summary = await drillSummary(ctx.db, now);
  if (summary.state !== "overdue") return { sent: false, reason: `drill state is ${summary.state}` };
  const { drill } = await getSettings(ctx.db);
  // The gap is identified by the success it follows (or its absence).
  const gap = summary.lastSuccessAt ?? "never";
  const claimed = await claimAlert(ctx.db, DRILL_OVERDUE_STATE_KEY, (last) => (last?.gap === gap ? null : { gap, lastAlertAt: now.toISOString() }));
  if (!claimed) return { sent: false, reason: "already alerted for this gap" };
  log.warn({ lastSuccessAt: summary.lastSuccessAt }, "restore drill overdue");
  await send({ type: "drill.overdue", lastSuccessAt: summary.lastSuccessAt ? new Date(summary.lastSuccessAt) : null, cron: drill.cron, timezone: drill.timezone }, { now });
  return { sent: true };
}
