// The pre-deploy gate (seed 002's "no deploy without a backup", seed 004's pre-deploy
// validation): "may I deploy commit X?" is yes only when a successful backup of the
// required kind finished within maxAgeMinutes AND no check fails. Warnings never block.
// Every decision is a Deployment row and an audit event.
import type { BackupContext } from "../backup/context";
import { createBackupJob } from "../backup/jobs";
import { backupSelect, toBackupDto } from "../backup/catalog";
import { audit } from "../audit";
import { componentLogger, redactUrl } from "../log";
import { errorBody } from "../errors";
import { formatDuration, plural } from "../format";
import { DUMP_PHASES, type BackupDto } from "../validation/backups";
import type { CheckRun } from "../validation/checks";
import { GATE_DEFAULTS, type GateAnswer, type GateRequest } from "../validation/deploy";
import type { TargetRef } from "../backup/context";
import { contextForTarget, DEFAULT_TARGET_ID, requireTarget, targetRef, targetSettings, type TargetRow } from "../backup/targets";
import { checkReasons, runChecksNow, storeCheckRun } from "./checks-store";
import { createDeploymentRow, type Who } from "./deployments";
import { ACTIVE_JOB_STATUSES, FINISHED_JOB_STATUSES } from "../validation/backups";

const log = componentLogger("deploy");

type Require = NonNullable<GateRequest["require"]>;
type DuringBackup = NonNullable<GateRequest["duringBackup"]>;

const kindWhere = (require: Require) => (require === "FULL" ? { kind: "FULL" as const } : {});
const kindWord = (require: Require) => (require === "FULL" ? "FULL backup" : "backup");

export interface BackupVerdict {
  fresh: boolean;
  /** The backup that satisfies the gate, else the newest successful one of the required kind. */
  backup: BackupDto | null;
  reasons: string[];
}

/**
 * The target, and the freshness the gate demands of it: the request's own values, else the
 * target's `settings.gate`, else GATE_DEFAULTS (60 minutes, any kind).
 */
export async function resolveGateRequest<Q extends { target?: string; maxAgeMinutes?: number; require?: Require; duringBackup?: DuringBackup }>(
  db: BackupContext["db"],
  q: Q,
): Promise<
  Omit<Q, "target" | "maxAgeMinutes" | "require" | "duringBackup"> & { target: TargetRow; targetId: string; targetName: string; maxAgeMinutes: number; require: Require; duringBackup: DuringBackup }
> {
  const target = await requireTarget(db, q.target);
  const own = targetSettings(target).gate ?? {};
  const { target: _selector, maxAgeMinutes: _age, require: _require, duringBackup: _during, ...rest } = q;
  return {
    ...rest,
    target,
    targetId: target.id,
    targetName: target.name,
    maxAgeMinutes: q.maxAgeMinutes ?? own.maxAgeMinutes ?? GATE_DEFAULTS.maxAgeMinutes,
    require: q.require ?? own.require ?? GATE_DEFAULTS.require,
    duringBackup: q.duringBackup ?? own.duringBackup ?? GATE_DEFAULTS.duringBackup,
  };
}

/**
 * A FULL backup of the target that is dumping now, other than `except`: its dump holds a
 * share lock on every table until it ends (decision 175).
 */
export async function runningDump(ctx: Pick<BackupContext, "db">, targetId: string, except: string | null) {
  return ctx.db.backupJob.findFirst({
    where: { targetId, kind: "FULL", status: "RUNNING", OR: [{ phase: null }, { phase: { in: DUMP_PHASES } }], ...(except ? { id: { not: except } } : {}) },
    orderBy: { startedAt: "asc" },
    select: { id: true, phase: true, startedAt: true, trigger: true },
  });
}

/** Why a deploy waits for a running backup, and how not to. */
export function dumpingReason(b: { id: string; phase: string | null; startedAt: Date | null }, targetName: string, now = new Date()): string {
  const since = b.startedAt ? `, started ${formatDuration((now.getTime() - b.startedAt.getTime()) / 1000)} ago` : "";
  return (
    `Backup ${b.id} of ${targetName} is running (${b.phase ?? "starting"}${since}): its dump holds a lock on every table until it ends, so a migration deployed now would wait for it, ` +
    `and every query on a table the migration alters would wait behind the migration. Call the gate again when it has finished, pass "waitSeconds" to wait for it, ` +
    `or pass "duringBackup": "allow" for a deploy that alters no table.`
  );
}

/**
 * Is there a successful backup of the required kind OF THIS TARGET, finished within
 * maxAgeMinutes? A backup of another target never satisfies it (omitted = `default`).
 */
export async function backupVerdict(
  ctx: Pick<BackupContext, "db">,
  q: { require: Require; maxAgeMinutes: number; targetId?: string; targetName?: string },
  now = new Date(),
): Promise<BackupVerdict> {
  const newest = await ctx.db.backupJob.findFirst({
    where: { targetId: q.targetId ?? DEFAULT_TARGET_ID, status: "SUCCEEDED", completedAt: { not: null }, ...kindWhere(q.require) },
    orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
    select: backupSelect,
  });
  const backup = newest ? toBackupDto(newest) : null;
  // The default target's wording is as before targets; another's names it.
  const other = q.targetId && q.targetId !== DEFAULT_TARGET_ID ? (newest?.target.name ?? q.targetName ?? q.targetId) : null;
  const onTarget = other ? `,"target":"${other}"` : "";
  const hint = `Take one first (POST /api/backups {"kind":"${q.require === "FULL" ? "FULL" : "QUICK"}"${onTarget}} or the Deployments page), or call the gate with "createIfMissing": true.`;
  if (!newest) {
    return { fresh: false, backup: null, reasons: [`No successful ${kindWord(q.require)}${other ? ` of ${other}` : ""} exists. ${hint}`] };
  }
  const ageSeconds = (now.getTime() - newest.completedAt!.getTime()) / 1000;
  if (ageSeconds > q.maxAgeMinutes * 60) {
    return {
      fresh: false,
      backup,
      reasons: [
        `The newest successful ${kindWord(q.require)} (${newest.id}, ${newest.kind}) finished ${formatDuration(ageSeconds)} ago, older than the ${plural(q.maxAgeMinutes, "minute")} allowed. ${hint.replace("Take one first", "Take a fresh one")}`,
      ],
    };
  }
  return { fresh: true, backup, reasons: [] };
}

const TERMINAL = new Set<string>(FINISHED_JOB_STATUSES);

async function pendingBackup(ctx: BackupContext, targetId: string, require: Require, maxAgeMinutes: number) {
  return ctx.db.backupJob.findFirst({
    where: {
      targetId,
      status: { in: [...ACTIVE_JOB_STATUSES] },
      ...kindWhere(require),
      createdAt: { gte: new Date(Date.now() - maxAgeMinutes * 60_000) },
    },
    orderBy: { createdAt: "desc" },
  });
}

async function waitForBackup(ctx: BackupContext, id: string, seconds: number) {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const row = await ctx.db.backupJob.findUnique({ where: { id }, select: { id: true, status: true, phase: true, failureReason: true } });
    if (!row || TERMINAL.has(row.status) || Date.now() >= until) return row;
    await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(50, until - Date.now()))));
  }
}

export interface GateResult extends GateAnswer {
  deploymentId: string;
  /** The target decided for (not in the HTTP answer: the notification names it). */
  target: TargetRef;
  /** The PRE_DEPLOY backup this call queued or waited for, if any. */
  pendingBackupId: string | null;
}

/**
 * Decides for one target (omitted = `default`), records the decision (a Deployment row of
 * that target) and audits it.
 */
export async function runGate(ctx: BackupContext, body: GateRequest, who: Who): Promise<GateResult> {
  const waitUntil = Date.now() + body.waitSeconds * 1000;
  const req = await resolveGateRequest(ctx.db, body);
  const reasons: string[] = [];
  let verdict = await backupVerdict(ctx, req);
  let pendingId: string | null = null;

  if (!verdict.fresh) {
    let pending = await pendingBackup(ctx, req.targetId, req.require, req.maxAgeMinutes);
    if (!pending && req.createIfMissing) {
      pending = await createBackupJob(
        ctx,
        {
          targetId: req.targetId,
          kind: req.require === "FULL" ? "FULL" : "QUICK",
          trigger: "PRE_DEPLOY",
          commitSha: req.commitSha,
          initiatedById: who.userId,
          note: `Pre-deploy backup for ${req.commitSha}`,
        },
        who.actor,
      );
    }
    if (pending) {
      pendingId = pending.id;
      const seen = req.waitSeconds > 0 ? await waitForBackup(ctx, pending.id, req.waitSeconds) : pending;
      verdict = await backupVerdict(ctx, req);
      if (!verdict.fresh && seen) {
        if (seen.status === "FAILED" || seen.status === "CANCELLED") {
          reasons.push(`The pre-deploy backup ${seen.id} ${seen.status.toLowerCase()}: ${seen.failureReason ?? "no reason recorded"}. Fix that and call the gate again.`);
        } else if (!TERMINAL.has(seen.status)) {
          reasons.push(
            req.waitSeconds > 0
              ? `Backup ${seen.id} is still ${seen.status.toLowerCase()} (${seen.phase ?? "waiting"}) after waiting ${req.waitSeconds} s; call the gate again when it has finished, or wait longer with "waitSeconds".`
              : `Backup ${seen.id} is ${seen.status.toLowerCase()} (${seen.phase ?? "waiting"}); call the gate again when it has finished, or pass "waitSeconds" to wait for it.`,
          );
        }
      }
    }
  }
  if (!verdict.fresh) reasons.unshift(...verdict.reasons);
  // A backup that dumps now would hold up the deploy's migration (decision 175). The one this
  // call waited for is already a reason while it runs.
  if (req.duringBackup === "block") {
    let dumping = await runningDump(ctx, req.targetId, pendingId);
    // With waitSeconds, until no dump holds the tables (the files part and the manifest hold none).
    while (dumping && Date.now() + 1000 <= waitUntil) {
      await new Promise((r) => setTimeout(r, 1000));
      dumping = await runningDump(ctx, req.targetId, pendingId);
    }
    if (dumping) reasons.push(dumpingReason(dumping, req.targetName));
  }

  // The checks run after any backup this call waited for, so the drift comparison uses it.
  let checks: CheckRun | null = null;
  try {
    // The checks are the target's own (its database, its checks file).
    checks = await runChecksNow(req.target.isDefault ? ctx : contextForTarget(ctx, req.target));
    // The stored "latest check run" is the Checks page's, about the default target.
    if (req.target.isDefault) await storeCheckRun(ctx, { run: checks, source: "gate", by: who.actor.label ?? who.actor.type });
  } catch (e) {
    // A driver error can quote the target's connection URL: never its password.
    const message = (e as Error).message.replace(/postgres(?:ql)?:\/\/[^\s"']+/g, (u) => redactUrl(u));
    reasons.push(`The checks could not run: ${message}. See the Checks page.`);
  }
  reasons.push(...checkReasons(checks));

  const allowed = reasons.length === 0;
  const row = await createDeploymentRow(
    ctx,
    {
      type: "GATE",
      targetId: req.targetId,
      commitSha: req.commitSha,
      environment: req.environment,
      gateDecision: allowed,
      reasons,
      checks,
      backupId: verdict.backup?.id ?? pendingId,
      status: allowed ? "ALLOWED" : "BLOCKED",
      completedAt: new Date(),
    },
    who,
  );
  await audit(ctx.db, {
    actor: who.actor,
    action: allowed ? "deploy.gate_allowed" : "deploy.gate_blocked",
    target: req.commitSha,
    targetId: req.targetId,
    details: {
      deploymentId: row.id,
      target: req.target.name,
      allowed,
      reasons,
      backupId: verdict.backup?.id ?? null,
      pendingBackupId: pendingId,
      require: req.require,
      maxAgeMinutes: req.maxAgeMinutes,
      checksStatus: checks?.status ?? null,
    },
  });
  log.info({ deploymentId: row.id, target: req.target.name, commitSha: req.commitSha, allowed, reasons: reasons.length }, "gate decision");
  return { allowed, reasons, backup: verdict.backup, checks, deploymentId: row.id, pendingBackupId: pendingId, target: targetRef(req.target) };
}

/**
 * The gate's HTTP answer: 200 {allowed:true, backup, checks}, or 428 {allowed:false,
 * reasons, checks} that also carries the shared error shape, so a generic client sees
 * BACKUP_REQUIRED without knowing the gate's contract.
 */
export function gateResponse(g: GateResult): { status: 200 | 428; body: Record<string, unknown> } {
  const body = { allowed: g.allowed, backup: g.backup, checks: g.checks, deploymentId: g.deploymentId, pendingBackupId: g.pendingBackupId };
  if (g.allowed) return { status: 200, body };
  return { status: 428, body: { ...body, reasons: g.reasons, ...errorBody("BACKUP_REQUIRED", g.reasons.join(" "), { reasons: g.reasons }) } };
}
