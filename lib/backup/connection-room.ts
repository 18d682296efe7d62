// Room on the server for the sessions a FULL backup opens at once (decision 178). A role
// made for backups often has a CONNECTION LIMIT, a database may have one, and a small managed
// server's max_connections is often nearly taken by the application's pool. The server
// refuses the session past a limit ("too many connections for role …"): the backup failed
// with that line alone, naming neither how many it needs nor who holds the rest; and the
// watch of its locks, which is best effort, was silently not opened. Now the room is read
// before anything is opened, and a backup without enough of it is refused with the numbers.
import type pg from "pg";
import { quoteIdent } from "./quote";
import { withClient } from "./pg-client";

/**
 * The sessions a FULL backup holds at once while it dumps: pg_dump, the session holding its
 * snapshot (where the table checksums run), the watch of its locks, and the inspection
 * (catalogue, row counts, locale, size) on one session. Before the dump, at most two at once:
 * the pooler probe's pair, then this count alone, whose session also reads the server's version
 * and, for S3, the database's size (decision 193).
 * `tests/connection-room.integration.test.ts` runs a backup under a role limited to exactly
 * this many and checks that each of them was open, so a session added anywhere fails it.
 */
export const FULL_BACKUP_SESSIONS = 4;

export interface ConnectionRoom {
  user: string;
  database: string;
  /** A superuser is bound by neither CONNECTION LIMIT and may use the reserved slots. */
  superuser: boolean;
  /** The role's CONNECTION LIMIT (null: none) and its other sessions now. */
  roleLimit: number | null;
  roleInUse: number;
  /** The database's CONNECTION LIMIT (null: none) and the other sessions on it now. */
  databaseLimit: number | null;
  databaseInUse: number;
  maxConnections: number;
  /** Slots only a superuser (or, from PostgreSQL 16, pg_use_reserved_connections) may take. */
  reserved: number;
  serverInUse: number;
  /** The other sessions by user and application, most first (for the reason). */
  holders: { user: string; application: string; database: string; count: number }[];
}

// Client sessions only: autovacuum, WAL senders, background and parallel workers have slots of
// their own (the table checksums' query may start parallel workers in the backup's name). A
// role without pg_read_all_stats sees other users' sessions without their backend_type: those
// with a database and a user are counted as clients, another user's parallel worker with them.
const CLIENT = `a.pid <> pg_backend_pid() AND coalesce(a.backend_type = 'client backend', a.datid IS NOT NULL AND a.usesysid IS NOT NULL)`;

const ROOM = `
  SELECT current_user AS "user", current_database() AS database, r.rolsuper AS superuser,
         nullif(r.rolconnlimit, -1) AS "roleLimit", nullif(d.datconnlimit, -1) AS "databaseLimit",
         current_setting('max_connections')::int AS "maxConnections",
         current_setting('superuser_reserved_connections')::int
           + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) AS reserved,
         (SELECT count(*) FROM pg_stat_activity a WHERE ${CLIENT} AND a.usesysid = r.oid)::int AS "roleInUse",
         (SELECT count(*) FROM pg_stat_activity a WHERE ${CLIENT} AND a.datid = d.oid)::int AS "databaseInUse",
         (SELECT count(*) FROM pg_stat_activity a WHERE ${CLIENT})::int AS "serverInUse",
         (SELECT coalesce(json_agg(h ORDER BY h.count DESC, h.user, h.application), '[]')
            FROM (SELECT coalesce(a.usename, '?') AS "user", coalesce(nullif(a.application_name, ''), '(no name)') AS application,
                         coalesce(a.datname, '') AS database, count(*)::int AS count
                    FROM pg_stat_activity a WHERE ${CLIENT} GROUP BY 1, 2, 3) h) AS holders
    FROM pg_roles r, pg_database d
   WHERE r.rolname = current_user AND d.datname = current_database()`;

export async function readConnectionRoom(c: pg.Client): Promise<ConnectionRoom> {
  return (await c.query<ConnectionRoom>(ROOM)).rows[0];
}

/** The room on `url`'s server, read on a session of its own that is closed before it answers. */
export function connectionRoomAt(url: string): Promise<ConnectionRoom> {
  return withClient(url, readConnectionRoom, "vaultline-inspect");
}

const sessions = (n: number) => `${n} session${n === 1 ? "" : "s"}`;

function heldBy(holders: ConnectionRoom["holders"], keep: (h: ConnectionRoom["holders"][number]) => boolean): string {
  const mine = holders.filter(keep);
  if (mine.length === 0) return "";
  const shown = mine.slice(0, 3).map((h) => `${h.count} ${h.user}/${h.application}`);
  return ` (${shown.join(", ")}${mine.length > 3 ? `, and ${mine.length - 3} more` : ""})`;
}

/** Which limit leaves the fewest sessions free, how many, and what raises it. Null: it leaves `need`. */
export function tightestLimit(room: ConnectionRoom, need: number): { free: number; said: string; fix: string } | null {
  const t = tightest(room, need);
  return t.free < need ? { ...t, free: Math.max(0, t.free) } : null;
}

/** The limit that leaves the fewest sessions free now, with what raises it by `need` (for its ALTER). */
function tightest(room: ConnectionRoom, need: number): { free: number; said: string; fix: string } {
  return limitsOn(room, need).sort((a, b) => a.free - b.free)[0];
}

/** The room now, each limit that binds this role with its free sessions: "vl_bk: 2 of 4 free; server: 87 of 97 free". */
export function roomSummary(room: ConnectionRoom): string {
  return limitsOn(room, 0)
    .map((l) => `${l.name}: ${l.free} of ${l.of} free`)
    .join("; ");
}

/** Every limit that binds this role: the role's and the database's (not a superuser's), and the server's. */
function limitsOn(room: ConnectionRoom, need: number): { name: string; of: number; free: number; said: string; fix: string }[] {
  const found: { name: string; of: number; free: number; said: string; fix: string }[] = [];
  const role = quoteIdent(room.user);
  const db = quoteIdent(room.database);
  if (!room.superuser && room.roleLimit !== null) {
    found.push({
      name: room.user,
      of: room.roleLimit,
      free: room.roleLimit - room.roleInUse,
      said: `${room.user} may have ${sessions(room.roleLimit)} (its CONNECTION LIMIT) and has ${room.roleInUse} open${heldBy(room.holders, (h) => h.user === room.user)}`,
      fix: `ALTER ROLE ${role} CONNECTION LIMIT ${room.roleInUse + need};`,
    });
  }
  if (!room.superuser && room.databaseLimit !== null) {
    found.push({
      name: room.database,
      of: room.databaseLimit,
      free: room.databaseLimit - room.databaseInUse,
      said: `${room.database} takes ${sessions(room.databaseLimit)} (its CONNECTION LIMIT) and has ${room.databaseInUse} open${heldBy(room.holders, (h) => h.database === room.database)}`,
      fix: `ALTER DATABASE ${db} CONNECTION LIMIT ${room.databaseInUse + need};`,
    });
  }
  const usable = room.maxConnections - (room.superuser ? 0 : room.reserved);
  found.push({
    name: "server",
    of: usable,
    free: usable - room.serverInUse,
    said:
      `the server takes ${sessions(room.maxConnections)} (max_connections)` +
      (room.superuser || room.reserved === 0 ? "" : `, ${room.reserved} of them reserved for superusers,`) +
      ` and has ${room.serverInUse} open${heldBy(room.holders, () => true)}`,
    fix: `raise max_connections (a server restart) or lower the application's connection pool`,
  });
  return found;
}

/** Where the room is counted before the next try. */
export const ROOM_ADVICE = "Settings → Targets → Test connection counts the room.";

/**
 * `reason` (a session refused by the server), with what the work holds and, read on a
 * session of its own once the work's are closed, the limit that binds: "now vl_bk may have 4
 * sessions (its CONNECTION LIMIT) and has 3 open (3 vl_bk/puma)", with the ALTER that makes
 * room for `need` sessions when given and that limit leaves fewer. Best effort: a server
 * still full leaves the reason without it.
 */
export async function withConnectionRoom(reason: string, url: string, holds: string, need?: number): Promise<string> {
  const room = await connectionRoomAt(url).catch(() => null);
  const t = room && tightest(room, need ?? 1);
  const short = t !== null && need !== undefined && t.free < need;
  const fix = !short ? "" : t.fix.startsWith("ALTER") ? ` Run ${t.fix} to make room.` : ` ${t.fix.charAt(0).toUpperCase()}${t.fix.slice(1)}.`;
  const now = t ? ` Now ${t.said}.${fix}` : "";
  return `${reason.replace(/\.?$/, ".")} ${holds}${now} ${ROOM_ADVICE}`;
}

/**
 * Why `doing` (which opens `need` sessions at once) cannot run now, or null when there is
 * room. Sessions counted are the server's now: the application's pool may grow meanwhile.
 */
export function connectionRoomProblem(room: ConnectionRoom, need: number, doing: string): string | null {
  const short = shortOfRoom(room, need, doing);
  if (!short) return null;
  const fix = short.grant ? `Run ${short.grant}` : short.otherwise;
  return `${short.words} ${fix}, or close sessions, then try again. Nothing was started.`;
}

/**
 * The words for `doing` short of room, and what makes room: the ALTER where a CONNECTION
 * LIMIT binds (for a copy button), else what to do about max_connections. Null: room enough.
 */
export function shortOfRoom(room: ConnectionRoom, need: number, doing: string): { words: string; grant: string | null; otherwise: string } | null {
  const t = tightestLimit(room, need);
  if (!t) return null;
  const alter = t.fix.startsWith("ALTER");
  return {
    words: `${doing} opens up to ${sessions(need)} on ${room.database} at once, and there is room for ${t.free} now: ${t.said}.`,
    grant: alter ? t.fix : null,
    otherwise: alter ? "" : t.fix.charAt(0).toUpperCase() + t.fix.slice(1),
  };
}

/** The server refused a session for a limit of its own (SQLSTATE 53300, or its words through pg_dump). */
export function isTooManyConnections(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (err?.code === "53300") return true;
  return /too many connections for (role|database)|sorry, too many clients already|remaining connection slots are reserved/.test(String(err?.message ?? e));
}

/**
 * Sessions a restore beside the live database holds beside its RESTORE_JOBS loaders: the
 * leader pg_restore that builds the indexes with them, and the watch of its sessions.
 */
export const RESTORE_SESSIONS_BESIDE_JOBS = 2;

/**
 * RESTORE_JOBS for this restore, fewer when the server's limits leave no room for them all
 * (a restore is slower with fewer, never wrong), with the note that says so. Best effort: a
 * count that cannot be read keeps them all.
 */
export async function fitRestoreJobs(url: string, jobs: number): Promise<{ jobs: number; note: string | null }> {
  const room = await connectionRoomAt(url).catch(() => null);
  const t = room && tightestLimit(room, jobs + RESTORE_SESSIONS_BESIDE_JOBS);
  if (!t) return { jobs, note: null };
  const fitted = Math.max(1, t.free - RESTORE_SESSIONS_BESIDE_JOBS);
  if (fitted >= jobs) return { jobs, note: null };
  const fix = t.fix.startsWith("ALTER") ? `${t.fix} gives it room for all ${jobs}` : `${t.fix.charAt(0).toUpperCase()}${t.fix.slice(1)} to give it room for all ${jobs}`;
  return {
    jobs: fitted,
    note:
      `Loaded with ${fitted} job${fitted === 1 ? "" : "s"}, not RESTORE_JOBS ${jobs}: ${t.said}, and ${jobs} jobs hold ${jobs + RESTORE_SESSIONS_BESIDE_JOBS} sessions at once ` +
      `(with pg_restore's leader and the watch). Slower, not different. ${fix}.`,
  };
}
