// Private keys supplied for one operation (issue 16 §3), held in this process's memory
// only — never in the database, pg-boss job data, audit details or logs. A queued restore
// finds its key here when the worker runs in the web process (WORKER_IN_WEB, the default);
// after a restart the key is gone and the operation is refused with that reason.
// globalThis, not a module variable: Next gives route handlers and the instrumentation
// (where the worker runs) their own copies of each module.
import type { PrivateKey } from "./keyring";

const SLOT = Symbol.for("vaultline.heldPrivateKeys");
const TTL_MS = 60 * 60_000;

interface Held {
  key: PrivateKey;
  timer: NodeJS.Timeout;
}

function held(): Map<string, Held> {
  const g = globalThis as unknown as Record<symbol, Map<string, Held> | undefined>;
  return (g[SLOT] ??= new Map());
}

/** Holds `key` for operation `id` until taken, or for an hour. */
export function holdPrivateKey(id: string, key: PrivateKey): void {
  forgetPrivateKey(id);
  const timer = setTimeout(() => held().delete(id), TTL_MS);
  timer.unref();
  held().set(id, { key, timer });
}

/** The key held for `id`, if any (it stays held until forgotten). */
export function heldPrivateKey(id: string): PrivateKey | undefined {
  return held().get(id)?.key;
}

export function forgetPrivateKey(id: string): void {
  const h = held().get(id);
  if (h) clearTimeout(h.timer);
  held().delete(id);
}
