// The last check run (schema drift, integrity rules, file sync), kept in RuntimeState
// under "checks" so the dashboard shows it without re-running. Runs come from the
// Run now button, from the deploy gate, and from every restore (RestoreJob.checks); the
// newest of these is "the last run". Per target (DESIGN §8): the default target keeps the
// key "checks" (its history survives the upgrade), any other uses "checks:<targetId>", and
// only that target's backups and restores are compared or counted.
import type { BackupContext } from "../backup/context";
import { readManifest } from "../backup/verify";
import { runChecks, type MigrationRow } from "../backup/checks";
import { audit, type Actor } from "../audit";
import { componentLogger } from "../log";
import { checkRunSchema, worstStatus, type CheckResult, type CheckRun } from "../validation/checks";
import type { StoredCheckRun } from "../validation/deploy";
import { checksStateKey, DEFAULT_TARGET_ID } from "../validation/targets";

export const CHECKS_STATE_KEY = "checks";
const log = componentLogger("checks");

const targetIdOf = (ctx: Pick<BackupContext, "target">) => ctx.target?.id ?? DEFAULT_TARGET_ID;
const stateKeyOf = (ctx: Pick<BackupContext, "target">) => checksStateKey(targetIdOf(ctx), CHECKS_STATE_KEY);

/**
 * The `_prisma_migrations` rows of the newest successful backup, for the drift comparison:
 * undefined when there is no backup (nothing to compare), and a warning result when its
 * manifest cannot be read (the comparison is skipped, and the run says so).
 */
export async function newestBackupMigrations(
  ctx: BackupContext,
): Promise<{ rows: MigrationRow[] | null | undefined; warning: CheckResult | null; backupId: string | null }> {
  const newest = await ctx.db.backupJob.findFirst({
    where: { status: "SUCCEEDED", targetId: targetIdOf(ctx) },
    orderBy: [{ completedAt: "desc" }, { createdAt: "desc" }],
    select: { id: true, createdAt: true },
  });
  if (!newest) return { rows: undefined, warning: null, backupId: null };
  try {
    const m = await readManifest(ctx, newest);
    return { rows: m.prismaMigrations, warning: null, backupId: newest.id };
  } catch (e) {
    const error = `the manifest of backup ${newest.id} could not be read: ${(e as Error).message}`;
    return {
      rows: undefined,
      backupId: newest.id,
      warning: {
        id: "drift:target-backup",
        name: "Target migrations vs. newest backup",
        kind: "drift",
        status: "warn",
        summary: `Not compared: ${error}. Verify that backup on the Backups page.`,
        details: { against: "backup", error },
        durationMs: 0,
      },
    };
  }
}

/** Runs every check now, against the newest backup's migrations. Never throws for a failing check. */
export async function runChecksNow(ctx: BackupContext): Promise<CheckRun> {
  const m = await newestBackupMigrations(ctx);
  const run = await runChecks({
    targetUrl: ctx.targetUrl,
    appDbUrl: ctx.appDatabaseUrl,
    checksFile: ctx.checksFile,
    appMigrationsDir: ctx.appMigrationsDir,
    manifestMigrations: m.rows,
  });
  if (!m.warning) return run;
  const results = [...run.results, m.warning];
  return { ...run, results, status: worstStatus(results.map((r) => r.status)) };
}

export async function storeCheckRun(ctx: BackupContext, stored: StoredCheckRun): Promise<void> {
  const value = JSON.parse(JSON.stringify(stored)) as object;
  const key = stateKeyOf(ctx);
  await ctx.db.runtimeState.upsert({
    where: { key },
    create: { key, value, updatedBy: stored.by ?? "system" },
    update: { value, updatedBy: stored.by ?? "system" },
  });
}

/** Runs, stores and audits; the answer is the stored run. */
export async function runAndStoreChecks(ctx: BackupContext, source: "manual" | "gate", actor: Actor): Promise<StoredCheckRun> {
  const run = await runChecksNow(ctx);
  const stored: StoredCheckRun = { run, source, by: actor.label ?? actor.type };
  await storeCheckRun(ctx, stored);
  await audit(ctx.db, {
    actor,
    action: "checks.run",
    target: null,
    targetId: ctx.target?.id ?? DEFAULT_TARGET_ID,
    details: {
      ...(ctx.target ? { target: ctx.target.name } : {}),
      source,
      status: run.status,
      notPassing: run.results.filter((r) => r.status !== "pass").map((r) => ({ id: r.id, status: r.status })),
    },
  });
  return stored;
}

/** The newest run: the stored one, or a restore's post-restore checks if newer. */
export async function latestCheckRun(ctx: Pick<BackupContext, "db" | "target">): Promise<StoredCheckRun | null> {
  const [row, restore] = await Promise.all([
    ctx.db.runtimeState.findUnique({ where: { key: stateKeyOf(ctx) } }),
    ctx.db.restoreJob.findFirst({
      where: { status: "SUCCEEDED", targetId: targetIdOf(ctx) },
      orderBy: { completedAt: "desc" },
      select: { id: true, checks: true, initiatedById: true },
    }),
  ]);
  let stored: StoredCheckRun | null = null;
  if (row) {
    const v = row.value as { run?: unknown; source?: StoredCheckRun["source"]; by?: string | null; restoreId?: string | null };
    const parsed = checkRunSchema.safeParse(v?.run);
    if (parsed.success) stored = { run: parsed.data, source: v.source ?? "manual", by: v.by ?? null, ...(v.restoreId ? { restoreId: v.restoreId } : {}) };
    else log.warn({ issues: parsed.error.issues.length }, "stored check run is not readable; ignoring it");
  }
  const fromRestore = restore ? checkRunSchema.safeParse(restore.checks) : null;
  if (restore && fromRestore?.success && (!stored || fromRestore.data.finishedAt > stored.run.finishedAt)) {
    return { run: fromRestore.data, source: "restore", by: null, restoreId: restore.id };
  }
  return stored;
}

/** Blocking results: failures and checks that could not run. Warnings never block. */
export function blockingResults(run: CheckRun | null): CheckResult[] {
  return (run?.results ?? []).filter((r) => r.status === "fail" || r.status === "error");
}

export function checkReasons(run: CheckRun | null): string[] {
  return blockingResults(run).map((r) =>
    r.status === "fail" ? `Check "${r.name}" failed: ${r.summary}` : `Check "${r.name}" could not run: ${r.summary}`,
  );
}
