// Advisory locks held on a dedicated connection for the length of an operation. If the
// process dies, PostgreSQL drops the connection and with it the lock — so a crash can
// never leave Vaultline locked.
import pg from "pg";
import { createHash } from "node:crypto";

export interface HeldLock {
  release(): Promise<void>;
}

/** Two 32-bit keys: a namespace and a hash of the name. */
function keys(namespace: number, name: string): [number, number] {
  return [namespace, createHash("sha256").update(name).digest().readInt32BE(0)];
}

export const LOCK_BACKUP_TARGET = 0x7661_0001; // one backup per target at a time
export const LOCK_DESTRUCTIVE = 0x7661_0002; // restore, undo, rollback, delete, pruning, sweeps
/** The one name every destructive operation locks under (with LOCK_DESTRUCTIVE). */
export const DESTRUCTIVE_NAME = "vaultline";

/** The same key as a session lock, as arguments for pg_try_advisory_xact_lock($1, $2). */
export function destructiveKeys(): [number, number] {
  return keys(LOCK_DESTRUCTIVE, DESTRUCTIVE_NAME);
}

async function connect(url: string) {
  const c = new pg.Client({ connectionString: url, application_name: "vaultline-lock" });
  await c.connect();
  return c;
}

/** Tries once; null when another holder has it. */
export async function tryLock(url: string, namespace: number, name: string): Promise<HeldLock | null> {
  const c = await connect(url);
  try {
    const [a, b] = keys(namespace, name);
    const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS ok", [a, b]);
    if (!r.rows[0].ok) {
      await c.end();
      return null;
    }
    return { release: () => c.end().catch(() => {}) };
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
}

/** Waits for the lock, calling onWait every pollMs while it waits; aborts with signal. */
export async function waitLock(
  url: string,
  namespace: number,
  name: string,
  opts: { signal?: AbortSignal; pollMs?: number; onWait?: () => Promise<void> | void } = {},
): Promise<HeldLock> {
  for (;;) {
    opts.signal?.throwIfAborted();
    const held = await tryLock(url, namespace, name);
    if (held) return held;
    await opts.onWait?.();
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}

/** The one destructive-operation lock, once; null when another operation holds it. */
export function tryDestructiveLock(url: string): Promise<HeldLock | null> {
  return tryLock(url, LOCK_DESTRUCTIVE, DESTRUCTIVE_NAME);
}

/** The one destructive-operation lock, waiting for it. */
export function waitDestructiveLock(url: string, opts: Parameters<typeof waitLock>[3] = {}): Promise<HeldLock> {
  return waitLock(url, LOCK_DESTRUCTIVE, DESTRUCTIVE_NAME, opts);
}
