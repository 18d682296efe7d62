// Finished backups and restores are announced here; notifications, retries and retention
// subscribe at worker start. The engine does not know who listens.
import { componentLogger } from "../log";

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
export type EngineEvent = BackupFinished | RestoreEvent;

type Listener = (e: EngineEvent) => Promise<void> | void;
const g = globalThis as unknown as { __vaultlineListeners?: Set<Listener> };
const log = componentLogger("events");

export function onEngineEvent(l: Listener): () => void {
  g.__vaultlineListeners ??= new Set();
  g.__vaultlineListeners.add(l);
  return () => g.__vaultlineListeners?.delete(l);
}

/** Listeners run in order; one failing never affects the job or the other listeners. */
export async function emitEngineEvent(e: EngineEvent): Promise<void> {
  for (const l of g.__vaultlineListeners ?? []) {
    try {
      await l(e);
    } catch (err) {
      log.error({ err: (err as Error).message, event: e.type }, "event listener failed");
    }
  }
}
