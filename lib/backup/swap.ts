// "Beside and swap" (DESIGN §5): the backup is restored into a fresh database next to the
// live one — in parallel, because nothing else sees it — checked, and then swapped in with
// two renames in one transaction. The live database is untouched until that transaction
// commits, so a failure anywhere before it leaves the live database exactly as it was; the
// previous database is kept for RESTORE_KEEP_PREVIOUS_HOURS so "Undo restore" can swap it
// back. Database-level state pg_dump does not archive (ALTER DATABASE … SET, role settings
// in the database, database grants, comment, connection limit, owner, locale) is carried
// from the live database to the fresh one before the swap.
import pg from "pg";
import { quoteIdent } from "./restore-plan";

/** PostgreSQL identifiers are at most 63 bytes. */
const MAX_IDENT = 63;

export interface SwapNames {
  live: string;
  fresh: string;
  previous: string;
  undone: string;
}

export function swapNames(live: string, restoreId: string): SwapNames {
  const name = (tag: string) => {
    const suffix = `__${tag}_${restoreId}`;
    let base = live;
    while (Buffer.byteLength(base + suffix) > MAX_IDENT) base = base.slice(0, -1);
    return base + suffix;
  };
  return { live, fresh: name("restore"), previous: name("before"), undone: name("undone") };
}

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
}

/** A connection to the same server outside the target (renames need one). */
export async function maintenanceClient(targetUrl: string): Promise<pg.Client> {
  let last: unknown;
  for (const db of ["postgres", "template1"]) {
    const c = new pg.Client({ connectionString: withDatabase(targetUrl, db), connectionTimeoutMillis: 10_000, application_name: "vaultline-restore" });
    try {
      await c.connect();
      return c;
    } catch (e) {
      last = e;
      await c.end().catch(() => undefined);
    }
  }
  throw new Error(`cannot connect to a maintenance database (postgres or template1) on the target's server: ${(last as Error).message}`);
}

async function withMaintenance<T>(targetUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await maintenanceClient(targetUrl);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Settings whose value is a list of identifiers: each element is given separately. */
const LIST_SETTINGS = new Set(["search_path", "temp_tablespaces", "session_preload_libraries", "local_preload_libraries", "shared_preload_libraries"]);

/** `name=value` as stored in pg_db_role_setting → the SET clause that recreates it. */
export function settingClause(entry: string): string {
  const eq = entry.indexOf("=");
  const name = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  if (!LIST_SETTINGS.has(name)) return `SET ${quoteIdent(name)} TO ${lit(value)}`;
  const items: string[] = [];
  for (const m of value.matchAll(/\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(?:,|$)/g)) {
    if (m[0] === "") break;
    items.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]);
  }
  return `SET ${quoteIdent(name)} TO ${items.filter((i) => i !== "").map(lit).join(", ") || "''"}`;
}

interface LiveDatabase {
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  provider: string | null;
  iculocale: string | null;
  connlimit: number;
  acl: { grantee: string | null; privilege: string; grantable: boolean }[] | null;
  comment: string | null;
}

async function readLiveDatabase(c: pg.Client, db: string): Promise<LiveDatabase> {
  const v15 = (await c.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v")).rows[0].v >= 150000;
  const { rows } = await c.query(
    `SELECT pg_get_userbyid(d.datdba) AS owner, pg_encoding_to_char(d.encoding) AS encoding,
            d.datcollate AS collate, d.datctype AS ctype,
            ${v15 ? "d.datlocprovider::text" : "NULL::text"} AS provider, ${v15 ? "d.daticulocale" : "NULL::text"} AS iculocale,
            d.datconnlimit AS connlimit, d.datacl IS NULL AS "defaultAcl",
            shobj_description(d.oid, 'pg_database') AS comment
       FROM pg_database d WHERE d.datname = $1`,
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
  return { owner: r.owner, encoding: r.encoding, collate: r.collate, ctype: r.ctype, provider: r.provider, iculocale: r.iculocale, connlimit: r.connlimit, acl, comment: r.comment };
}

/** ALTER DATABASE … SET (role null) and ALTER ROLE … IN DATABASE … SET, as stored. */
async function readSettings(c: pg.Client, db: string): Promise<{ role: string | null; config: string[] }[]> {
  const { rows } = await c.query<{ role: string | null; config: string[] }>(
    `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, s.setconfig AS config
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1`,
    [db],
  );
  return rows;
}

/** Creates the fresh database like the live one, with its database-level state but not its settings: carryDatabaseSettings sets those once the copy is restored. */
export async function createFreshDatabase(targetUrl: string, names: SwapNames): Promise<void> {
  await withMaintenance(targetUrl, async (c) => {
    const live = await readLiveDatabase(c, names.live);
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(names.fresh)}`);
    const locale =
      live.provider === "i" && live.iculocale
        ? ` LOCALE_PROVIDER icu ICU_LOCALE ${lit(live.iculocale)}`
        : "";
    await c.query(
      `CREATE DATABASE ${quoteIdent(names.fresh)} WITH TEMPLATE template0 OWNER ${quoteIdent(live.owner)} ENCODING ${lit(live.encoding)} LC_COLLATE ${lit(live.collate)} LC_CTYPE ${lit(live.ctype)}${locale} CONNECTION LIMIT ${live.connlimit}`,
    );
    const fresh = quoteIdent(names.fresh);
    if (live.acl) {
      await c.query(`REVOKE ALL ON DATABASE ${fresh} FROM PUBLIC`);
      await c.query(`REVOKE ALL ON DATABASE ${fresh} FROM ${quoteIdent(live.owner)}`);
      for (const a of live.acl) {
        await c.query(`GRANT ${a.privilege} ON DATABASE ${fresh} TO ${a.grantee === null ? "PUBLIC" : quoteIdent(a.grantee)}${a.grantable ? " WITH GRANT OPTION" : ""}`);
      }
    }
    if (live.comment !== null) await c.query(`COMMENT ON DATABASE ${fresh} IS ${lit(live.comment)}`);
  });
}

/**
 * The live database's own settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET),
 * set on the fresh copy once it is restored, read then (whatever was set meanwhile comes
 * too). Not at creation: they would shape the restore's own sessions — a database read-only
 * by default made every pg_restore fail ("cannot execute CREATE TABLE in a read-only
 * transaction"), and a role setting `role` would have made its objects as another role.
 */
export async function carryDatabaseSettings(targetUrl: string, names: SwapNames): Promise<void> {
  await withMaintenance(targetUrl, async (c) => {
    const fresh = quoteIdent(names.fresh);
    for (const s of await readSettings(c, names.live)) {
      for (const entry of s.config) {
        await c.query(s.role ? `ALTER ROLE ${quoteIdent(s.role)} IN DATABASE ${fresh} ${settingClause(entry)}` : `ALTER DATABASE ${fresh} ${settingClause(entry)}`);
      }
    }
  });
}

export async function dropDatabase(targetUrl: string, name: string): Promise<void> {
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
        await c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [live]);
        try {
          await c.query("BEGIN");
          await c.query(`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(outgoing)}`);
          await c.query(`ALTER DATABASE ${quoteIdent(incoming)} RENAME TO ${quoteIdent(live)}`);
          await c.query("COMMIT");
          break;
        } catch (e) {
          await c.query("ROLLBACK").catch(() => undefined);
          // 55006: sessions still open (PostgreSQL itself waits up to 5 s for them before
          // saying so). Anything else, or still busy after a few tries: give up, unchanged.
          if ((e as { code?: string }).code !== "55006" || attempt >= (opts.attempts ?? 3)) throw e;
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
