// A database's own settings — ALTER DATABASE … SET and ALTER ROLE … IN DATABASE … SET, stored
// in pg_db_role_setting — as the swap restore carries them from the live database to its
// fresh copy (swap.ts), and whether the connecting role may (restore-plan.ts: a role that may
// not set one on the copy cannot swap, and the restore runs in place instead).
import type pg from "pg";
import { quoteIdent, quoteLiteral as lit } from "./quote";

/** A setting the connecting role may not set, with the statement tried and PostgreSQL's reason. */
export interface UnsettableSetting {
  statement: string;
  name: string;
  role: string | null;
  reason: string;
}

export interface DatabaseSetting {
  /** null: for every role (ALTER DATABASE … SET). */
  role: string | null;
  config: string[];
}

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

/** The statement that sets one stored entry on `database`. */
export function settingStatement(database: string, role: string | null, entry: string): string {
  const db = quoteIdent(database);
  return role ? `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${db} ${settingClause(entry)}` : `ALTER DATABASE ${db} ${settingClause(entry)}`;
}

/**
 * The settings of the database c is connected to. Read through that database: shared
 * catalogues hold text in the encoding of the database it was written from (decision 137).
 */
export async function readDatabaseSettings(c: pg.ClientBase): Promise<DatabaseSetting[]> {
  const { rows } = await c.query<DatabaseSetting>(
    `SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END AS role, s.setconfig AS config
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
      ORDER BY s.setrole`,
  );
  return rows;
}

/**
 * The settings the connecting role could not set on a copy of this database, each with
 * PostgreSQL's own reason: each is set again on the database itself, to its own value, in a
 * transaction that is rolled back — PostgreSQL's rules on who may set what (parameter
 * privileges, superuser-only parameters, other roles' settings) decide, whatever its version.
 * The copy has the same owner, so what fails here would fail there, after the whole restore.
 */
export async function settingsNotCarriable(c: pg.ClientBase, backupSettings?: DatabaseSetting[]): Promise<UnsettableSetting[]> {
  // The backup's own, when it recorded them (decision 194): those are what a restore sets. A
  // role's setting for a role this server lacks is left to the restore's notes: the missing
  // role is the ownership plan's to name, not a reason to run in place.
  const settings = backupSettings ? await withExistingRoles(c, backupSettings) : await readDatabaseSettings(c);
  if (!settings.length) return [];
  const { rows } = await c.query<{ db: string; standby: boolean }>("SELECT current_database() AS db, pg_is_in_recovery() AS standby");
  // A standby (a backup may be taken from one) takes no writes, not even rolled-back ones;
  // nothing is restored onto one either.
  if (rows[0].standby) return [];
  const failed: UnsettableSetting[] = [];
  // READ WRITE: a database read-only by default (default_transaction_read_only) is probed too.
  await c.query("BEGIN READ WRITE");
  try {
    for (const s of settings) {
      for (const entry of s.config) {
        const statement = settingStatement(rows[0].db, s.role, entry);
        await c.query("SAVEPOINT vaultline_setting");
        try {
          await c.query(statement);
          await c.query("RELEASE SAVEPOINT vaultline_setting");
        } catch (e) {
          await c.query("ROLLBACK TO SAVEPOINT vaultline_setting");
          failed.push({ statement, name: entry.slice(0, entry.indexOf("=")), role: s.role, reason: (e as Error).message.split("\n")[0] });
        }
      }
    }
  } finally {
    await c.query("ROLLBACK");
  }
  return failed;
}

async function withExistingRoles(c: pg.ClientBase, settings: DatabaseSetting[]): Promise<DatabaseSetting[]> {
  const named = settings.flatMap((s) => (s.role ? [s.role] : []));
  if (!named.length) return settings;
  const { rows } = await c.query<{ rolname: string }>("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])", [named]);
  const found = new Set(rows.map((r) => r.rolname));
  return settings.filter((s) => s.role === null || found.has(s.role));
}

/** "log_min_duration_statement", or "work_mem for app_reader" for a role's setting. */
export function describeSetting(u: UnsettableSetting): string {
  return u.role ? `${u.name} for ${u.role}` : u.name;
}

/**
 * The statement that would let `user` set it, where PostgreSQL's rule is plain: a parameter
 * only a superuser may set can be granted (15+); another non-superuser role's settings may be
 * changed with CREATEROLE (up to 15; 16 also asks for ADMIN on that role). Null otherwise.
 */
export function grantToSet(u: UnsettableSetting, user: string, serverVersionNum: number): string | null {
  if (/permission denied to set parameter/.test(u.reason) && serverVersionNum >= 150000) return `GRANT SET ON PARAMETER ${u.name} TO ${quoteIdent(user)};`;
  if (u.role && /permission denied/.test(u.reason) && serverVersionNum < 160000) return `ALTER ROLE ${quoteIdent(user)} CREATEROLE;`;
  return null;
}
