// What the Deployment Control Center shows: the gate as it stands (read-only: the last
// stored check run, nothing recorded), the newest backup and its age, the commit to
// prefill, which hooks are configured, and whether a deploy or rollback is running.
import type { BackupContext } from "../backup/context";
import { backupSelect, toBackupDto } from "../backup/catalog";
import { formatDuration, plural } from "../format";
import type { DeployState } from "../validation/deploy";
import { backupVerdict, dumpingReason, resolveGateRequest, runningDump } from "./gate";
import { checkReasons, latestCheckRun } from "./checks-store";
import { deploymentType } from "./deployments";
import { hookKind, type DeployHooks } from "./hooks";

export const STALE_BACKUP_SECONDS = 3600;

export async function deployState(
  ctx: BackupContext,
  hooks: DeployHooks,
  query: { target?: string; maxAgeMinutes?: number; require?: "FULL" | "ANY" },
  now = new Date(),
): Promise<DeployState> {
  // One target's gate (omitted = `default`), with its own gate defaults.
  const q = await resolveGateRequest(ctx.db, query);
  const { targetId } = q;
  const [verdict, stored, newestRow, withCommit, running, dumping] = await Promise.all([
    backupVerdict(ctx, q, now),
    // The stored check run is the default target's (the gate stores only those).
    q.target.isDefault ? latestCheckRun(ctx) : Promise.resolve(null),
    ctx.db.backupJob.findFirst({
      where: { targetId, status: "SUCCEEDED", completedAt: { not: null } },
      orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
      select: backupSelect,
    }),
    ctx.db.backupJob.findFirst({ where: { targetId, status: "SUCCEEDED", commitSha: { not: null } }, orderBy: { completedAt: "desc" }, select: { commitSha: true } }),
    ctx.db.deployment.findFirst({ where: { status: "RUNNING" }, orderBy: { at: "desc" }, select: { id: true, type: true } }),
    // As the gate would say (decision 175): a FULL backup dumping now holds up a migration.
    q.duringBackup === "block" ? runningDump(ctx, targetId, null) : Promise.resolve(null),
  ]);
  const run = stored?.run ?? null;
  const reasons = [...(verdict.fresh ? [] : verdict.reasons), ...(dumping ? [dumpingReason(dumping, q.targetName, now)] : []), ...checkReasons(run)];
  const newestBackup = newestRow ? toBackupDto(newestRow) : null;
  const age = newestRow?.completedAt ? (now.getTime() - newestRow.completedAt.getTime()) / 1000 : null;
  const staleAfterMinutes = Math.min(STALE_BACKUP_SECONDS / 60, q.maxAgeMinutes);
  const staleWarning =
    age === null
      ? "There is no successful backup yet. Take one before deploying."
      : age > staleAfterMinutes * 60
        ? `The newest backup finished ${formatDuration(age)} ago, more than ${staleAfterMinutes === 60 ? "an hour" : plural(staleAfterMinutes, "minute")}. Take a fresh one before deploying.`
        : null;
  const type = running ? deploymentType(running) : null;
  return {
    gate: {
      allowed: reasons.length === 0,
      reasons,
      backup: verdict.backup,
      checksAt: run?.finishedAt ?? null,
      checksStatus: run?.status ?? null,
      maxAgeMinutes: q.maxAgeMinutes,
      require: q.require,
    },
    newestBackup,
    staleWarning,
    defaultCommit: withCommit?.commitSha ?? ctx.appCommitSha?.toLowerCase() ?? null,
    hooks: { deploy: hookKind(hooks.deploy), rollback: hookKind(hooks.rollback), timeoutSeconds: Math.round(hooks.deploy.timeoutMs / 1000) },
    running: running && (type === "deploy" || type === "rollback") ? { id: running.id, type } : running ? { id: running.id, type: "deploy" } : null,
  };
}
