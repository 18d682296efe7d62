// Advisory locks held on a dedicated connection for the length of an operation. If the
// process dies, PostgreSQL drops the connection and with it the lock — so a crash can
// never leave Vaultline locked.
//
// The other way round, the connection can end while the process lives: Vaultline's
// database restarted or failed over, its idle_session_timeout, a DBA's pg_terminate_backend.
// The lock is then free for anyone. The holder takes it back on a new connection as soon as
// the database answers; if another holder got it first, the holder's `lost` signal aborts
// and the operation stops at its next step (decision 143).
import type pg from "pg";
import { createHash } from "node:crypto";
import { connectSession } from "./pg-client";
import { componentLogger } from "../log";

const log = componentLogger("locks");

export interface HeldLock {
  release(): Promise<void>;
  /**
   * Aborts (with a {@link LockLostError}) when the lock's connection ended and another
   * holder took the lock before this one could take it back. Long operations stop on it.
   */
  readonly lost: AbortSignal;
}

export class LockLostError extends Error {
  constructor() {
    super("Stopped: the operation's lock was lost when its connection to Vaultline's database ended, and another operation took the lock before it could be taken back");
    this.name = "LockLostError";
  }
}

/** How long the holder waits between attempts to take a lost lock back. */
export const RETAKE_DELAYS_MS = [0, 250, 500, 1000, 2000];

/** Two 32-bit keys: a namespace and a hash of the name. */
export function lockKeys(namespace: number, name: string): [number, number] {
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
  return lockKeys(LOCK_DESTRUCTIVE, destructiveName(targetId));
}

/** The lock taken on a new session, or the server pid of the session holding it (null: none by now). */
async function take(url: string, [a, b]: [number, number]): Promise<{ client: pg.Client; pid: number } | { holder: number | null }> {
  // Free of the database's idle timeouts: the session sits idle for the whole operation.
  const c = await connectSession(url, "vaultline-lock");
  try {
    const r = await c.query<{ ok: boolean; pid: number }>("SELECT pg_try_advisory_lock($1, $2) AS ok, pg_backend_pid() AS pid", [a, b]);
    if (r.rows[0].ok) return { client: c, pid: r.rows[0].pid };
    // Advisory keys are int4; pg_locks shows them as oid (unsigned).
    const h = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND classid = ($1::bigint & 4294967295)::oid AND objid = ($2::bigint & 4294967295)::oid`,
      [a, b],
    );
    await c.end();
    return { holder: h.rows[0]?.pid ?? null };
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
}

/** Tries once; null when another holder has it. */
export async function tryLock(url: string, namespace: number, name: string): Promise<HeldLock | null> {
  const k = lockKeys(namespace, name);
  const first = await take(url, k);
  if (!("client" in first)) return null;
  const lost = new AbortController();
  let client: pg.Client | null = first.client;
  let released = false;
  const watch = (c: pg.Client, pid: number) => c.once("end", () => void (!released && client === c && retake(pid)));
  const retake = async (endedPid: number) => {
    client = null;
    log.warn({ name }, "the connection holding a lock ended; taking the lock back");
    for (let attempt = 0; !released; attempt++) {
      await new Promise((r) => setTimeout(r, RETAKE_DELAYS_MS[Math.min(attempt, RETAKE_DELAYS_MS.length - 1)]));
      if (released) return;
      let got: Awaited<ReturnType<typeof take>>;
      try {
        got = await take(url, k);
      } catch {
        continue; // the database is not back yet
      }
      if (released) {
        if ("client" in got) await got.client.end().catch(() => {});
        return;
      }
      if ("client" in got) {
        client = got.client;
        watch(got.client, got.pid);
        log.info({ name, attempts: attempt + 1 }, "lock taken back");
        return;
      }
      // The ended session's server process still holds it while it exits: again shortly.
      if (got.holder === null || got.holder === endedPid) continue;
      log.error({ name, holder: got.holder }, "a lost lock was taken by another operation; this one stops");
      lost.abort(new LockLostError());
      return;
    }
  };
  watch(first.client, first.pid);
  return {
    lost: lost.signal,
    release: async () => {
      released = true;
      await client?.end().catch(() => {});
    },
  };
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
