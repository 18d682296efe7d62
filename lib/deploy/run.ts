// Deploy from the dashboard: the gate decides (and records), then DEPLOY_COMMAND and/or
// DEPLOY_WEBHOOK_URL run with the commit while their output streams into the record.
// Without a hook configured the gate decision is the whole answer: the page explains
// how to configure one.
import type { BackupContext } from "../backup/context";
import { audit } from "../audit";
import { ApiError } from "../errors";
import { componentLogger } from "../log";
import { LOCK_DEPLOY } from "./locks";
import type { GateRequest, HookKind, RunDeployInput } from "../validation/deploy";
import { runGate, type GateResult } from "./gate";
import { deployLog } from "./deploy-log";
import { mirrorDeployment, updateDeployment, type Who } from "./deployments";
import { hookKind, runHook, type DeployHooks } from "./hooks";

const log = componentLogger("deploy");

/** Hook runs in flight started through this module, so tests can wait for them. */
const hookRuns = new Set<Promise<unknown>>();
export function trackHookRun<T>(p: Promise<T>): Promise<T> {
  hookRuns.add(p);
  void p.finally(() => hookRuns.delete(p)).catch(() => {});
  return p;
}
export async function settleHookRuns(): Promise<void> {
  await Promise.allSettled([...hookRuns]);
}

export interface StartedDeploy {
  gate: GateResult;
  hook: HookKind | null;
  /** Resolves when the hook has finished (the route does not wait for it). */
  done: Promise<"SUCCEEDED" | "FAILED"> | null;
}

/**
 * Claims the one deploy slot (409 while a deploy or rollback runs), runs the gate and,
 * when it allows and a hook is configured, starts the hook in the background.
 */
export async function startDeploy(ctx: BackupContext, input: RunDeployInput, who: Who, hooks: DeployHooks): Promise<StartedDeploy> {
  const busy = await ctx.db.deployment.findFirst({ where: { status: "RUNNING" }, select: { id: true } });
  if (busy) throw new ApiError("OPERATION_IN_PROGRESS", `Deployment ${busy.id} is still running; wait for it to finish`);
  const req: GateRequest = { commitSha: input.commitSha, environment: input.environment, maxAgeMinutes: 60, require: "ANY", createIfMissing: false, waitSeconds: 0 };
  const gate = await runGate(ctx, req, who);
  const kind = hookKind(hooks.deploy);
  if (!gate.allowed || !kind) return { gate, hook: kind, done: null };

  // The row becomes RUNNING only if no other one is: two clicks cannot both deploy.
  const claimed = await ctx.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_DEPLOY}, 1)`;
    const other = await tx.deployment.count({ where: { status: "RUNNING" } });
    if (other > 0) return false;
    await tx.deployment.update({ where: { id: gate.deploymentId }, data: { type: "DEPLOY", status: "RUNNING", completedAt: null } });
    return true;
  });
  if (!claimed) {
    await updateDeployment(ctx, gate.deploymentId, { reasons: ["Another deploy or rollback started at the same moment; this one did not run"] });
    throw new ApiError("OPERATION_IN_PROGRESS", "Another deploy or rollback is running; wait for it to finish");
  }
  await mirrorDeployment(ctx, gate.deploymentId);
  await audit(ctx.db, { actor: who.actor, action: "deploy.started", target: input.commitSha, targetId: gate.target.id, details: { deploymentId: gate.deploymentId, hook: kind } });
  const done = trackHookRun(executeDeploy(ctx, gate.deploymentId, input.commitSha, input.environment ?? "production", hooks, gate.target.id));
  return { gate, hook: kind, done };
}

async function executeDeploy(ctx: BackupContext, deploymentId: string, commitSha: string, environment: string, hooks: DeployHooks, targetId: string): Promise<"SUCCEEDED" | "FAILED"> {
  const out = deployLog(ctx, deploymentId);
  let result: { ok: boolean; reason?: string };
  try {
    out.step(`Deploying ${commitSha} to ${environment}`);
    result = await runHook(hooks.deploy, { event: "deploy", commitSha, deploymentId, environment }, out);
  } catch (e) {
    result = { ok: false, reason: (e as Error).message };
  }
  out.step(result.ok ? "Deploy succeeded" : `Deploy failed: ${result.reason}`);
  await out.flush();
  const status = result.ok ? "SUCCEEDED" : "FAILED";
  await updateDeployment(ctx, deploymentId, { status, completedAt: new Date(), ...(result.ok ? {} : { reasons: [`Deploy failed: ${result.reason}`] }) });
  await audit(ctx.db, {
    actor: { type: "system", label: "deploy" },
    action: result.ok ? "deploy.succeeded" : "deploy.failed",
    target: commitSha,
    targetId,
    details: { deploymentId, reason: result.reason ?? null },
  });
  log.info({ deploymentId, commitSha, status }, "deploy finished");
  return status;
}

/**
 * A RUNNING deploy whose process died never finishes by itself: after the hook timeout
 * and a margin it is marked FAILED. Rollbacks are finished by the rollback watcher.
 */
export async function sweepStaleDeploys(ctx: BackupContext, hooks: DeployHooks, now = new Date()): Promise<string[]> {
  const cutoff = new Date(now.getTime() - hooks.deploy.timeoutMs - 2 * 60_000);
  const stale = await ctx.db.deployment.findMany({
    where: { status: "RUNNING", type: { not: "ROLLBACK" }, at: { lt: cutoff } },
    select: { id: true, commitSha: true, targetId: true },
  });
  const failed: string[] = [];
  for (const d of stale) {
    const reason = "The process running the deploy hook stopped before it finished (no result after the hook timeout); check the target and deploy again";
    const r = await ctx.db.deployment.updateMany({ where: { id: d.id, status: "RUNNING" }, data: { status: "FAILED", completedAt: now, reasons: [reason] } });
    if (!r.count) continue;
    await mirrorDeployment(ctx, d.id);
    await audit(ctx.db, { actor: { type: "system", label: "sweep" }, action: "deploy.failed", target: d.commitSha, targetId: d.targetId, details: { deploymentId: d.id, reason } });
    failed.push(d.id);
  }
  return failed;
}
