// Rollback to a backup (seed 002): for a FULL backup the database goes back through the
// restore path (its own PRE_RESTORE safety backup first, 409 while another destructive
// operation runs), and once that restore has finished the code hook runs with the
// backup's commit; for a QUICK backup only the code hook runs. The record is a Deployment
// row RUNNING → ROLLED_BACK / FAILED with every step in its log and in the audit.
import type { BackupContext } from "../backup/context";
import { startRestore } from "../backup/restore";
import { audit } from "../audit";
import { ApiError, notFound } from "../errors";
import { componentLogger } from "../log";
import { checkRunSchema } from "../validation/checks";
import { ROLLBACK_WORD } from "../validation/deploy";
import { deployLog } from "./deploy-log";
import { createDeploymentRow, mirrorDeployment, reconcileDeployments, updateDeployment, type Who } from "./deployments";
import { hookKind, runHook, type DeployHooks } from "./hooks";
import { LOCK_DEPLOY } from "./locks";
import { trackHookRun } from "./run";
import { ACTIVE_JOB_STATUSES } from "../validation/backups";
import type { Prisma } from "../generated/prisma/client";

const log = componentLogger("deploy");

export interface StartedRollback {
  deploymentId: string;
  restoreId?: string;
  preRestoreBackupId?: string;
  /** QUICK only: resolves when the code hook has finished. */
  done?: Promise<"ROLLED_BACK" | "FAILED">;
}

export async function startRollback(
  ctx: BackupContext,
  body: { backupId: string; confirm?: unknown },
  who: Who,
  hooks: DeployHooks,
): Promise<StartedRollback> {
  if (body.confirm !== ROLLBACK_WORD) {
    throw new ApiError("CONFIRMATION_REQUIRED", `Type ${ROLLBACK_WORD} (exactly) to confirm the rollback`, { expected: ROLLBACK_WORD });
  }
  const backup = await ctx.db.backupJob.findUnique({ where: { id: body.backupId } });
  if (!backup) throw notFound("Backup");
  if (backup.status !== "SUCCEEDED") throw new ApiError("CONFLICT", "Only a successful backup can be rolled back to");
  const codeHook = hookKind(hooks.rollback);
  if (backup.kind === "QUICK") {
    if (!codeHook) {
      throw new ApiError(
        "CONFLICT",
        "A QUICK backup holds only the commit, and no ROLLBACK_COMMAND or ROLLBACK_WEBHOOK_URL is configured to roll the code back to it",
      );
    }
    if (!backup.commitSha) throw new ApiError("CONFLICT", "This QUICK backup records no commit, so there is nothing to roll the code back to");
  }

  const row = await ctx.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_DEPLOY}, 1)`;
    const running = await tx.deployment.findFirst({ where: { status: "RUNNING" }, select: { id: true } });
    if (running) throw new ApiError("OPERATION_IN_PROGRESS", `Deploy or rollback ${running.id} is still running; wait for it to finish`);
    const restoring = await tx.restoreJob.count({ where: { status: { in: [...ACTIVE_JOB_STATUSES] } } });
    if (restoring) throw new ApiError("OPERATION_IN_PROGRESS", "A restore is in progress; wait for it to finish before rolling back");
    return createDeploymentRow(
      ctx,
      {
        type: "ROLLBACK",
        rollback: { phase: backup.kind === "FULL" ? "RESTORING" : "CODE", backupKind: backup.kind },
        commitSha: backup.commitSha ?? "",
        gateDecision: true,
        reasons: [],
        backupId: backup.id,
        status: "RUNNING",
        log: `[${new Date().toISOString()}] Rollback to backup ${backup.id} (${backup.kind}, commit ${backup.commitSha ?? "not recorded"}) requested by ${who.actor.label ?? who.actor.type}\n`,
      },
      who,
      tx,
    );
  });

  if (backup.kind === "FULL") {
    let r: { restoreId: string; preRestoreBackupId: string };
    try {
      r = await startRestore(ctx, backup.id, who.actor, { confirm: "RESTORE", initiatedById: who.userId, reason: "rollback" });
    } catch (e) {
      // Refused before anything was queued: not a rollback that happened.
      await ctx.db.deployment.delete({ where: { id: row.id } }).catch(() => {});
      await audit(ctx.db, { actor: who.actor, action: "rollback.refused", target: backup.id, targetId: backup.targetId, details: { reason: (e as Error).message } });
      throw e;
    }
    await ctx.db.deployment.update({ where: { id: row.id }, data: { restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId } });
    const out = deployLog(ctx, row.id, { startBytes: Buffer.byteLength(row.log) });
    out.step(`Database restore ${r.restoreId} queued; it takes safety backup ${r.preRestoreBackupId} of the database as it is now, first`);
    await out.flush();
    await mirrorDeployment(ctx, row.id);
    await audit(ctx.db, {
      actor: who.actor,
      action: "rollback.started",
      target: backup.id,
      targetId: backup.targetId,
      details: { deploymentId: row.id, kind: "FULL", commitSha: backup.commitSha, restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId },
    });
    return { deploymentId: row.id, restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId };
  }

  await mirrorDeployment(ctx, row.id);
  await audit(ctx.db, { actor: who.actor, action: "rollback.started", target: backup.id, targetId: backup.targetId, details: { deploymentId: row.id, kind: "QUICK", commitSha: backup.commitSha } });
  const done = trackHookRun(runRollbackCode(ctx, row.id, hooks));
  return { deploymentId: row.id, done };
}

/** The code half: ROLLBACK_COMMAND / ROLLBACK_WEBHOOK_URL with the backup's commit. */
async function runRollbackCode(ctx: BackupContext, deploymentId: string, hooks: DeployHooks): Promise<"ROLLED_BACK" | "FAILED"> {
  const row = await ctx.db.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
  const out = deployLog(ctx, deploymentId, { startBytes: Buffer.byteLength(row.log) });
  const notes: string[] = [];
  let result: { ok: boolean; reason?: string } = { ok: true };
  try {
    if (!hookKind(hooks.rollback)) {
      notes.push("No ROLLBACK_COMMAND or ROLLBACK_WEBHOOK_URL is configured: the database was rolled back, the code was not");
      out.step(notes[0]);
    } else if (!row.commitSha) {
      notes.push("The backup records no commit: the database was rolled back, the code hook did not run");
      out.step(notes[0]);
    } else {
      out.step(`Rolling the code back to ${row.commitSha}`);
      result = await runHook(hooks.rollback, { event: "rollback", commitSha: row.commitSha, deploymentId, environment: row.environment }, out);
    }
  } catch (e) {
    result = { ok: false, reason: (e as Error).message };
  }
  const status = result.ok ? "ROLLED_BACK" : "FAILED";
  out.step(result.ok ? "Rollback complete" : `Rollback failed: ${result.reason}`);
  await out.flush();
  await updateDeployment(ctx, deploymentId, {
    status,
    completedAt: new Date(),
    reasons: result.ok ? notes : [...notes, `Code rollback failed: ${result.reason}`],
    rollbackPhase: "DONE",
  });
  await audit(ctx.db, {
    actor: { type: "system", label: "rollback" },
    action: result.ok ? "rollback.succeeded" : "rollback.failed",
    target: row.backupId,
    targetId: row.targetId,
    details: { deploymentId, commitSha: row.commitSha || null, restoreId: row.restoreId, codeHook: hookKind(hooks.rollback), reason: result.reason ?? null, notes },
  });
  log.info({ deploymentId, status }, "rollback finished");
  return status;
}

/**
 * Called when a restore has finished (event or sweep). Brings deployment records back
 * after a restore of Vaultline's own database, then continues the rollback that asked
 * for the restore, if any: the code hook after a successful restore, FAILED otherwise.
 */
export async function afterRestore(ctx: BackupContext, restoreId: string, hooks: DeployHooks): Promise<"ROLLED_BACK" | "FAILED" | null> {
  if (ctx.targetUrl === ctx.appDatabaseUrl) await reconcileDeployments(ctx);
  // Claims the record: only one process moves it from "restoring" to "code".
  const claimed = await ctx.db.$queryRaw<{ id: string; targetId: string }[]>`
    UPDATE "Deployment" SET "rollbackPhase" = 'CODE'
     WHERE status = 'RUNNING' AND type = 'ROLLBACK' AND "restoreId" = ${restoreId} AND "rollbackPhase" = 'RESTORING'
     RETURNING id, "targetId"`;
  if (!claimed.length) return null;
  const deploymentId = claimed[0].id;
  const restore = await ctx.db.restoreJob.findUnique({ where: { id: restoreId } });
  const out = deployLog(ctx, deploymentId, { startBytes: await logBytes(ctx, deploymentId) });
  if (!restore || restore.status !== "SUCCEEDED") {
    const reason = restore?.failureReason ?? (restore ? `the restore ended ${restore.status}` : "the restore record is missing");
    out.step(`Database restore ${restoreId} failed: ${reason}. The code hook did not run.`);
    await out.flush();
    await updateDeployment(ctx, deploymentId, {
      status: "FAILED",
      completedAt: new Date(),
      reasons: [`Database restore failed: ${reason}`],
      rollbackPhase: "DONE",
    });
    await audit(ctx.db, { actor: { type: "system", label: "rollback" }, action: "rollback.failed", target: restore?.backupId ?? null, targetId: claimed[0].targetId, details: { deploymentId, restoreId, reason } });
    return "FAILED";
  }
  out.step(
    `Database restored from backup ${restore.backupId} (restore ${restoreId}, ${restore.durationSeconds?.toFixed(1) ?? "?"} s); safety backup ${restore.safetyBackupId} holds the state before it`,
  );
  const run = checkRunSchema.safeParse(restore.checks);
  if (run.success) out.step(`Checks after the restore: ${run.data.status}`);
  await out.flush();
  if (run.success) await ctx.db.deployment.update({ where: { id: deploymentId }, data: { checks: run.data as unknown as Prisma.InputJsonObject } });
  await mirrorDeployment(ctx, deploymentId);
  await audit(ctx.db, {
    actor: { type: "system", label: "rollback" },
    action: "rollback.database_restored",
    target: restore.backupId,
    targetId: restore.targetId,
    details: { deploymentId, restoreId, safetyBackupId: restore.safetyBackupId },
  });
  return runRollbackCode(ctx, deploymentId, hooks);
}

async function logBytes(ctx: BackupContext, id: string): Promise<number> {
  const r = await ctx.db.$queryRaw<{ n: number }[]>`SELECT octet_length(log)::int AS n FROM "Deployment" WHERE id = ${id}`;
  return r[0]?.n ?? 0;
}

/**
 * Rollbacks whose restore finished without this process hearing of it (another worker,
 * a restart) are continued here; a code hook whose process died is marked FAILED.
 */
export async function sweepRollbacks(ctx: BackupContext, hooks: DeployHooks, now = new Date()): Promise<void> {
  const rows = await ctx.db.deployment.findMany({
    where: { status: "RUNNING", type: "ROLLBACK" },
    select: { id: true, restoreId: true, rollbackPhase: true, at: true, commitSha: true, targetId: true },
  });
  for (const r of rows) {
    const restore = r.restoreId
      ? await ctx.db.restoreJob.findUnique({ where: { id: r.restoreId }, select: { status: true, completedAt: true } })
      : null;
    const restoreDone = !!restore && (restore.status === "SUCCEEDED" || restore.status === "FAILED" || restore.status === "CANCELLED");
    if (r.rollbackPhase === "RESTORING" && r.restoreId) {
      // A grace period leaves the restore's own worker to continue it first.
      if (restoreDone && restore.completedAt && now.getTime() - restore.completedAt.getTime() > 15_000) {
        await trackHookRun(afterRestore(ctx, r.restoreId, hooks));
      }
      continue;
    }
    const since = restore?.completedAt ?? r.at;
    if (r.rollbackPhase === "CODE" && now.getTime() - since.getTime() > hooks.rollback.timeoutMs + 5 * 60_000) {
      const reason = "The process running the rollback hook stopped before it finished; check the target and roll back again";
      const u = await ctx.db.deployment.updateMany({ where: { id: r.id, status: "RUNNING" }, data: { status: "FAILED", completedAt: now, reasons: [reason] } });
      if (u.count) {
        await mirrorDeployment(ctx, r.id);
        await audit(ctx.db, { actor: { type: "system", label: "sweep" }, action: "rollback.failed", target: r.commitSha || null, targetId: r.targetId, details: { deploymentId: r.id, reason } });
      }
    }
  }
}
