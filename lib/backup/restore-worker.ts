// Queue handlers for restores and drills, and the sweep for restores whose worker died.
import { registerWorkerExtension } from "./worker";
import { getBoss, QUEUES, registerLocalWorker } from "../queue";
import { restoreHousekeeping, runRestore } from "./restore";
import { runDrill } from "./drill";
import { componentLogger } from "../log";

const log = componentLogger("restore");

registerWorkerExtension(async (ctx) => {
  const boss = await getBoss(ctx.appDatabaseUrl);
  await restoreHousekeeping(ctx);
  const restoreWorker = await boss.work<{ restoreId: string }>(QUEUES.restore, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    await runRestore(ctx, job.data.restoreId);
  });
  const unregister = registerLocalWorker(QUEUES.restore, boss, restoreWorker);
  const ids = [
    restoreWorker,
    await boss.work<{ jobId: string }>(QUEUES.drill, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
      await runDrill(ctx, job.data.jobId);
    }),
  ];
  const timer = setInterval(() => {
    restoreHousekeeping(ctx).catch((e: Error) => log.error({ err: e.message }, "restore sweep failed"));
  }, 60_000);
  return async () => {
    clearInterval(timer);
    unregister();
    for (const id of ids) await boss.offWork({ id }).catch(() => {});
  };
});
