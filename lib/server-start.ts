// What the web process does before serving: the schema check, the storage mirror of the
// audit trail, then the worker when WORKER_IN_WEB (default) is on.
import { config } from "./config";
import { describeStatus, migrationStatus } from "./migrate";
import { logger } from "./log";

export async function onServerStart(): Promise<void> {
  const cfg = config();
  const problem = describeStatus(await migrationStatus(cfg.databaseUrl));
  if (problem) {
    logger.fatal({ component: "startup" }, `refusing to start: ${problem}`);
    console.error(`[vaultline] refusing to start: ${problem}`);
    process.exit(1);
  }
  const { appContext, startWorker } = await import("./backup");
  const { attachStorageMirrors } = await import("./backup/mirror");
  await import("./backup/extensions");
  const ctx = appContext();
  attachStorageMirrors(ctx);
  if (cfg.WORKER_IN_WEB) await startWorker(ctx);
}
