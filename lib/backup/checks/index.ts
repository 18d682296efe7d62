// Runs every check (schema drift, integrity rules, file sync) and folds them into one
// run. Nothing here throws for a failing or broken check: each becomes a result, so one
// bad rule cannot hide the others from the dashboard or the deploy gate.
import { componentLogger } from "../../log";
import { worstStatus, type CheckResult, type CheckRun, type ChecksConfig } from "../../validation/checks";
import { runDriftChecks, type MigrationRow } from "./drift";
import { runFileSync } from "./file-sync";
import { runIntegrityRules } from "./integrity";
import { ChecksFileError, loadChecksFile } from "./load";
import { pinnedTarget } from "../pinned-host";

export type {
  CheckKind,
  CheckResult,
  CheckRun,
  CheckStatus,
  ChecksConfig,
  DriftResult,
  FileSyncEntry,
  FileSyncResult,
  IntegrityResult,
  IntegrityRule,
} from "../../validation/checks";
export type { MigrationRow } from "./drift";
export { ChecksFileError, loadChecksFile, parseChecksFile } from "./load";
export { readAppliedMigrations } from "./drift";

const log = componentLogger("checks");

export interface RunChecksOptions {
  /** The application database being backed up (TARGET_DATABASE_URL). */
  targetUrl: string;
  /** Vaultline's own database (DATABASE_URL). */
  appDbUrl: string;
  /** CHECKS_FILE: integrity rules and file-sync entries. */
  checksFile?: string;
  /** APP_MIGRATIONS_DIR: the application's prisma/migrations folder. */
  appMigrationsDir?: string;
  /** `_prisma_migrations` rows from the newest backup's manifest; null when it has none, omitted to skip. */
  manifestMigrations?: MigrationRow[] | null;
  /** Vaultline's own migrations folder; defaults to prisma/migrations. */
  vaultlineMigrationsDir?: string;
}

function configError(file: string, e: unknown): CheckResult {
  const error = e instanceof ChecksFileError ? e.problems.join("; ") : (e as Error).message;
  return {
    id: "integrity:checks-file",
    name: "Checks file",
    kind: "integrity",
    status: "error",
    summary: `The checks file ${file} could not be used, so no integrity rules or file-sync checks ran: ${error}`,
    details: { file, error },
    durationMs: 0,
  };
}

export async function runChecks(opts: RunChecksOptions): Promise<CheckRun> {
  const startedAt = new Date();
  // One server for every check of a failover URL (decision 190), chosen once: a host that does
  // not answer costs the run its timeout once, not once per kind of check. When none answers,
  // each check says so with the URL as written.
  const o = { ...opts, targetUrl: await pinnedTarget(opts.targetUrl).catch(() => opts.targetUrl) };
  let config: ChecksConfig = { integrity: [], fileSync: [] };
  const results: CheckResult[] = [];
  let loadFailure: CheckResult | null = null;
  if (o.checksFile) {
    try {
      config = await loadChecksFile(o.checksFile);
    } catch (e) {
      loadFailure = configError(o.checksFile, e);
    }
  }
  const [drift, integrity, files] = await Promise.all([
    runDriftChecks(o),
    runIntegrityRules(o.targetUrl, config.integrity),
    runFileSync(o.targetUrl, config.fileSync),
  ]);
  results.push(...drift, ...(loadFailure ? [loadFailure] : []), ...integrity, ...files);
  const run: CheckRun = {
    status: worstStatus(results.map((r) => r.status)),
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    results,
  };
  const notPassing = results.filter((r) => r.status !== "pass");
  log.info(
    {
      status: run.status,
      checks: results.length,
      notPassing: notPassing.map((r) => ({ id: r.id, status: r.status })),
      durationMs: Date.parse(run.finishedAt) - startedAt.getTime(),
    },
    "checks finished",
  );
  for (const r of results.filter((r) => r.status === "error")) log.warn({ id: r.id, summary: r.summary }, "check could not run");
  return run;
}
