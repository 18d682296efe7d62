// A FULL backup's locks on its database (decision 175). pg_dump takes a share lock on every
// table it dumps, at its start, and holds them all until it ends; the checksum sessions beside
// it hold theirs for the table they read. Two things follow that nobody saw before:
// - a migration or a transaction left open that holds a table's ACCESS EXCLUSIVE lock makes
//   the dump wait, silently, until BACKUP_TIMEOUT_MINUTES ended it without naming anyone;
// - a migration that wants a table the dump has locked waits for the whole dump, and every
//   query on that table queues behind the migration: for the application, an outage as long
//   as the rest of the backup.
// Sampled from the server every heartbeat (at most every 2 s) on a session of its own, both
// are named by pid, user, application, state and table, never by what they run.
import type pg from "pg";
import { componentLogger } from "../log";
import { startSampler } from "./pg-client";
import { SESSIONS_JSON } from "./server-activity";
import type { BackupLocksDto, LockSessionDto } from "../validation/backups";
import { gaveWayReason, type GiveWaySetBy } from "../backup-locks-text";

const log = componentLogger("backup-locks");

/** The application names of a backup's sessions that hold or wait for table locks (dump.ts, table-checksums.ts). */
export const BACKUP_LOCK_APPLICATIONS = ["vaultline-backup", "vaultline-checksums"] as const;

/** BACKUP_LOCK_WAIT_SECONDS's default, as RESTORE_LOCK_TIMEOUT_SECONDS's. */
export const DEFAULT_LOCK_WAIT_SECONDS = 300;

/** BACKUP_BLOCKING_ALERT_SECONDS's default: a session held up this long is announced. */
export const DEFAULT_BLOCKING_ALERT_SECONDS = 30;

/** A session that waits this long for the backup's lock is logged (once). */
const LOG_AFTER_SECONDS = 5;

export type LockSample = Pick<BackupLocksDto, "waiting" | "blocking"> & { at: string };
type Blocked = BackupLocksDto["blocked"][number];

interface Row {
  pid: number;
  ours: boolean;
  user: string | null;
  application: string | null;
  state: string | null;
  kind: string | null;
  client: string | null;
  transaction_seconds: string | null;
  seconds: string | null;
  relation: string | null;
  mode: string | null;
  behind: number;
  held_by: LockSessionDto[] | null;
}

// Only sessions that wait for a lock are looked at, and pg_blocking_pids (which takes the lock
// manager's partition locks) is asked for those alone. A wait's length is its statement's: pg_dump
// sends one LOCK TABLE per table, a migration's ALTER waits from its start. A session of the
// backup is blocked by another of its own never (share locks), so they are left out of heldBy.
const SAMPLE = `
  WITH ours AS MATERIALIZED (
    SELECT array_agg(pid) AS pids FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = ANY($1) AND pid <> pg_backend_pid()
  ), waiting AS MATERIALIZED (
    SELECT a.*, pg_blocking_pids(a.pid) AS by FROM pg_stat_activity a
     WHERE a.wait_event_type = 'Lock' AND a.datname = current_database() AND a.pid <> pg_backend_pid()
  )
  SELECT w.pid, w.pid = ANY(o.pids) AS ours, w.usename AS user, nullif(w.application_name, '') AS application,
         w.state, w.backend_type AS kind, host(w.client_addr) AS client,
         round(extract(epoch FROM clock_timestamp() - w.xact_start)::numeric, 1) AS transaction_seconds,
         round(extract(epoch FROM clock_timestamp() - w.query_start)::numeric, 1) AS seconds,
         (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) AS relation,
         (SELECT l.mode FROM pg_locks l WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) AS mode,
         (SELECT count(*)::int FROM waiting x WHERE w.pid = ANY(x.by)) AS behind,
         CASE WHEN w.pid = ANY(o.pids) THEN (
           SELECT ${SESSIONS_JSON}
             FROM unnest(w.by) AS bp LEFT JOIN pg_stat_activity b ON b.pid = bp
            WHERE NOT bp = ANY(o.pids)) END AS held_by
    FROM waiting w, ours o
   WHERE o.pids IS NOT NULL AND (w.pid = ANY(o.pids) OR w.by && o.pids)
   ORDER BY w.pid`;

const num = (s: string | null) => (s === null ? null : Number(s));

function session(r: Row): LockSessionDto {
  return { pid: r.pid, user: r.user, application: r.application, state: r.state, kind: r.kind, client: r.client, transactionSeconds: num(r.transaction_seconds) };
}

/** The backup's sessions that wait, and the sessions that wait for the backup, on the database `client` is on. */
export async function readBackupLocks(client: pg.Client): Promise<Omit<LockSample, "at">> {
  const rows = (await client.query<Row>(SAMPLE, [BACKUP_LOCK_APPLICATIONS])).rows;
  const seconds = (r: Row) => Math.max(0, num(r.seconds) ?? 0);
  return {
    waiting: rows.filter((r) => r.ours).map((r) => ({ pid: r.pid, table: r.relation, seconds: seconds(r), heldBy: (r.held_by ?? []).map((h) => ({ ...h, transactionSeconds: num(h.transactionSeconds as unknown as string | null) })) })),
    blocking: rows.filter((r) => !r.ours).map((r) => ({ ...session(r), table: r.relation, mode: r.mode, seconds: seconds(r), behind: r.behind })),
  };
}

export interface BackupLockWatch {
  /** The last sample in which the backup waited, if taken within `ms` (after pg_dump's lock timeout it waits no more). */
  lastWaiting(ms: number): LockSample | null;
  /** Every session that waited a second or more for the backup, at its longest wait. */
  blocked(): Blocked[];
  /** Stops sampling and closes the session. */
  stop(): Promise<void>;
}

/**
 * Samples the backup's locks on the database at `url` every `intervalMs` until stopped, and
 * hands each sample that shows a wait (and the first one after that shows none, as null) to
 * `onSample`, with every session that waited for the backup so far. Best effort
 * (startSampler): the backup never waits for a sample.
 */
export function watchBackupLocks(
  url: string,
  o: {
    intervalMs: number;
    onSample(s: LockSample | null, blocked: Blocked[]): void;
    /** Called once, for the first session that has waited `alertAfterSeconds` (0: never). */
    onLongWait?(b: Blocked): void;
    alertAfterSeconds?: number;
    /** Called once, for the first session that has waited `giveWayAfterSeconds` (0 or absent: never; decision 187). */
    onGiveWay?(b: Blocked): void;
    giveWayAfterSeconds?: number;
    log?: typeof log;
  },
): BackupLockWatch {
  const jlog = o.log ?? log;
  let waiting: { sample: LockSample; ms: number } | null = null;
  const blocked = new Map<number, Blocked>();
  const logged = new Set<number>();
  let shown = false;
  let alerted = false;
  let gaveWay = false;
  const blockedList = () => [...blocked.values()].sort((a, b) => a.pid - b.pid);
  const sampler = startSampler(url, { application: "vaultline-backup-watch", intervalMs: o.intervalMs, what: "the backup's locks", log: jlog }, async (c, stopped) => {
    const s: LockSample = { at: new Date().toISOString(), ...(await readBackupLocks(c)) };
    if (stopped()) return;
    if (s.waiting.length) waiting = { sample: s, ms: Date.now() };
    for (const b of s.blocking) {
      const before = blocked.get(b.pid);
      if (b.seconds >= 1 && (!before || b.seconds >= before.seconds)) blocked.set(b.pid, { ...b, behind: Math.max(b.behind, before?.behind ?? 0) });
      if (b.seconds >= LOG_AFTER_SECONDS && !logged.has(b.pid)) {
        logged.add(b.pid);
        // Who and which table; never the statement.
        jlog.warn({ pid: b.pid, user: b.user, application: b.application, table: b.table, mode: b.mode, seconds: b.seconds, behind: b.behind }, "a session waits for the backup's lock");
      }
      if (!alerted && o.alertAfterSeconds && b.seconds >= o.alertAfterSeconds) {
        alerted = true;
        o.onLongWait?.(b);
      }
      if (!gaveWay && o.giveWayAfterSeconds && b.seconds >= o.giveWayAfterSeconds) {
        gaveWay = true;
        o.onGiveWay?.(b);
      }
    }
    const some = s.waiting.length > 0 || s.blocking.length > 0;
    if (some || shown) o.onSample(some ? s : null, blockedList());
    shown = some;
  });
  return {
    lastWaiting: (ms) => (waiting && Date.now() - waiting.ms <= ms ? waiting.sample : null),
    blocked: blockedList,
    stop: () => sampler.stop(),
  };
}

/** pg_dump's message when its --lock-wait-timeout ran out. */
export function isLockTimeout(message: string): boolean {
  return /canceling statement due to (?:lock|statement) timeout/i.test(message) && /pg_dump|LOCK TABLE/i.test(message);
}

/**
 * A scheduled backup stopped to let a session it held up through (BACKUP_GIVE_WAY_SECONDS,
 * decision 187). The backup fails with this message, and is retried as any failed scheduled
 * backup is.
 */
export class GaveWayError extends Error {
  constructor(
    readonly session: Blocked,
    limitSeconds: number,
    setBy: GiveWaySetBy = "env",
  ) {
    super(gaveWayReason(session, limitSeconds, setBy));
    this.name = "GaveWayError";
  }
}
