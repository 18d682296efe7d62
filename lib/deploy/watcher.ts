// Runs in every worker: continues rollbacks once their restore has finished (event, with
// a sweep for missed events), brings deployment records back after a restore of
// Vaultline's own database, and fails deploys whose process died.
import type { BackupContext } from "../backup/context";
import { onEngineEvent } from "../backup/events";
import { componentLogger } from "../log";
import type { DeployHooks } from "./hooks";
import { afterRestore, sweepRollbacks } from "./rollback";
import { sweepStaleDeploys, trackHookRun } from "./run";

const log = componentLogger("deploy");

export function startDeployWatcher(ctx: BackupContext, hooks: DeployHooks, opts: { sweepIntervalMs?: number } = {}): () => Promise<void> {
  const off = onEngineEvent((e) => {
    if (e.type !== "restore.finished") return;
    // Not awaited: a rollback hook may run for minutes and must not hold the restore queue.
    void trackHookRun(afterRestore(ctx, e.restoreId, hooks)).catch((err: Error) =>
      log.error({ restoreId: e.restoreId, err: err.message }, "rollback continuation failed"),
    );
  });
  const sweep = () =>
    Promise.all([sweepRollbacks(ctx, hooks), sweepStaleDeploys(ctx, hooks)]).catch((err: Error) => log.error({ err: err.message }, "deploy sweep failed"));
  void sweep();
  const timer = setInterval(() => void sweep(), opts.sweepIntervalMs ?? 30_000);
  return async () => {
    off();
    clearInterval(timer);
  };
}
