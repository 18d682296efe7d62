// What the server is doing for a running restore (decision 157): each of the restore's
// sessions, the index or constraint it builds and how far (pg_stat_progress_create_index),
// and, when it waits for a lock, whose session holds it.
//
// A restore's bar counts bytes while rows go in (decision 136); after that the indexes and
// constraints are built, which on a large database is the longer part, and a session that
// waits for another's lock looks exactly like one that works. Read from the server, both
// can be told apart: a build reports its phase and blocks or tuples, a wait names the
// sessions PostgreSQL says block it. Nothing of a query's text is kept: an index's or
// constraint's name and table are taken out of the restore's own statements, and another
// session is described by its pid, user, application, state, transaction age and address —
// what `pg_terminate_backend` needs, never what it runs.
import type pg from "pg";
import { componentLogger } from "../log";
import { startSampler } from "./pg-client";
import type { RestoreActivityDto } from "../validation/restores";
export { END_BLOCKING_AFTER_SECONDS } from "../validation/restores";

const log = componentLogger("server-activity");

export type RestoreActivity = RestoreActivityDto;
export type SessionActivity = RestoreActivityDto["sessions"][number];
export type Blocker = SessionActivity["waitingFor"][number];
/** A sample as the watch takes it: the count of indexes and constraints is the restore's own. */
export type ActivitySample = Omit<RestoreActivity, "items">;

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[^\s."(]+)`;
const QUALIFIED = String.raw`(${IDENT}(?:\.${IDENT})?)`;
const CREATE_INDEX = new RegExp(String.raw`^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?${QUALIFIED}?\s*ON\s+(?:ONLY\s+)?${QUALIFIED}`, "i");
const ADD_CONSTRAINT = new RegExp(String.raw`^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?${QUALIFIED}\s+ADD\s+CONSTRAINT\s+${QUALIFIED}`, "i");
const COPY = new RegExp(String.raw`^\s*COPY\s+${QUALIFIED}`, "i");

/** What a restore's statement builds or loads, by name; its text goes no further than this. */
export function statementTarget(text: string): Pick<SessionActivity, "doing" | "name" | "table"> {
  // psql may send the archive's comment lines ahead of the statement (in place).
  const query = text.replace(/^(?:\s*--[^\n]*(?:\n|$))+/, "");
  let m = CREATE_INDEX.exec(query);
  if (m) return { doing: "index", name: m[1] ?? null, table: m[2] };
  m = ADD_CONSTRAINT.exec(query);
  if (m) return { doing: "constraint", name: m[2], table: m[1] };
  m = COPY.exec(query);
  if (m) return { doing: "copy", name: null, table: m[1] };
  return { doing: "other", name: null, table: null };
}

interface Row {
  pid: number;
  seconds: number | null;
  query: string | null;
  phase: string | null;
  blocks_total: string | null;
  blocks_done: string | null;
  tuples_total: string | null;
  tuples_done: string | null;
  relation: string | null;
  blockers: Blocker[] | null;
}

/**
 * The sessions `bp` (a pid) with `b` (their pg_stat_activity row) as a JSON array of LockSessionDto:
 * what finds and ends a session, never its query. The backup's lock watch names them the same way.
 */
export const SESSIONS_JSON = `coalesce(json_agg(json_build_object(
                    'pid', bp, 'user', b.usename, 'application', nullif(b.application_name, ''), 'state', b.state,
                    'kind', b.backend_type, 'client', host(b.client_addr),
                    'transactionSeconds', round(extract(epoch FROM clock_timestamp() - b.xact_start)::numeric, 1)) ORDER BY bp), '[]')`;

// Run in the database the restore works in: a progress row's relid is an OID there. Another
// session of the same restore (a parallel job's index build that an FK waits for) is not a
// blocker worth naming.
const ACTIVITY = `
  SELECT a.pid, extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS seconds, left(a.query, 1024) AS query,
         p.phase, p.blocks_total, p.blocks_done, p.tuples_total, p.tuples_done,
         (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p.relid) AS relation,
         CASE WHEN a.wait_event_type = 'Lock' THEN (
           SELECT ${SESSIONS_JSON}
             FROM unnest(pg_blocking_pids(a.pid)) AS bp
             LEFT JOIN pg_stat_activity b ON b.pid = bp
            WHERE NOT (coalesce(b.application_name, '') = $1 AND b.datname IS NOT DISTINCT FROM current_database())
         ) END AS blockers
    FROM pg_stat_activity a
    LEFT JOIN pg_stat_progress_create_index p ON p.pid = a.pid
   WHERE a.datname = current_database() AND a.application_name = $1 AND a.pid <> pg_backend_pid() AND a.state = 'active'
   ORDER BY a.pid`;

const num = (s: string | null) => (s === null ? null : Number(s));

/** The restore's sessions (`application_name` = `application`) in the database `client` is on. */
export async function readServerActivity(client: pg.Client, application: string): Promise<SessionActivity[]> {
  const rows = (await client.query<Row>(ACTIVITY, [application])).rows;
  return rows.map((r) => {
    const target = statementTarget(r.query ?? "");
    // Tuples while a sorted index is loaded; blocks while the table is scanned.
    const byTuples = Number(r.tuples_total ?? 0) > 0;
    return {
      pid: r.pid,
      ...target,
      table: target.table ?? r.relation,
      seconds: Math.max(0, Math.round((r.seconds ?? 0) * 10) / 10),
      phase: r.phase,
      done: r.phase === null ? null : num(byTuples ? r.tuples_done : r.blocks_done),
      total: r.phase === null ? null : num(byTuples ? r.tuples_total : r.blocks_total),
      waitingFor: (r.blockers ?? []).map((b) => ({ ...b, transactionSeconds: b.transactionSeconds === null ? null : Number(b.transactionSeconds) })),
    };
  });
}

export interface ActivityWatch {
  /** The last sample, or null before the first one. */
  last(): ActivitySample | null;
  /**
   * The last sample in which a session waited for another's lock, if it was taken within
   * `ms`: a restore its lock timeout ended is no longer waiting in the samples after it.
   */
  lastWaiting(ms: number): ActivitySample | null;
  /** Stops sampling and closes the session; resolves once it is closed. */
  stop(): Promise<void>;
}

/**
 * Samples the restore's sessions on the database at `url` every `intervalMs` until stopped.
 * Best effort: a sample that fails is logged and skipped, and the restore never waits for one.
 * The watch must be stopped before the database is renamed or dropped (its session is on it).
 */
export function watchServerActivity(
  url: string,
  o: { application: string; intervalMs: number; endBlockers?: EndBlockers },
): ActivityWatch {
  let last: ActivitySample | null = null;
  let waiting: { sample: ActivitySample; ms: number } | null = null;
  const ender = o.endBlockers ? blockerEnder(o.endBlockers) : null;
  const sampler = startSampler(url, { application: `${o.application}-watch`, intervalMs: o.intervalMs, what: "the restore's sessions", log }, async (c, stopped) => {
    const sessions = await readServerActivity(c, o.application);
    if (stopped()) return;
    last = { at: new Date().toISOString(), sessions };
    if (sessions.some((x) => x.waitingFor.length > 0)) waiting = { sample: last, ms: Date.now() };
    if (ender) await ender(c, sessions, stopped);
  });
  return {
    last: () => last,
    lastWaiting: (ms) => (waiting && Date.now() - waiting.ms <= ms ? waiting.sample : null),
    stop: () => sampler.stop(),
  };
}

/** What became of a session the restore tried to end (decision 185). */
export type EndOutcome = { ended: true } | { ended: false; reason: string };

/**
 * Asked for (`endBlockingSessions`, decision 185): a session that has held a lock one of the
 * restore's sessions waits for, for `afterMs` or more in the samples, is ended with
 * `pg_terminate_backend`, once. Never one of Vaultline's own: `application_name` vaultline…, or
 * one of `spare` (the name `DATABASE_URL` gives Vaultline's pool, decision 188).
 */
export interface EndBlockers {
  afterMs: number;
  spare?: readonly string[];
  onOutcome: (b: Blocker, outcome: EndOutcome) => void;
}

/** Sessions seen blocking, since when; each is tried once. Exported for its unit test. */
export function blockerEnder(o: EndBlockers) {
  const since = new Map<number, number>();
  const tried = new Set<number>();
  const ours = (application: string) => application.startsWith("vaultline") || (o.spare ?? []).includes(application);
  return async (c: pg.Client, sessions: SessionActivity[], stopped: () => boolean) => {
    const now = Date.now();
    const blocking = new Map<number, Blocker>();
    for (const s of sessions) for (const b of s.waitingFor) if (b.pid > 0 && !ours(b.application ?? "")) blocking.set(b.pid, b);
    for (const pid of since.keys()) if (!blocking.has(pid)) since.delete(pid);
    for (const [pid, b] of blocking) {
      const first = since.get(pid) ?? now;
      since.set(pid, first);
      if (tried.has(pid) || now - first < o.afterMs || stopped()) continue;
      tried.add(pid);
      o.onOutcome(b, await terminate(c, pid));
    }
  };
}

async function terminate(c: pg.Client, pid: number): Promise<EndOutcome> {
  try {
    const { rows } = await c.query<{ ended: boolean }>("SELECT pg_terminate_backend($1) AS ended", [pid]);
    // False: no such server process any more (it ended on its own meanwhile).
    return rows[0]?.ended ? { ended: true } : { ended: false, reason: "it had already ended" };
  } catch (e) {
    // PostgreSQL's detail says which right was missing (the role's, pg_signal_backend, superuser).
    const detail = (e as { detail?: string }).detail;
    return { ended: false, reason: `${(e as Error).message}${detail ? ` (${detail.replace(/\.$/, "")})` : ""}` };
  }
}
