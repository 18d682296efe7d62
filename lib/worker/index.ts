// The worker's composition root: every queue handler and every loop a worker runs is
// listed here, and nowhere else registers one. The web process (instrumentation, when
// WORKER_IN_WEB) and `npm run worker` both start it through boot().
import type { BackupContext } from "../backup/context";
import { appContext } from "../backup/context";
import { runBackup } from "../backup/run-backup";
import { runVerify } from "../backup/verify";
import { sweepStaleJobs } from "../backup/jobs";
import { removeDeadUploadSpools } from "../backup/storage/s3-spooled-upload";
import { every as periodic, type Stop } from "./every";
import { foldTally } from "../backup/catalog";
import { restoreHousekeeping, runRestore } from "../backup/restore";
import { runDrill } from "../backup/drill";
import { recoverReencryptions } from "../backup/reencrypt";
import { runReencryptJob } from "../backup/keys-admin";
import { startScheduler } from "../backup/schedule";
import { startDrillScheduler } from "../backup/drill-schedule";
import { startRetries } from "../backup/retries";
import { startRetention } from "../backup/retention-run";
import { mirrorPendingAuditEvents } from "../backup/mirror";
import { sendNotification, startNotifications } from "../notify/wiring";
import type { NotifyConfig } from "../notify";
import { hooksFromConfig, type DeployHooks } from "../deploy/hooks";
import { startDeployWatcher } from "../deploy/watcher";
import { config, type Config } from "../config";
import { describeStatus, migrationStatus } from "../migrate";
import { sharesServerSessions } from "../backup/pooler";
import { ensureDefaultTarget } from "../backup/targets";
import { QUEUES, workQueue } from "../queue";
import { componentLogger } from "../log";

const log = componentLogger("worker");

/** Backups one worker runs at once (each of a different target: a target's second one waits for the first). */
export const BACKUP_CONCURRENCY = 3;
/** Restores one worker runs at once (each of a different target). */
export const RESTORE_CONCURRENCY = 2;

export interface WorkerHandle {
  stop(): Promise<void>;
}

/** What the automation needs from the configuration. */
export interface AutomationConfig {
  notify: NotifyConfig;
  hooks: DeployHooks;
}

export interface WorkerOptions {
  /** How often pending audit events are copied to storage (default 2 s). */
  auditMirrorIntervalMs?: number;
  /** How often the stale-job sweeps run (default 60 s). */
  sweepIntervalMs?: number;
  /**
   * The schedule, retries, retention, notifications and the deploy watcher. Processes
   * always run them (boot); tests that drive the queue alone leave them out.
   */
  automation?: AutomationConfig;
}

/** Runs `fn` every `ms`, never two at once; a failure is logged and the loop goes on (every.ts). */
const every = (ms: number, what: string, fn: () => Promise<unknown>): Stop => periodic(ms, what, fn, (w, e) => log.error({ err: e.message }, `${w} failed`));

export function automationConfig(cfg: Config): AutomationConfig {
  return {
    notify: { WEBHOOK_SECRET: cfg.WEBHOOK_SECRET, SMTP_URL: cfg.SMTP_URL, SMTP_FROM: cfg.SMTP_FROM },
    hooks: hooksFromConfig(cfg),
  };
}

async function sweepUploadSpools(): Promise<void> {
  const removed = await removeDeadUploadSpools();
  if (removed.length) log.warn({ removed }, "S3 parts directories of ended upload processes removed");
}

/** Starts everything a worker does against `ctx`; stop() ends it in reverse order. */
export async function startWorker(ctx: BackupContext, opts: WorkerOptions = {}): Promise<WorkerHandle> {
  const url = ctx.appDatabaseUrl;
  const sweepMs = opts.sweepIntervalMs ?? 60_000;
  const stops: Stop[] = [];

  // Jobs whose worker died while this one was down, before new ones are taken.
  const swept = await sweepStaleJobs(ctx);
  if (swept.failed.length || swept.requeued.length) log.warn(swept, "swept stale jobs at start");
  await restoreHousekeeping(ctx);
  await sweepUploadSpools();
  // Re-encryptions a killed process left half-done: finished or rolled back.
  await recoverReencryptions(ctx);

  // Queue handlers.
  // Several at once, so backups (and restores) of different targets run side by side; one
  // per target is the target's lock's business (run-backup.ts, restore.ts).
  stops.push((await workQueue<{ jobId: string }>(url, QUEUES.backup, (job) => runBackup(ctx, job.data.jobId), { concurrency: BACKUP_CONCURRENCY })).stop);
  stops.push((await workQueue<{ jobId: string }>(url, QUEUES.verify, (job) => runVerify(ctx, job.data.jobId))).stop);
  stops.push((await workQueue<{ restoreId: string }>(url, QUEUES.restore, (job) => runRestore(ctx, job.data.restoreId), { concurrency: RESTORE_CONCURRENCY })).stop);
  stops.push((await workQueue<{ jobId: string; drillId?: string }>(url, QUEUES.drill, (job) => runDrill(ctx, job.data.jobId, { drillId: job.data.drillId }))).stop);
  stops.push((await workQueue<Parameters<typeof runReencryptJob>[1]>(url, QUEUES.reencrypt, (job) => runReencryptJob(ctx, job.data))).stop);

  const auto = opts.automation;
  if (auto) {
    // The schedule: its tick handler, the start-up catch-up and the settings re-sync.
    stops.push(await startScheduler(ctx));
    stops.push(await startDrillScheduler(ctx));
    // Subscribers to the engine's events, each with its own loop.
    stops.push(startNotifications(ctx, { cfg: auto.notify }));
    stops.push(startRetries(ctx));
    stops.push(startRetention(ctx, { notifier: (e) => sendNotification(ctx, e, auto.notify) }));
    stops.push(startDeployWatcher(ctx, auto.hooks));
  }

  // Sweeps for work whose process died.
  stops.push(every(sweepMs, "stale backup sweep", () => sweepStaleJobs(ctx)));
  // Stale restores, and files swaps a killed restore left half-done.
  stops.push(every(sweepMs, "restore housekeeping", () => restoreHousekeeping(ctx)));
  // S3 parts directories of upload processes killed with -9.
  stops.push(every(sweepMs, "upload spool sweep", sweepUploadSpools));
  // The audit trail's copies in storage (the rows are the outbox).
  stops.push(every(opts.auditMirrorIntervalMs ?? 2_000, "audit mirror", () => mirrorPendingAuditEvents(ctx)));
  // The list totals' deltas, folded so a total never sums more than a few minutes of them.
  stops.push(every(sweepMs, "catalogue tally fold", () => foldTally(ctx.db)));

  log.info("worker started");
  return {
    async stop() {
      for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
    },
  };
}

export interface Booted {
  ctx: BackupContext;
  worker: WorkerHandle | null;
}

/**
 * Why a process must not start on Vaultline's database at `url`, or null: a schema that is
 * not this version's, or a URL through a connection pooler in transaction mode. Vaultline's
 * locks are advisory locks held by a session: such a pooler lends that server session to
 * other clients, which would then take the "same" lock as its holder (decision 148).
 */
export async function startupProblem(url: string): Promise<string | null> {
  const schema = describeStatus(await migrationStatus(url));
  if (schema) return schema;
  if (await sharesServerSessions(url)) {
    return "DATABASE_URL goes through a connection pooler in transaction mode (two sessions shared one server process): Vaultline holds its locks on sessions of its own, which such a pooler lends to other clients. Use the database's direct URL, or the pooler's session mode";
  }
  return null;
}

/**
 * What a Vaultline process does before it works: refuse an unmigrated schema, then start
 * the worker when asked. Shared by the web process
 * (instrumentation) and `npm run worker`.
 */
export async function boot(opts: { worker: boolean; name: string }): Promise<Booted> {
  const cfg = config();
  const problem = await startupProblem(cfg.databaseUrl);
  if (problem) {
    log.fatal({ component: "startup" }, `refusing to start: ${problem}`);
    console.error(`[${opts.name}] refusing to start: ${problem}`);
    process.exit(1);
  }
  const ctx = appContext();
  await ensureDefaultTarget(ctx.db, { environment: cfg.BACKUP_ENV, targetUrl: cfg.targetDatabaseUrl });
  return { ctx, worker: opts.worker ? await startWorker(ctx, { automation: automationConfig(cfg) }) : null };
}
