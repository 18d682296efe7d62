// What the web process does before serving: the shared boot (schema check, the storage
// mirror of the audit trail), with the worker when WORKER_IN_WEB (default) is on.
import { config } from "./config";

export async function onServerStart(): Promise<void> {
  const { boot } = await import("./worker");
  await boot({ worker: config().WORKER_IN_WEB, name: "vaultline" });
}
