// `npm run worker`: the queue consumer alone (scale-out). Set WORKER_IN_WEB=false on the
// web replicas when running it.
import { boot } from "../lib/worker";
import { stopBosses } from "../lib/queue";

const { worker } = await boot({ worker: true, name: "vaultline worker" });
console.log("[vaultline worker] running; Ctrl-C to stop");
const stop = async () => {
  await worker?.stop();
  await stopBosses();
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
