// "Beside and swap" (DESIGN §5): the backup is restored into a fresh database next to the
// live one — in parallel, because nothing else sees it — checked, and then swapped in with
// two renames in one transaction. The live database is untouched until that transaction
// commits, so a failure anywhere before it leaves the live database exactly as it was; the
// previous database is kept for RESTORE_KEEP_PREVIOUS_HOURS so "Undo restore" can swap it
// back. Database-level state pg_dump does not archive (ALTER DATABASE … SET, role settings
// in the database, database grants, comment, connection limit, owner, locale) is carried
// from the live database to the fresh one before the swap.
import type pg from "pg";
import { editDbUrl, readDbUrl } from "../pg-hosts";
import { quoteIdent, quoteLiteral as lit } from "./quote";
import { readDatabaseSettings, settingStatement } from "./db-settings";
import { connectSession, withClient, type Session } from "./pg-client";
import { DETACH_SUBSCRIPTIONS, DROP_SUBSCRIPTIONS } from "./restore-plan";
import { localeOptions, readDatabaseLocale, type DatabaseLocale } from "./db-locale";

/** PostgreSQL identifiers are at most 63 bytes. */
const MAX_IDENT = 63;

export interface SwapNames {
  live: string;
  fresh: string;
  previous: string;
  undone: string;
}

export function swapNames(live: string, restoreId: string): SwapNames {
  const name = (tag: string) => besideName(live, tag, restoreId);
  return { live, fresh: name("restore"), previous: name("before"), undone: name("undone") };
}

/** `<live>__<tag>_<restoreId>`, the live name shortened to fit PostgreSQL's 63 bytes. */
function besideName(live: string, tag: string, restoreId: string): string {
  const suffix = `__${tag}_${restoreId}`;
  let base = live;
  while (Buffer.byteLength(base + suffix) > MAX_IDENT) base = base.slice(0, -1);
  return base + suffix;
}

/** The database a restore into a copy makes and keeps beside the live one (decision 169). */
export function copyName(live: string, restoreId: string): string {
  return besideName(live, "copy", restoreId);
}

export function databaseOf(url: string): string {
  return decodeURIComponent(readDbUrl(url).pathname.slice(1));
}

export function withDatabase(url: string, db: string): string {
  return editDbUrl(url, (u) => {
    u.pathname = `/${encodeURIComponent(db)}`;
  });
}

/**
 * A connection to the same server outside the target (renames need one): `postgres`, or
 * `template1` where the target is `postgres` itself — a container's default database, and a
 * hosted platform's application database (decision 202). From inside it, its swap stopped at
 * "cannot disallow connections for current database", after the whole restore into the copy.
 */
export async function maintenanceClient(targetUrl: string): Promise<pg.Client> {
  let last: unknown;
  const target = databaseOf(targetUrl);
  for (const db of ["postgres", "template1"].filter((d) => d !== target)) {
    try {
      return await connectSession(withDatabase(targetUrl, db), "vaultline-restore");
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`cannot connect to a maintenance database (postgres or template1) on the target's server: ${(last as Error).message}`);
}

/**
 * A session on the target's server for what is the server's, not a database's (roles,
 * tablespaces): in the target's database when it is there (a role may have no right to
 * connect to the maintenance databases), else in a maintenance database.
 */
export async function serverClient(targetUrl: string): Promise<pg.Client> {
  return connectSession(targetUrl, "vaultline-restore").catch(() => maintenanceClient(targetUrl));
}

/** `fn` on a session already open (left open), or on `serverClient`'s for a URL (closed after). */
export async function onServer<T>(target: Session, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  if (typeof target !== "string") return fn(target);
  const c = await serverClient(target);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Which of `names` the server has, asked through `serverClient` (or a session already open):
 * `query` takes the names as $1 (text[]) and answers the ones it finds in a column `name`.
 */
export async function namesOnServer(target: Session, query: string, names: string[]): Promise<Set<string>> {
  if (!names.length) return new Set();
  return onServer(target, async (c) => new Set((await c.query<{ name: string }>(query, [names])).rows.map((r) => r.name)));
}

/**
 * A connection to one database of the target's server. Text in the shared catalogues (the
 * database's comment, its settings) is stored in the encoding of the database it was written
 * from, and read back as if in the encoding of the database read from: it is read from the
 * live database and written from the fresh one, both in the same encoding, as pg_restore
 * --create writes it after \connect. Through a maintenance database in another encoding a
 * LATIN1 database's comment 'café' came back as 'caf\uFFFD'.
 */
function withDb<T>(targetUrl: string, db: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  return withClient(withDatabase(targetUrl, db), fn, "vaultline-restore");
}

async function withMaintenance<T>(targetUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await maintenanceClient(targetUrl);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

interface LiveDatabase {
  owner: string;
  /** Its default tablespace, where its objects without one of their own are. */
  tablespace: string;
  locale: DatabaseLocale;
  connlimit: number;
  acl: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
}

async function readLiveDatabase(c: pg.Client, db: string): Promise<LiveDatabase> {
  const { rows } = await c.query(
    `SELECT pg_get_userbyid(d.datdba) AS owner, t.spcname AS tablespace, d.datconnlimit AS connlimit, d.datacl IS NULL AS "defaultAcl"
       FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = $1`,
    [db],
  );
  if (!rows[0]) throw new Error(`database ${db} does not exist`);
  const r = rows[0];
  const acl = r.defaultAcl
    ? null
    : (
        await c.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
          `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
             FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1`,
          [db],
        )
      ).rows;
  return { owner: r.owner, tablespace: r.tablespace, locale: await readDatabaseLocale(c, db), connlimit: r.connlimit, acl };
}

/** The database's comment, read from the database itself (withDb). */
async function readComment(c: pg.Client): Promise<string | null> {
  const { rows } = await c.query<{ comment: string | null }>(
    "SELECT shobj_description(d.oid, 'pg_database') AS comment FROM pg_database d WHERE d.datname = current_database()",
  );
  return rows[0]?.comment ?? null;
}

/** Creates the fresh database like the live one, with its database-level state but not its settings: carryDatabaseSettings sets those once the copy is restored. */
export async function createFreshDatabase(targetUrl: string, names: SwapNames): Promise<void> {
  await withMaintenance(targetUrl, async (c) => {
    const live = await readLiveDatabase(c, names.live);
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(names.fresh)}`);
    // In the live database's tablespace: without it the copy, and every object of it without
    // a tablespace of its own, landed in pg_default — another disk, perhaps (decision 140).
    const tablespace = live.tablespace === "pg_default" ? "" : ` TABLESPACE ${quoteIdent(live.tablespace)}`;
    await c.query(`CREATE DATABASE ${quoteIdent(names.fresh)} WITH ${localeOptions(live.locale)} OWNER ${quoteIdent(live.owner)}${tablespace} CONNECTION LIMIT ${live.connlimit}`);
    const fresh = quoteIdent(names.fresh);
    if (live.acl) {
      await c.query(`REVOKE ALL ON DATABASE ${fresh} FROM PUBLIC`);
      await c.query(`REVOKE ALL ON DATABASE ${fresh} FROM ${quoteIdent(live.owner)}`);
      for (const a of live.acl) {
        await c.query(`GRANT ${a.privilege} ON DATABASE ${fresh} TO ${a.grantee === null ? "PUBLIC" : quoteIdent(a.grantee)}${a.grantable ? " WITH GRANT OPTION" : ""}`);
      }
    }
  });
  const comment = await withDb(targetUrl, names.live, readComment);
  if (comment !== null) await withDb(targetUrl, names.fresh, (c) => c.query(`COMMENT ON DATABASE ${quoteIdent(names.fresh)} IS ${lit(comment)}`));
}

/**
 * The live database's own settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET),
 * set on the fresh copy once it is restored, read then (whatever was set meanwhile comes
 * too). Not at creation: they would shape the restore's own sessions — a database read-only
 * by default made every pg_restore fail ("cannot execute CREATE TABLE in a read-only
 * transaction"), and a role setting `role` would have made its objects as another role.
 */
export async function carryDatabaseSettings(targetUrl: string, names: SwapNames): Promise<void> {
  const settings = await withDb(targetUrl, names.live, readDatabaseSettings);
  await withDb(targetUrl, names.fresh, async (c) => {
    for (const s of settings) {
      for (const entry of s.config) {
        await c.query(settingStatement(names.fresh, s.role, entry));
      }
    }
  });
}

/** Disables each subscription of database `name` and lets go of its slot, keeping it (for Undo). */
export async function detachSubscriptions(targetUrl: string, name: string): Promise<void> {
  await withDb(targetUrl, name, (c) => c.query(DETACH_SUBSCRIPTIONS));
}

export async function dropDatabase(targetUrl: string, name: string): Promise<void> {
  // A database with a subscription cannot be dropped, even WITH (FORCE) ("is being used by
  // logical replication subscription"): the previous database kept for Undo has the live
  // one's. Cleared first where it can be connected to; if not, the drop says why.
  await withDb(targetUrl, name, (c) => c.query(DROP_SUBSCRIPTIONS)).catch(() => undefined);
  await withMaintenance(targetUrl, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  });
}

export async function databasesExist(targetUrl: string, names: string[]): Promise<Set<string>> {
  return withMaintenance(targetUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname = ANY($1::text[])", [names]);
    return new Set(rows.map((r) => r.datname));
  });
}

/**
 * The sessions on database $1 this session may end, its own aside (decision 208): client
 * sessions of a role — not autovacuum's workers or other background processes, which have
 * none and which the rename signals itself — and of a superuser only when this role is one;
 * another role's with that role's privileges or pg_signal_backend's, as PostgreSQL asks.
 * Not by `backend_type`: pg_stat_activity hides it from a role without pg_read_all_stats for
 * another role's session (NULL), and `backend_type <> 'autovacuum worker'` skipped every
 * such session, so the swap failed "being accessed by other users" with a report open.
 */
const ENDABLE_SESSIONS = `
  SELECT a.pid FROM pg_catalog.pg_stat_activity a JOIN pg_catalog.pg_roles r ON r.oid = a.usesysid
   WHERE a.datname = $1 AND a.pid <> pg_backend_pid()
     AND ((SELECT s.rolsuper FROM pg_catalog.pg_roles s WHERE s.rolname = current_user)
          OR (NOT r.rolsuper AND (pg_has_role(r.oid, 'USAGE') OR pg_has_role('pg_signal_backend', 'USAGE'))))`;

/**
 * Moves `incoming` into `live`'s place and `live` to `outgoing`, in one transaction: new
 * connections are refused, the remaining sessions on live are ended, the two renames commit
 * together. Answers how long live refused connections (seconds).
 */
export async function swapDatabases(targetUrl: string, live: string, incoming: string, outgoing: string, opts: { attempts?: number } = {}): Promise<number> {
  return withMaintenance(targetUrl, async (c) => {
    const started = performance.now();
    await c.query(`ALTER DATABASE ${quoteIdent(live)} WITH ALLOW_CONNECTIONS false`);
    try {
      for (let attempt = 1; ; attempt++) {
        // Those it may end (ENDABLE_SESSIONS): one it may not would fail the statement; the
        // rename then names what is left.
        await c.query(`SELECT pg_terminate_backend(pid) FROM (${ENDABLE_SESSIONS}) s`, [live]);
        try {
          await c.query("BEGIN");
          await c.query(`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(outgoing)}`);
          await c.query(`ALTER DATABASE ${quoteIdent(incoming)} RENAME TO ${quoteIdent(live)}`);
          await c.query("COMMIT");
          break;
        } catch (e) {
          await c.query("ROLLBACK").catch(() => undefined);
          // 55006: sessions still open (PostgreSQL itself waits up to 5 s for them before
          // saying so). Anything else, or still busy after a few tries: give up, unchanged,
          // saying who is there (the detail names sessions or prepared transactions: decision 151).
          const err = e as { code?: string; detail?: string; message: string };
          if (err.code !== "55006") throw e;
          if (attempt >= (opts.attempts ?? 3)) throw Object.assign(new Error(err.detail ? `${err.message}: ${err.detail.replace(/\.$/, "")}` : err.message), { code: err.code });
        }
      }
    } catch (e) {
      await c.query(`ALTER DATABASE ${quoteIdent(live)} WITH ALLOW_CONNECTIONS true`).catch(() => undefined);
      throw e;
    }
    const seconds = (performance.now() - started) / 1000;
    // The outgoing database keeps the state it had, connections included.
    await c.query(`ALTER DATABASE ${quoteIdent(outgoing)} WITH ALLOW_CONNECTIONS true`);
    return seconds;
  });
}

/** After a crash: a live database left refusing connections mid-swap accepts them again. */
export async function allowConnections(targetUrl: string, db: string): Promise<void> {
  await withMaintenance(targetUrl, async (c) => {
    await c.query(`ALTER DATABASE ${quoteIdent(db)} WITH ALLOW_CONNECTIONS true`);
  });
}
