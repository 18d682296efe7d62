// Prisma client singleton through the pg driver adapter, kept on globalThis so that
// Next's dev reloads and the in-process worker share one pool.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client";
import { config } from "./config";
import { componentLogger } from "./log";
import { ownApplicationName, poolConfig } from "./backup/pg-url";

const log = componentLogger("db");

// The client's pg pool, for the few reads every API request makes (poolOf, decision 105).
// Kept on the client under a registered symbol, not in a module-level map: Next bundles
// this module into several chunks, and the client made by one copy (say, at start-up) is
// the one every route's copy gets from globalThis.
const POOL = Symbol.for("vaultline.db.pgPool");

function create(url: string) {
  // sslmode as libpq reads it, as far as a pool can without a round trip (decision 146).
  const base = poolConfig(url);
  const pool = new pg.Pool({
    ...base,
    // Named, unless the URL names it: a DBA's pg_stat_activity tells Vaultline's sessions
    // from the application's, and a restore asked to end the sessions blocking it never ends
    // Vaultline's own, by either name (decisions 185, 188).
    application_name: ownApplicationName(url),
    max: 10,
    // The database's own idle_session_timeout (meant for the application's sessions) ended a
    // pooled connection at the instant the pool handed it out: the query on it failed
    // ("terminating connection due to idle-session timeout", the lock-session test, 1 CI run
    // in about 10). Vaultline's pooled sessions are free of it, as its engine's are (decision
    // 141); the pool itself closes a connection idle for 10 s (pg's idleTimeoutMillis).
    // Set in the hook the pool awaits before it hands a new connection out: sent from the
    // 'connect' event, the setting was still running when the first caller's query came, and
    // pg queued that query behind it — deprecated, and an error from pg 9 (decision 181).
    onConnect: async (c: pg.ClientBase) => {
      await c.query("SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('server_version_num')::int >= 140000").catch(() => undefined);
    },
  });
  // An idle connection the server ends (a restart, a failover, idle_session_timeout) is
  // dropped from the pool, which then emits 'error': without a listener, an uncaught
  // exception that ended the worker and the web server (decision 143).
  pool.on("error", (e: Error) => log.warn({ err: e.message }, "the server ended an idle connection of the pool"));
  const client = new PrismaClient({
    // The client owns the pool: $disconnect ends it.
    adapter: new PrismaPg(pool, { disposeExternalPool: true }),
    omit: { user: { passwordHash: true }, apiToken: { tokenHash: true } },
  });
  Object.defineProperty(client, POOL, { value: pool });
  return client;
}

export type Db = ReturnType<typeof create>;

/**
 * The pg pool under a client: the same connections, without Prisma's per-statement cost
 * (~0.4 ms of CPU) — for the statements every API request runs (the bearer-token lookup,
 * the health probe). Only for reads whose columns need no Prisma type mapping: pg parses a
 * `timestamp` (without time zone) in the process's local zone, so such columns are read as
 * epoch numbers instead. Every client is made by create(); one without a pool is a bug,
 * and says so rather than quietly taking the slower path.
 */
export function poolOf(db: Db): pg.Pool {
  const pool = (db as unknown as Record<symbol, pg.Pool | undefined>)[POOL];
  if (!pool) throw new Error("this Prisma client has no pg pool: clients come from db() or createDb()");
  return pool;
}

const g = globalThis as unknown as { __vaultlineDb?: Db };

export function db(): Db {
  g.__vaultlineDb ??= create(config().databaseUrl);
  return g.__vaultlineDb;
}

/** A client for another database (tests, drills); the caller disconnects it. */
export function createDb(url: string): Db {
  return create(url);
}

export async function disconnectDb(): Promise<void> {
  if (g.__vaultlineDb) {
    await g.__vaultlineDb.$disconnect();
    g.__vaultlineDb = undefined;
  }
}
