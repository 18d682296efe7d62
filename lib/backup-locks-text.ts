// A backup's locks in words (decision 175), for the backup's page, its failure reason and
// the deploy gate: the same sentences in each. Browser-safe.
import { formatDuration, plural } from "./format";
import { describeBlocker } from "./restore-activity-text";
import type { BackupLocksDto } from "./validation/backups";

type Waiting = BackupLocksDto["waiting"][number];
type Blocking = BackupLocksDto["blocking"][number];

const onTable = (table: string | null) => (table ? ` on ${table}` : "");

/** "waited 12 s for a lock on public.customers held by pid 4242 (user app, application "migrate"), idle in transaction (…)". */
export function describeBackupWait(w: Waiting): string {
  return `waited ${formatDuration(w.seconds)} for a lock${onTable(w.table)} held by ${w.heldBy.length ? w.heldBy.map(describeBlocker).join("; ") : "another session"}`;
}

/** "pid 4242 (…) has waited 40 s for the backup's lock on public.orders (AccessExclusiveLock); 3 sessions wait behind it". */
export function describeBlockedSession(b: Blocking, opts: { past?: boolean } = {}): string {
  const mode = b.mode ? ` (${b.mode})` : "";
  const behind = b.behind > 0 ? `; ${plural(b.behind, "session")} ${opts.past ? "waited" : b.behind === 1 ? "waits" : "wait"} behind it` : "";
  return `${describeBlocker(b)} ${opts.past ? "waited" : "has waited"} ${formatDuration(b.seconds)} for the backup's lock${onTable(b.table)}${mode}${behind}`;
}

/** Who set a scheduled backup's give-way: BACKUP_GIVE_WAY_SECONDS, or the target's own settings (decision 189). */
export type GiveWaySetBy = "env" | "target";

/** The failure reason of a scheduled backup that gave way to a session it held up (decisions 187, 189). */
export function gaveWayReason(b: Blocking, limitSeconds: number, setBy: GiveWaySetBy = "env"): string {
  const setting = setBy === "target" ? `the target's settings: give way after ${limitSeconds} s` : `BACKUP_GIVE_WAY_SECONDS=${limitSeconds}`;
  return `Gave way to ${describeBlockedSession(b)} (${setting}): the backup stopped so that it could go on. A scheduled backup is retried; if a migration keeps meeting it, deploy through the gate, which holds deploys while a backup dumps.`;
}

/**
 * The failure reason of a backup whose pg_dump gave up waiting for a lock
 * (BACKUP_LOCK_WAIT_SECONDS), from the last sample that showed the wait.
 */
export function lockTimeoutReason(limitSeconds: number, waiting: Waiting | null): string {
  const pids = waiting?.heldBy.map((h) => h.pid) ?? [];
  const who = waiting ? `pg_dump ${describeBackupWait({ ...waiting, seconds: Math.max(waiting.seconds, limitSeconds) })}` : "pg_dump waited for a lock another session held";
  const end = pids.length ? `end it (SELECT pg_terminate_backend(${pids.join("), pg_terminate_backend(")})) or let it finish` : "find the session holding it (pg_locks, pg_blocking_pids) and let it finish";
  return `${who}, and gave up after ${formatDuration(limitSeconds)} (BACKUP_LOCK_WAIT_SECONDS). A migration or a transaction left open holds a lock the dump needs: ${end}, then back up again. A scheduled backup is retried.`;
}
