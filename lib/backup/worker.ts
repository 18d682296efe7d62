// The queue consumer: backups, verifications, the stale-job sweep. Runs inside the web
// process by default (WORKER_IN_WEB) or alone with `npm run worker` for scale-out.
import type { BackupContext } from "./context";
import { getBoss, QUEUES, registerLocalWorker } from "../queue";
import { runBackup } from "./run-backup";
import { runVerify } from "./verify";
import { sweepStaleJobs } from "./jobs";
import { componentLogger } from "../log";

const log = componentLogger("worker");

export interface WorkerHandle {
  stop(): Promise<void>;
}

type Extension = (ctx: BackupContext) => Promise<(() => Promise<void>) | void>;
const g = globalThis as unknown as { __vaultlineWorkerExt?: Extension[] };

/** Other modules (restore, schedule, retention) add their queue handlers here. */
export function registerWorkerExtension(ext: Extension): void {
  g.__vaultlineWorkerExt ??= [];
  g.__vaultlineWorkerExt.push(ext);
}

export async function startWorker(ctx: BackupContext, opts: { sweepIntervalMs?: number } = {}): Promise<WorkerHandle> {
  const boss = await getBoss(ctx.appDatabaseUrl);
  const swept = await sweepStaleJobs(ctx);
  if (swept.failed.length || swept.requeued.length) log.warn(swept, "swept stale jobs at start");

  const ids: string[] = [];
  const unregister: (() => void)[] = [];
  const backupId = await boss.work<{ jobId: string }>(QUEUES.backup, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    await runBackup(ctx, job.data.jobId);
  });
  const verifyId = await boss.work<{ jobId: string }>(QUEUES.verify, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    await runVerify(ctx, job.data.jobId);
  });
  ids.push(backupId, verifyId);
  unregister.push(registerLocalWorker(QUEUES.backup, boss, backupId), registerLocalWorker(QUEUES.verify, boss, verifyId));
  const stops: (() => Promise<void>)[] = [];
  for (const ext of g.__vaultlineWorkerExt ?? []) {
    const stop = await ext(ctx);
    if (stop) stops.push(stop);
  }
  const timer = setInterval(() => {
    sweepStaleJobs(ctx).catch((e: Error) => log.error({ err: e.message }, "sweep failed"));
  }, opts.sweepIntervalMs ?? 60_000);
  log.info("worker started");
  return {
    async stop() {
      clearInterval(timer);
      for (const s of stops) await s().catch(() => {});
      for (const u of unregister) u();
      for (const id of ids) await boss.offWork({ id }).catch(() => {});
    },
  };
}
