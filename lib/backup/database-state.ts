// A database's own state — its owner, connection limit, grants, comment and settings
// (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET) — recorded in each manifest and
// given back by a restore (decision 194). pg_dump archives them only for pg_restore
// --create; before this, a restore left the live database's (decision 27): a GRANT CONNECT
// made after the backup survived it, and a restore onto a new server lost the application's
// `search_path`.
import type pg from "pg";
import { quoteIdent, quoteLiteral as lit } from "./quote";
import { readDatabaseSettings, settingStatement, type DatabaseSetting } from "./db-settings";

export interface DatabaseGrant {
  /** null: PUBLIC. */
  grantee: string | null;
  privilege: string;
  grantable: boolean;
}

export interface DatabaseState {
  owner: string;
  /** -1: no limit. */
  connectionLimit: number;
  /** Every privilege held on the database, the owner's defaults written out (acldefault), sorted. */
  grants: DatabaseGrant[];
  comment: string | null;
  /** pg_db_role_setting's rows for the database, as db-settings.ts reads them. */
  settings: DatabaseSetting[];
}

/**
 * The state of the database c is connected to. Read through that database: shared
 * catalogues hold text in the encoding of the database it was written from (decision 137).
 */
export async function readDatabaseState(c: pg.ClientBase): Promise<DatabaseState> {
  const { rows } = await c.query<{ owner: string; connectionLimit: number; comment: string | null }>(
    `SELECT pg_get_userbyid(d.datdba) AS owner, d.datconnlimit AS "connectionLimit", shobj_description(d.oid, 'pg_database') AS comment
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const { rows: grants } = await c.query<DatabaseGrant>(
    `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a WHERE d.datname = current_database()
      ORDER BY 1 NULLS FIRST, 2`,
  );
  return { ...rows[0], grants, settings: await readDatabaseSettings(c) };
}

/** Grants with `from`'s given to `to` instead, as ALTER DATABASE … OWNER moves the owner's own (one entry per privilege). */
export function followOwner(grants: DatabaseGrant[], from: string, to: string): DatabaseGrant[] {
  const out = new Map<string, DatabaseGrant>();
  for (const g of grants) {
    const moved = g.grantee === from ? { ...g, grantee: to } : g;
    const k = grantKey(moved);
    const had = out.get(k);
    out.set(k, had ? { ...moved, grantable: had.grantable || moved.grantable } : moved);
  }
  return [...out.values()];
}

/** What a restore gives back: the owner only when it keeps owners, the grants only when it keeps them. */
export interface GiveOptions {
  owner: boolean;
  grants: boolean;
}

const grantKey = (g: DatabaseGrant) => `${g.grantee ?? ""}\u0000${g.privilege}`;
const whom = (grantee: string | null) => (grantee === null ? "PUBLIC" : quoteIdent(grantee));
const limitWords = (n: number) => (n < 0 ? "none" : String(n));

/** Each setting by role and name: `name=value` as stored. */
function settingMap(settings: DatabaseSetting[]): Map<string, { role: string | null; name: string; entry: string }> {
  const out = new Map<string, { role: string | null; name: string; entry: string }>();
  for (const s of settings) {
    for (const entry of s.config) {
      const name = entry.slice(0, entry.indexOf("="));
      out.set(`${s.role ?? ""}\u0000${name}`, { role: s.role, name, entry });
    }
  }
  return out;
}

function resetStatement(database: string, role: string | null, name: string): string {
  const db = quoteIdent(database);
  return role ? `ALTER ROLE ${quoteIdent(role)} IN DATABASE ${db} RESET ${quoteIdent(name)}` : `ALTER DATABASE ${db} RESET ${quoteIdent(name)}`;
}

/** The owner's statement, run first: ALTER … OWNER rewrites the old owner's own privileges for the new one. */
export function ownerStatement(database: string, now: DatabaseState, want: DatabaseState, opts: GiveOptions): string | null {
  return opts.owner && now.owner !== want.owner ? `ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(want.owner)}` : null;
}

export interface StateStatement {
  sql: string;
  /** A setting's (ALTER DATABASE / ALTER ROLE … IN DATABASE … SET or RESET). */
  setting: boolean;
  /** As a warning may name it: a custom setting's value left out (see stateDifferences). */
  shown?: string;
}

/**
 * The statements that take database `database` from state `now` (its owner already the one
 * wanted, see ownerStatement) to `want`: connection limit, grants, comment, settings last.
 */
export function stateStatements(database: string, now: DatabaseState, want: DatabaseState, opts: GiveOptions): StateStatement[] {
  const db = quoteIdent(database);
  const out: StateStatement[] = [];
  const push = (sql: string, setting = false) => out.push({ sql, setting });
  if (now.connectionLimit !== want.connectionLimit) push(`ALTER DATABASE ${db} CONNECTION LIMIT ${want.connectionLimit}`);
  if (opts.grants) {
    const have = new Map(now.grants.map((g) => [grantKey(g), g]));
    const wanted = new Map(want.grants.map((g) => [grantKey(g), g]));
    for (const [k, g] of have) {
      const w = wanted.get(k);
      if (!w) push(`REVOKE ${g.privilege} ON DATABASE ${db} FROM ${whom(g.grantee)}`);
      else if (g.grantable && !w.grantable) push(`REVOKE GRANT OPTION FOR ${g.privilege} ON DATABASE ${db} FROM ${whom(g.grantee)}`);
    }
    for (const [k, w] of wanted) {
      const g = have.get(k);
      if (!g || (w.grantable && !g.grantable)) push(`GRANT ${w.privilege} ON DATABASE ${db} TO ${whom(w.grantee)}${w.grantable ? " WITH GRANT OPTION" : ""}`);
    }
  }
  if (now.comment !== want.comment) push(`COMMENT ON DATABASE ${db} IS ${want.comment === null ? "NULL" : lit(want.comment)}`);
  const have = settingMap(now.settings);
  const wanted = settingMap(want.settings);
  for (const [k, s] of have) if (!wanted.has(k)) push(resetStatement(database, s.role, s.name), true);
  for (const [k, s] of wanted) {
    if (have.get(k)?.entry === s.entry) continue;
    const sql = settingStatement(database, s.role, s.entry);
    // Cut from the statement with an empty value: cut from the value's own " TO ", its start showed.
    const bare = settingStatement(database, s.role, `${s.name}=`);
    out.push({ sql, setting: true, ...(s.name.includes(".") ? { shown: `${bare.slice(0, bare.lastIndexOf(" TO "))} TO (hidden)` } : {}) });
  }
  return out;
}

/**
 * What differs between the live database's own state and the backup's, one line each, in the
 * preview's words (what the restore makes of it). Empty: nothing. `opts`: what the restore
 * gives — with ownership "reassign" the owner stays the live one's, and the grants too unless
 * the restore keeps them (then the backup's owner's own are the live owner's).
 */
export function stateDifferences(live: DatabaseState, given: DatabaseState, opts: GiveOptions = { owner: true, grants: true }): string[] {
  const owner = opts.owner ? given.owner : live.owner;
  const backup: DatabaseState = { ...given, owner, grants: opts.grants ? wantedFor(owner, given).grants : live.grants };
  const out: string[] = [];
  if (live.owner !== backup.owner) out.push(`Owner: ${live.owner} → ${backup.owner}`);
  if (live.connectionLimit !== backup.connectionLimit) out.push(`Connection limit: ${limitWords(live.connectionLimit)} → ${limitWords(backup.connectionLimit)}`);
  const have = new Map(live.grants.map((g) => [grantKey(g), g]));
  const wanted = new Map(backup.grants.map((g) => [grantKey(g), g]));
  // The owner's own privileges follow the owner: said once, by the owner's line.
  const ownersOwn = (g: DatabaseGrant, owner: string) => g.grantee === owner && live.owner !== backup.owner;
  for (const [k, g] of have) {
    if (ownersOwn(g, live.owner)) continue;
    const w = wanted.get(k);
    if (!w) out.push(`${g.privilege} for ${g.grantee ?? "PUBLIC"}: revoked (not in the backup)`);
    else if (g.grantable !== w.grantable) out.push(`${g.privilege} for ${g.grantee ?? "PUBLIC"}: ${w.grantable ? "with" : "without"} grant option, as in the backup`);
  }
  for (const [k, w] of wanted) {
    if (ownersOwn(w, backup.owner)) continue;
    if (!have.has(k)) out.push(`${w.privilege} for ${w.grantee ?? "PUBLIC"}: granted (as in the backup)`);
  }
  if (live.comment !== backup.comment) out.push(`Comment: ${live.comment === null ? "none" : JSON.stringify(live.comment)} → ${backup.comment === null ? "none" : JSON.stringify(backup.comment)}`);
  const liveSettings = settingMap(live.settings);
  const backupSettings = settingMap(backup.settings);
  const valueOf = (entry: string | undefined) => (entry === undefined ? "not set" : entry.slice(entry.indexOf("=") + 1));
  const keys = [...new Set([...liveSettings.keys(), ...backupSettings.keys()])].sort();
  for (const k of keys) {
    const l = liveSettings.get(k);
    const b = backupSettings.get(k);
    if (l?.entry === b?.entry) continue;
    const s = (l ?? b)!;
    // A custom setting (a dotted name: `app.settings.jwt_secret`) may hold the application's
    // secrets: whether it changes is said, not its values.
    const values = s.name.includes(".") ? (l && b ? "another value in the backup" : l ? "set → not set" : "not set → set") : `${valueOf(l?.entry)} → ${valueOf(b?.entry)}`;
    out.push(`Setting ${s.name}${s.role ? ` for ${s.role}` : ""}: ${values}`);
  }
  return out;
}

/** The state wanted of a database owned by `owner`: the backup's owner's own privileges are the owner's, whoever that is. */
function wantedFor(owner: string, want: DatabaseState): DatabaseState {
  return owner === want.owner ? want : { ...want, grants: followOwner(want.grants, want.owner, owner) };
}

/**
 * The database's state given inside an in-place restore's own transaction, just before its
 * COMMIT (decision 195): one DO block, so a worker dying after COMMIT cannot leave the
 * backup's data under the live database's grants and settings. `now` is the live state read
 * before the restore. Each statement runs in a block of its own whose failure is caught, as
 * one refused statement must not roll the whole restore back; giveDatabaseState, run again
 * after COMMIT, retries what is still different and reports PostgreSQL's reasons. The owner's
 * statement goes first, and the rest is chosen by whether it took (as giveDatabaseState
 * chooses by reading the owner again). Empty: nothing differs.
 */
export function stateEpilogue(database: string, now: DatabaseState, want: DatabaseState, opts: GiveOptions): string {
  const attempt = (s: { sql: string }) => `BEGIN EXECUTE ${lit(s.sql)}; EXCEPTION WHEN OTHERS THEN NULL; END;`;
  const block = (list: StateStatement[]) => list.map(attempt).join("\n");
  const owner = ownerStatement(database, now, want, opts);
  const kept = stateStatements(database, now, wantedFor(now.owner, want), opts);
  let body: string;
  if (owner) {
    // ALTER DATABASE … OWNER moves the old owner's own privileges to the new one.
    const moved: DatabaseState = { ...now, owner: want.owner, grants: followOwner(now.grants, now.owner, want.owner) };
    const given = stateStatements(database, moved, want, opts);
    body = [
      attempt({ sql: owner }),
      `IF (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) = ${lit(want.owner)} THEN`,
      block(given),
      ...(kept.length ? ["ELSE", block(kept)] : []),
      "END IF;",
    ].join("\n");
  } else if (kept.length) {
    body = block(kept);
  } else return "";
  return `DO ${lit(`BEGIN\n${body}\nEND`)};`;
}

/**
 * Gives the database `session` is connected to (named `database`) the backup's state: the
 * owner first, then the rest compared again. Each statement on its own: one PostgreSQL refuses
 * (a role this server lacks, a parameter only a superuser may set) is answered, not thrown,
 * with the statement and PostgreSQL's reason; `settingFailed` says whether a setting was among
 * them. What is left different after is answered too (`left`, the preview's words).
 */
export async function giveDatabaseState(
  c: pg.ClientBase,
  database: string,
  want: DatabaseState,
  opts: GiveOptions,
): Promise<{ failed: { statement: string; reason: string; setting: boolean }[]; left: string[] }> {
  const failed: { statement: string; reason: string; setting: boolean }[] = [];
  const run = async ({ sql, setting, shown }: StateStatement) => {
    await c.query(sql).catch((e: Error) => {
      failed.push({ statement: shown ?? sql, reason: e.message.split("\n")[0], setting });
    });
  };
  // The database's own settings must not shape this session: one read-only by default
  // refused every statement, and a setting of `role` for Vaultline's role would act as another.
  await c.query("SET default_transaction_read_only = off; SET ROLE NONE");
  const before = await readDatabaseState(c);
  const owner = ownerStatement(database, before, want, opts);
  if (owner) await run({ sql: owner, setting: false });
  const now = owner ? await readDatabaseState(c) : before;
  // Another owner than the backup's (reassign, or PostgreSQL refused the change): the
  // backup's owner's own privileges are the owner's, whoever that is now — not handed to a
  // role that no longer owns the database.
  const wanted = wantedFor(now.owner, want);
  for (const s of stateStatements(database, now, wanted, opts)) await run(s);
  const after = await readDatabaseState(c);
  const compared: DatabaseState = { ...wanted, owner: opts.owner ? want.owner : after.owner, grants: opts.grants ? wanted.grants : after.grants };
  return { failed, left: stateDifferences(after, compared) };
}
