// `npm run worker`: the queue consumer alone (scale-out). Set WORKER_IN_WEB=false on the
// web replicas when running it.
import { appContext, startWorker } from "../lib/backup";
import { config } from "../lib/config";
import { describeStatus, migrationStatus } from "../lib/migrate";
import { stopBosses } from "../lib/queue";
import { attachStorageMirrors } from "../lib/backup/mirror";
import "../lib/backup/extensions";

const problem = describeStatus(await migrationStatus(config().databaseUrl));
if (problem) {
  console.error(`[vaultline worker] refusing to start: ${problem}`);
  process.exit(1);
}
const ctx = appContext();
attachStorageMirrors(ctx);
const worker = await startWorker(ctx);
console.log("[vaultline worker] running; Ctrl-C to stop");
const stop = async () => {
  await worker.stop();
  await stopBosses();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
