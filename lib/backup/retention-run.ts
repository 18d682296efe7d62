// Applying the retention plan (retention.ts) to the catalogue and the store: after each
// successful backup and every hour. Pruning holds the destructive-operation slot, so it
// never runs during a restore, rollback or delete; when the slot is busy it skips and the
// next run tries again. Objects go first, then the row (as in delete.ts).
import type { BackupContext } from "./context";
import { planCatalogue } from "./retention-plan";
import { removeBackupObjects, withDestructiveSlot } from "./delete";
import { contextForTargetKeys, DEFAULT_TARGET_ID } from "./targets";
import type { TargetRef } from "./context";
import { onEngineEvent } from "./events";
import { audit, type Actor } from "../audit";
import { ApiError } from "../errors";
import { componentLogger } from "../log";

const log = componentLogger("retention");

export const RETENTION_INTERVAL_MS = 60 * 60_000;

export interface PrunedBackup {
  id: string;
  kind: string;
  trigger: string;
  status: string;
  createdAt: string;
  sizeBytes: number;
  reason: string;
}

export type RetentionRunResult =
  | { status: "skipped"; reason: string }
  | { status: "done"; pruned: PrunedBackup[]; bytes: number; kept: number; failed: { id: string; error: string }[] };

/** What a run that pruned anything announces (lib/notify turns it into a notification). */
export interface RetentionPruned {
  type: "retention.pruned";
  count: number;
  bytes: number | bigint;
  ids: string[];
  /** The target whose backups were pruned (absent = `default`). */
  target?: TargetRef;
}

export type Notifier = (event: RetentionPruned) => Promise<unknown>;

export interface RetentionRunOptions {
  now?: Date;
  actor?: Actor;
  /** Receives "retention.pruned" when anything was pruned. */
  notifier?: Notifier;
  /** One target only; absent = every target, each by its own policy under its own lock. */
  targetId?: string;
}

export async function runRetention(appCtx: BackupContext, opts: RetentionRunOptions = {}): Promise<RetentionRunResult> {
  const targets = await appCtx.db.target.findMany({
    where: opts.targetId ? { id: opts.targetId } : {},
    select: { id: true, name: true, environment: true, isDefault: true },
    orderBy: { createdAt: "asc" },
  });
  const results: RetentionRunResult[] = [];
  for (const t of targets) results.push(await runTargetRetention(contextForTargetKeys(appCtx, t), t.id, opts));
  const done = results.filter((r): r is Extract<RetentionRunResult, { status: "done" }> => r.status === "done");
  if (!done.length) return results[0] ?? { status: "skipped", reason: "no such target" };
  return {
    status: "done",
    pruned: done.flatMap((r) => r.pruned),
    bytes: done.reduce((n, r) => n + r.bytes, 0),
    kept: done.reduce((n, r) => n + r.kept, 0),
    failed: done.flatMap((r) => r.failed),
  };
}

/** One target's pruning, holding that target's destructive slot (ctx is the target's). */
async function runTargetRetention(ctx: BackupContext, targetId: string, opts: RetentionRunOptions): Promise<RetentionRunResult> {
  const now = opts.now ?? new Date();
  const actor = opts.actor ?? { type: "system", label: "retention" };
  let result: RetentionRunResult;
  try {
    result = await withDestructiveSlot(ctx, "retention pruning", () => prune(ctx, targetId, now, actor));
  } catch (e) {
    if (e instanceof ApiError && e.code === "OPERATION_IN_PROGRESS") {
      log.info({ reason: e.message, target: ctx.target?.name }, "retention skipped; will try at the next run");
      return { status: "skipped", reason: e.message };
    }
    throw e;
  }
  if (result.status === "done" && result.pruned.length > 0 && opts.notifier) {
    await opts.notifier({
      type: "retention.pruned",
      count: result.pruned.length,
      bytes: result.bytes,
      ids: result.pruned.map((p) => p.id),
      ...(targetId !== DEFAULT_TARGET_ID && ctx.target ? { target: ctx.target } : {}),
    });
  }
  return result;
}

async function prune(ctx: BackupContext, targetId: string, now: Date, actor: Actor): Promise<RetentionRunResult> {
  // The very plan GET /api/retention/preview shows for the target's policy at this moment.
  const { plan, rows: byId, policy, timeZone } = await planCatalogue(ctx.db, { now, targetId });
  const pruned: PrunedBackup[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const { id, reason } of plan.prune) {
    const row = byId.get(id)!;
    try {
      await removeBackupObjects(ctx, await ctx.db.backupJob.findUniqueOrThrow({ where: { id }, select: { id: true, createdAt: true, storageKey: true, metadata: true } }));
      // Only if it is still what the plan saw (a finished job does not change status,
      // but a row re-inserted by a catalogue reconcile must not be deleted blind).
      const del = await ctx.db.backupJob.deleteMany({ where: { id, status: row.status } });
      if (del.count === 0) continue;
      pruned.push({
        id,
        kind: row.kind,
        trigger: row.trigger,
        status: row.status,
        createdAt: row.createdAt.toISOString(),
        sizeBytes: row.sizeBytes === null ? 0 : Number(row.sizeBytes),
        reason,
      });
      log.info({ jobId: id, reason }, "backup pruned");
    } catch (e) {
      // The row stays, pointing at whatever is left: visible, and retried next run.
      failed.push({ id, error: (e as Error).message });
      log.error({ jobId: id, err: (e as Error).message }, "pruning failed");
    }
  }
  const bytes = pruned.reduce((n, p) => n + p.sizeBytes, 0);
  if (pruned.length > 0 || failed.length > 0) {
    await audit(ctx.db, {
      actor,
      action: "retention.pruned",
      target: pruned.map((p) => p.id).join(",").slice(0, 1000) || null,
      targetId,
      details: {
        target: ctx.target,
        ids: pruned.map((p) => p.id),
        bytes,
        count: pruned.length,
        policy,
        timeZone,
        backups: pruned,
        ...(failed.length > 0 ? { failed } : {}),
      },
    });
  }
  return { status: "done", pruned, bytes, kept: plan.keep.length, failed };
}

/** After each successful backup this process runs, and every hour. Returns stop(). */
export function startRetention(ctx: BackupContext, opts: { intervalMs?: number; notifier?: Notifier } = {}): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const run = (why: string) => {
    if (running) return;
    running = runRetention(ctx, { notifier: opts.notifier })
      .catch((e: Error) => log.error({ err: e.message, why }, "retention run failed"))
      .finally(() => (running = null));
  };
  const unsubscribe = onEngineEvent(async (e) => {
    if (e.type !== "backup.finished" || e.status !== "SUCCEEDED") return;
    // Only for this catalogue's jobs (several contexts can share a process in tests).
    if (await ctx.db.backupJob.findUnique({ where: { id: e.jobId }, select: { id: true } })) run("after backup");
  });
  const timer = setInterval(() => run("hourly"), opts.intervalMs ?? RETENTION_INTERVAL_MS);
  return async () => {
    clearInterval(timer);
    unsubscribe();
    await running;
  };
}
