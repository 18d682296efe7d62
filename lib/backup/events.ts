// Finished backups and restores are announced here; notifications, retries, retention and
// the deploy watcher subscribe in the worker's composition root (lib/worker). The engine
// does not know who listens. Every event is emitted by worker code (a job run, a sweep),
// so the listeners live in the worker's module instance: no process-wide registry.
import { componentLogger } from "../log";
import type { DrillStatus } from "../validation/drill-settings";
import type { BackupLocksDto } from "../validation/backups";

export interface BackupFinished {
  type: "backup.finished";
  jobId: string;
  status: "SUCCEEDED" | "FAILED" | "CANCELLED";
}
export interface RestoreEvent {
  type: "restore.started" | "restore.finished";
  restoreId: string;
  status?: "SUCCEEDED" | "FAILED";
}
export interface DrillFinished {
  type: "drill.finished";
  drillId: string;
  status: Exclude<DrillStatus, "RUNNING">;
}
/** A session has waited BACKUP_BLOCKING_ALERT_SECONDS for a running backup's lock (decision 175); once per backup. */
export interface BackupBlocking {
  type: "backup.blocking";
  jobId: string;
  session: BackupLocksDto["blocked"][number];
}
export type EngineEvent = BackupFinished | RestoreEvent | DrillFinished | BackupBlocking;

type Listener = (e: EngineEvent) => Promise<void> | void;
const listeners = new Set<Listener>();
const log = componentLogger("events");

export function onEngineEvent(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** Listeners run in order; one failing never affects the job or the other listeners. */
export async function emitEngineEvent(e: EngineEvent): Promise<void> {
  for (const l of listeners) {
    try {
      await l(e);
    } catch (err) {
      log.error({ err: (err as Error).message, event: e.type }, "event listener failed");
    }
  }
}
