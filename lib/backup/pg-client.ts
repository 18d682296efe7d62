// The engine's own sessions: on a database it inspects or changes (the target, a fresh
// copy, a drill's scratch copy) and the ones that hold its locks on Vaultline's own
// database (locks.ts). Opened, used, always closed.
import pg from "pg";
import { componentLogger } from "../log";
import { answersAs, hasSeveralHosts, readDbUrl, sessionAttrsOf, stateWords, urlHosts, withOneHost, type ServerState } from "../pg-hosts";
import { sessionConfig } from "./pg-url";

const log = componentLogger("pg-session");

/** One round trip; idle_session_timeout only where it exists (set_config of an unknown name fails). */
export const FREE_OF_TIMEOUTS =
  "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; " +
  "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000";

/**
 * Opens a connection whose session is free of the database's and role's own statement and
 * idle timeouts (ALTER DATABASE / ALTER ROLE … SET, meant for the application), as pg_dump
 * and pg_restore free theirs: the engine's work sets its own bounds where it wants one (SET
 * LOCAL). With a database's `idle_in_transaction_session_timeout` the server ended the
 * transaction whose snapshot pg_dump dumps while the dump ran, and its `statement_timeout`
 * cancelled the checksum of every table it outlasted (decision 141). With `idle_session_timeout`
 * (PostgreSQL 14) on Vaultline's own database, it ended the sessions holding a backup's or a
 * restore's lock, idle while the work runs (decision 143).
 *
 * A connection the server ends between queries is logged: an 'error' event without a
 * listener is an uncaught exception, which ended the worker in the middle of a backup.
 * Settings go by SET, not by startup parameters, which connection poolers refuse. TCP
 * keepalives find a peer that went away without a word (a failover, a dropped route).
 */
export async function connectSession(url: string, applicationName = "vaultline"): Promise<pg.Client> {
  for (let attempt = 1; ; attempt++) {
    const c = await newClient(url, { connectionTimeoutMillis: connectTimeoutMs(url) ?? 10_000, application_name: applicationName, keepAlive: true, keepAliveInitialDelayMillis: 30_000 });
    let ended = false;
    c.on("error", () => {
      ended = true;
    });
    try {
      await c.connect();
      await c.query(FREE_OF_TIMEOUTS);
      return c;
    } catch (e) {
      await c.end().catch(() => undefined);
      // The database's own idle_session_timeout can end a session between its login and the
      // SET that lifts it, when this process is slow to send it (CI: 100 ms, under load, failed
      // a safety backup). A session ended there is opened again; any other failure is the answer.
      const idleEnded = ended || (e as { code?: string }).code === IDLE_SESSION_TIMEOUT;
      if (!idleEnded || attempt >= SESSION_ATTEMPTS) throw e;
    }
  }
}

/**
 * The URL's `connect_timeout` as libpq reads it (seconds, at least 2; 0 or none: no bound of
 * its own), in milliseconds; null when it sets none.
 */
export function connectTimeoutMs(url: string): number | null {
  const seconds = Number(readDbUrl(url).searchParams.get("connect_timeout"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(2, Math.floor(seconds)) * 1000 : null;
}

/** What the session's server is, as libpq asks it for target_session_attrs. */
const SERVER_STATE = "SELECT pg_is_in_recovery() AS \"inRecovery\", current_setting('transaction_read_only') = 'on' AS \"readOnly\"";

/**
 * The host of a failover URL (`h1:5432,h2:5432`, decision 183) that Vaultline's next session
 * goes to, chosen as libpq chooses for pg_dump and pg_restore: the hosts in order, the first
 * that accepts a connection and answers as `target_session_attrs` asks (prefer-standby: a
 * standby, else the first that accepts). Each host is asked on a session of its own, closed
 * before the real one is opened: one more connection per session, for URLs of this form only.
 * Each host gets the connection timeout: the URL's `connect_timeout`, else 10 s, or the
 * caller's bound when that is shorter (the target test's). The caller's 10 s default no longer
 * outweighs a URL's shorter `connect_timeout` (decision 190: a silent host cost every session 10 s).
 */
export async function chooseHost(url: string, extra: Omit<pg.ClientConfig, "connectionString"> = {}): Promise<string> {
  const attrs = sessionAttrsOf(url);
  const timeout = Math.min(connectTimeoutMs(url) ?? Infinity, extra.connectionTimeoutMillis || 10_000);
  const said: string[] = [];
  let firstAccepting: string | null = null;
  for (const h of urlHosts(url)) {
    const one = withOneHost(url, h);
    const c = new pg.Client(await sessionConfig(one, { connectionTimeoutMillis: timeout, application_name: extra.application_name ?? "vaultline" }));
    c.on("error", () => undefined);
    try {
      await c.connect();
      const state = (await c.query<ServerState>(SERVER_STATE)).rows[0]!;
      if (answersAs(attrs, state)) return one;
      firstAccepting ??= one;
      said.push(`${h.host}:${h.port} is ${stateWords(state)}`);
    } catch (e) {
      said.push(`${h.host}:${h.port}: ${(e as Error).message}`);
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  if (attrs === "prefer-standby" && firstAccepting) return firstAccepting;
  // No host answers as asked: what each one said.
  throw new Error(`no host of the URL is ${attrs === "any" ? "reachable" : attrs} (target_session_attrs=${attrs}): ${said.join("; ")}`);
}

/** SQLSTATE of a session ended by idle_session_timeout. */
const IDLE_SESSION_TIMEOUT = "57P05";
const SESSION_ATTEMPTS = 3;

/**
 * An unconnected client for `url`, which it reads as libpq does (decision 146: sslmode), whose
 * 'error' events are logged. pg emits one whenever the server ends the connection (a restart,
 * a failover, pg_terminate_backend, idle_session_timeout), even while a query is in hand and
 * is rejected with it; with no listener it is an uncaught exception, which ends the process
 * (decision 143). Every client the application opens comes from here.
 */
export async function newClient(url: string, extra: Omit<pg.ClientConfig, "connectionString"> = {}): Promise<pg.Client> {
  const one = hasSeveralHosts(url) ? await chooseHost(url, extra) : url;
  const c = new pg.Client(await sessionConfig(one, extra));
  c.on("error", (e: Error) => log.warn({ err: e.message, applicationName: extra.application_name }, "the server ended a session"));
  return c;
}

/**
 * A target: its URL (a session is opened for `fn` and closed after), or a session already
 * open, which `fn` shares and leaves open — a backup's inspection runs its queries one after
 * another on one session rather than on one each (decision 178).
 */
export type Session = string | pg.Client;

/**
 * `fn` with the session's statement_timeout at `ms`: a bound for reads that may queue behind
 * a lock. By SET, not as a startup parameter, which connection poolers refuse (decision 148);
 * a shared session gets its lifted timeout (FREE_OF_TIMEOUTS) back after.
 */
export async function withStatementTimeout<T>(url: Session, ms: number, fn: (c: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  return withClient(
    url,
    async (c) => {
      await c.query(`SET statement_timeout = ${Math.max(1, Math.floor(ms))}`);
      try {
        return await fn(c);
      } finally {
        if (typeof url !== "string") await c.query("SET statement_timeout = 0");
      }
    },
    applicationName,
  );
}

export async function withClient<T>(url: Session, fn: (c: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  if (typeof url !== "string") return fn(url);
  const c = await connectSession(url, applicationName);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export interface Sampler {
  /** Stops sampling and closes the session; resolves once it is closed. */
  stop(): Promise<void>;
}

/**
 * Runs `sample` on a session of its own every `intervalMs` (from the end of one to the start
 * of the next) until stopped: the watches of a restore's and a backup's sessions on the
 * server. Best effort: a session that cannot be opened, or a sample that fails, is logged
 * once (`what`) and the work it watches never waits for it. A sample cut short by stop() is
 * not a failure.
 */
export function startSampler(
  url: string,
  o: { application: string; intervalMs: number; what: string; log: Pick<typeof log, "warn"> },
  sample: (c: pg.Client, stopped: () => boolean) => Promise<void>,
): Sampler {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  const session = connectSession(url, o.application);
  session.catch((e: Error) => o.log.warn({ err: e.message }, `${o.what} are not watched`));
  const run = async () => {
    if (stopped) return;
    try {
      await sample(await session, () => stopped);
    } catch (e) {
      if (!stopped && failures++ === 0) o.log.warn({ err: (e as Error).message }, `a sample of ${o.what} failed`);
    } finally {
      if (!stopped) timer = setTimeout(() => void run(), o.intervalMs);
    }
  };
  void run();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const c = await session.catch(() => null);
      await c?.end().catch(() => undefined);
    },
  };
}
