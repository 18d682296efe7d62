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

export const LOCK_BACKUP_TARGET = 0x7661_0001; // one backup per target at a time, named by the target's id
export const LOCK_DESTRUCTIVE = 0x7661_0002; // restore, undo, rollback, delete, pruning, sweeps — per target
/**
 * The default target's destructive-lock name, and the catalogue's: the sweeps that rewrite
 * Vaultline's own rows take it, as does a restore of Vaultline's own database (restore.ts).
 * It is the name every destructive operation used before targets, so it keeps meaning the
 * same thing for the default target.
 */
export const DESTRUCTIVE_NAME = "vaultline";

/** The destructive-lock name of a target (absent = `default`): one operation at a time per target. */
export function destructiveName(targetId?: string | null): string {
  return !targetId || targetId === "default" ? DESTRUCTIVE_NAME : `target:${targetId}`;
}

/** A target's key as arguments for pg_try_advisory_xact_lock($1, $2). */
export function destructiveKeys(targetId?: string | null): [number, number] {
  return keys(LOCK_DESTRUCTIVE, destructiveName(targetId));
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

/** A target's destructive-operation lock (absent = `default`), once; null when another operation holds it. */
export function tryDestructiveLock(url: string, targetId?: string | null): Promise<HeldLock | null> {
  return tryLock(url, LOCK_DESTRUCTIVE, destructiveName(targetId));
}

/** A target's destructive-operation lock, waiting for it. */
export function waitDestructiveLock(url: string, opts: Parameters<typeof waitLock>[3] & { targetId?: string | null } = {}): Promise<HeldLock> {
  return waitLock(url, LOCK_DESTRUCTIVE, destructiveName(opts.targetId), opts);
}

/** The lock one backup of a target holds while it runs (named by the target's id, not its URL). */
export function waitBackupLock(url: string, targetId: string | null | undefined, opts: Parameters<typeof waitLock>[3] = {}): Promise<HeldLock> {
  return waitLock(url, LOCK_BACKUP_TARGET, targetId || "default", opts);
}
