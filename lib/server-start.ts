// What the web process does before serving: the schema check, then the worker when
// WORKER_IN_WEB (default) is on.
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
}
