// "Test connection" for a target (DESIGN §8): before a database is saved, and whenever an
// operator asks. It connects (5 s), reads the server version, compares it with the local
// pg_dump, and says which of the three things Vaultline does with a database the
// connecting role may do — back it up, restore it in place, restore it beside and swap —
// naming each missing privilege with the SQL that grants it. What each needs is what the
// code does: pg_dump reads every schema, table, sequence and large object (dump.ts); the
// in-place restore drops every object and recreates them under their owners, and recreates
// `public` for pg_database_owner (restore-plan.ts inPlacePrologue, apply-archive.ts); the
// swap creates a database owned like the live one, restores into it as the connecting role
// (every extension created again), renames both and ends the sessions on the live one from a
// maintenance database (swap.ts).
import type pg from "pg";
import { editDbUrl, hasSeveralHosts, primaryHint, readDbUrl, sessionAttrsOf, sessionHost } from "../pg-hosts";
import { newClient } from "./pg-client";
import { poolerProblem, sharesServerSessions } from "./pooler";
import { parseServerVersionNum, pgDumpVersion, type PgVersion } from "./dump";
import { findUntrustedExtensions } from "./unavailable-extensions";
import { quoteIdent } from "./quote";
import { FULL_BACKUP_SESSIONS, readConnectionRoom, roomSummary, shortOfRoom } from "./connection-room";
import { describeSetting, grantToSet, settingsNotCarriable } from "./db-settings";
import { searchPathProblems, searchPathWarning } from "./search-path-probe";
import { pinnedTo } from "./pinned-host";

export const TEST_CONNECT_TIMEOUT_MS = 5_000;
const STATEMENT_TIMEOUT_MS = 15_000;
/** How many object names a reason quotes as examples. */
const EXAMPLES = 3;
/** Large objects named one by one in a GRANT; beyond it the SQL is the role-wide one. */
const MAX_LO_GRANT = 50;

export type TargetCheck =
  | "connect"
  | "session"
  | "pg_dump"
  | "backup.connect"
  | "backup.schemas"
  | "backup.tables"
  | "backup.row_security"
  | "backup.large_objects"
  | "backup.connections"
  | "in_place.writable"
  | "in_place.create"
  | "in_place.database_owner"
  | "in_place.object_owners"
  | "in_place.extensions"
  | "swap.writable"
  | "swap.createdb"
  | "swap.database_owner"
  | "swap.signal"
  | "swap.maintenance"
  | "swap.tablespace"
  | "swap.extensions"
  | "swap.settings"
  | "restore.search_path";

export interface TargetTestReason {
  check: TargetCheck;
  ok: boolean;
  message: string;
  /** The SQL an administrator runs to grant what is missing (absent when ok). */
  grant?: string;
}

export interface TargetTestResult {
  /** Connected, pg_dump can dump it, and the role can back it up. */
  ok: boolean;
  serverVersion: string | null;
  pgDump: { version: string | null; compatible: boolean; message: string };
  canBackup: boolean;
  canRestoreInPlace: boolean;
  canSwap: boolean;
  /** Its backups would restore: no expression a restore evaluates fails under the restore's empty search_path (decision 153). */
  restorable: boolean;
  reasons: TargetTestReason[];
}

/** The text of an error without the URL or its password, whatever the driver put in it. */
export function redactedMessage(e: unknown, url: string): string {
  let msg = e instanceof Error ? e.message : String(e);
  const secrets = new Set<string>([url]);
  try {
    const u = readDbUrl(url);
    if (u.password) {
      secrets.add(u.password);
      secrets.add(decodeURIComponent(u.password));
    }
  } catch {
    // not a URL: only the whole string is scrubbed
  }
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) msg = msg.split(s).join("***");
  return msg.replace(/postgres(?:ql)?:\/\/\S+/gi, "[connection URL]");
}

const SYSTEM_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const notExtensionMember = (catalog: string, alias: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass AND dep.objid = ${alias}.oid AND dep.deptype = 'e')`;

interface RoleFacts {
  user: string;
  database: string;
  serverVersionNum: number;
  superuser: boolean;
  createDb: boolean;
  bypassRls: boolean;
  databaseOwner: string;
  /** Has the owner's privileges (drop, alter). */
  usesOwner: boolean;
  /** Member of the owner (swap.ts's test: may create the replacement with that owner). */
  memberOfOwner: boolean;
  connect: boolean;
  createOnDb: boolean;
  canSignal: boolean;
  /** The database's default tablespace; whether this role may create a database there. */
  tablespace: string;
  tablespaceCreate: boolean;
  readAllData: boolean;
  loCompat: boolean;
  /** In recovery: a standby, which takes no writes (decision 144). */
  standby: boolean;
}

async function roleFacts(c: pg.Client): Promise<RoleFacts> {
  const v = (await c.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v")).rows[0].v;
  // pg_read_all_data exists from PostgreSQL 14.
  const readAll = v >= 140000 ? "pg_has_role(current_user, 'pg_read_all_data', 'USAGE')" : "false";
  const { rows } = await c.query<RoleFacts>(`
    SELECT current_user AS "user", current_database() AS database, $1::int AS "serverVersionNum",
           r.rolsuper AS superuser, (r.rolsuper OR r.rolcreatedb) AS "createDb", (r.rolsuper OR r.rolbypassrls) AS "bypassRls",
           pg_get_userbyid(d.datdba) AS "databaseOwner",
           pg_has_role(current_user, d.datdba, 'USAGE') AS "usesOwner",
           pg_has_role(current_user, d.datdba, 'MEMBER') AS "memberOfOwner",
           has_database_privilege(current_database(), 'CONNECT') AS connect,
           has_database_privilege(current_database(), 'CREATE') AS "createOnDb",
           (r.rolsuper OR pg_has_role(current_user, 'pg_signal_backend', 'MEMBER')) AS "canSignal",
           (r.rolsuper OR ${readAll}) AS "readAllData",
           t.spcname AS tablespace, (t.spcname = 'pg_default' OR has_tablespace_privilege(t.oid, 'CREATE')) AS "tablespaceCreate",
           current_setting('lo_compat_privileges')::bool AS "loCompat", pg_is_in_recovery() AS standby
      FROM pg_roles r, pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace
     WHERE r.rolname = current_user AND d.datname = current_database()`, [v]);
  return rows[0];
}

const names = (rows: { name: string }[]) => {
  const shown = rows.slice(0, EXAMPLES).map((r) => r.name).join(", ");
  return rows.length > EXAMPLES ? `${shown} and ${rows.length - EXAMPLES} more` : shown;
};

async function backupReasons(c: pg.Client, f: RoleFacts): Promise<TargetTestReason[]> {
  const u = quoteIdent(f.user);
  const out: TargetTestReason[] = [];
  const readAllGrant = f.serverVersionNum >= 140000 ? `GRANT pg_read_all_data TO ${u};` : null;
  out.push(
    f.connect
      ? { check: "backup.connect", ok: true, message: `${f.user} may connect to ${f.database}.` }
      : { check: "backup.connect", ok: false, message: `${f.user} has no CONNECT on ${f.database}.`, grant: `GRANT CONNECT ON DATABASE ${quoteIdent(f.database)} TO ${u};` },
  );

  const { rows: schemas } = await c.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n WHERE ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_namespace", "n")} AND NOT has_schema_privilege(n.oid, 'USAGE') ORDER BY 1`,
  );
  out.push(
    schemas.length === 0
      ? { check: "backup.schemas", ok: true, message: "USAGE on every schema." }
      : {
          check: "backup.schemas",
          ok: false,
          message: `No USAGE on ${schemas.length} schema(s): ${names(schemas)}; pg_dump cannot read them.`,
          grant: readAllGrant ?? schemas.map((s) => `GRANT USAGE ON SCHEMA ${quoteIdent(s.name)} TO ${u};`).join("\n"),
        },
  );

  const { rows: tables } = await c.query<{ name: string; schema: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name, n.nspname AS schema
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'S') AND ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
        AND NOT has_table_privilege(c.oid, 'SELECT')
      ORDER BY 1`,
  );
  const tableSchemas = [...new Set(tables.map((t) => t.schema))];
  out.push(
    tables.length === 0
      ? { check: "backup.tables", ok: true, message: f.readAllData ? "Reads every table and sequence (pg_read_all_data or superuser)." : "SELECT on every table and sequence." }
      : {
          check: "backup.tables",
          ok: false,
          message: `No SELECT on ${tables.length} table(s) or sequence(s): ${names(tables)}.`,
          grant:
            readAllGrant ??
            tableSchemas.map((s) => `GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdent(s)} TO ${u};\nGRANT SELECT ON ALL SEQUENCES IN SCHEMA ${quoteIdent(s)} TO ${u};`).join("\n"),
        },
  );

  // pg_dump turns row security off and fails on a table whose policies apply to the role: one
  // it does not own, and one it owns that FORCEs row-level security on its owner too.
  const { rows: rls } = f.bypassRls
    ? { rows: [] as { name: string; owned: boolean }[] }
    : await c.query<{ name: string; owned: boolean }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name, pg_has_role(current_user, c.relowner, 'USAGE') AS owned
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relrowsecurity AND c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA}
            AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
          ORDER BY 1`,
      );
  const notOwned = rls.filter((r) => !r.owned);
  const forced = rls.filter((r) => r.owned);
  const rlsWhere = [
    ...(notOwned.length ? [`on ${notOwned.length} table(s) ${f.user} does not own (${names(notOwned)})`] : []),
    ...(forced.length ? [`forced on ${forced.length} table(s) ${f.user} owns (${names(forced)}), where it binds the owner too`] : []),
  ];
  out.push(
    rls.length === 0
      ? { check: "backup.row_security", ok: true, message: "No row-level security in the way." }
      : {
          check: "backup.row_security",
          ok: false,
          message: `Row-level security ${rlsWhere.join("; ")}: pg_dump refuses them. Only a superuser may grant BYPASSRLS.`,
          grant: `ALTER ROLE ${u} BYPASSRLS;`,
        },
  );

  const { rows: los } =
    f.superuser || f.loCompat
      ? { rows: [] as { oid: string }[] }
      : await c.query<{ oid: string }>(
          `SELECT m.oid::text AS oid FROM pg_largeobject_metadata m
            WHERE NOT pg_has_role(current_user, m.lomowner, 'USAGE')
              AND NOT EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(current_user, a.grantee, 'USAGE')))
            ORDER BY m.oid`,
        );
  out.push(
    los.length === 0
      ? { check: "backup.large_objects", ok: true, message: "Reads every large object." }
      : {
          check: "backup.large_objects",
          ok: false,
          message: `No SELECT on ${los.length} large object(s); pg_dump cannot read them.`,
          grant:
            los.length <= MAX_LO_GRANT
              ? `GRANT SELECT ON LARGE OBJECT ${los.map((l) => l.oid).join(", ")} TO ${u};`
              : `ALTER ROLE ${u} SUPERUSER; -- or GRANT SELECT ON LARGE OBJECT <oid>, … TO ${u}; for each of the ${los.length}`,
        },
  );

  // Sessions now: the application's pool may hold more at the hour of the backup (decision 178).
  const room = await readConnectionRoom(c);
  const short = shortOfRoom(room, FULL_BACKUP_SESSIONS, "A FULL backup");
  out.push(
    short
      ? { check: "backup.connections", ok: false, message: short.grant ? short.words : `${short.words} ${short.otherwise}.`, ...(short.grant ? { grant: short.grant } : {}) }
      : { check: "backup.connections", ok: true, message: `Room for the ${FULL_BACKUP_SESSIONS} sessions a FULL backup holds at once (${roomSummary(room)}).` },
  );
  return out;
}

/** A standby takes no writes: neither restore can run, whatever the role may do (decision 144). */
function writable(check: "in_place.writable" | "swap.writable", f: RoleFacts, url: string): TargetTestReason {
  const hint = primaryHint(url);
  return f.standby
    ? { check, ok: false, message: `${f.database} is on a standby (in recovery): it takes no writes, so nothing can be restored into it. Backups from it work; restore on the primary${hint ? ` — ${hint}` : ""}.` }
    : { check, ok: true, message: `${f.database} is on a primary: it takes writes.` };
}

/**
 * Extensions a role that is not a superuser cannot create (none for a superuser): by the rule
 * the restore refuses on (decision 209, `findUntrustedExtensions`), so the test and the
 * restore never disagree.
 */
async function untrustedExtensions(c: pg.Client, f: RoleFacts): Promise<{ name: string }[]> {
  if (f.superuser) return [];
  const { rows } = await c.query<{ name: string }>("SELECT extname AS name FROM pg_catalog.pg_extension ORDER BY 1");
  return (await findUntrustedExtensions(c, rows.map((r) => r.name))).map((name) => ({ name }));
}

/** Both restores create every extension as the connecting role: a trusted one needs CREATE, any other a superuser. */
function extensionsReason(check: "in_place.extensions" | "swap.extensions", f: RoleFacts, untrusted: { name: string }[], when: string): TargetTestReason {
  return untrusted.length === 0
    ? { check, ok: true, message: f.superuser ? "A superuser recreates any extension." : "Every extension is trusted: the role recreates them." }
    : {
        check,
        ok: false,
        message: `Extension(s) ${names(untrusted)} are not trusted: only a superuser can ${when}.`,
        grant: `ALTER ROLE ${quoteIdent(f.user)} SUPERUSER;`,
      };
}

async function inPlaceReasons(c: pg.Client, f: RoleFacts, url: string, untrusted: { name: string }[]): Promise<TargetTestReason[]> {
  const u = quoteIdent(f.user);
  const out: TargetTestReason[] = [writable("in_place.writable", f, url)];
  out.push(
    f.createOnDb
      ? { check: "in_place.create", ok: true, message: `${f.user} may create schemas in ${f.database}.` }
      : { check: "in_place.create", ok: false, message: `${f.user} has no CREATE on ${f.database}: the restore cannot recreate its schemas.`, grant: `GRANT CREATE ON DATABASE ${quoteIdent(f.database)} TO ${u};` },
  );
  // From PostgreSQL 15 `public` belongs to pg_database_owner: recreating it takes the database's owner.
  if (f.serverVersionNum >= 150000) {
    out.push(
      f.superuser || f.usesOwner
        ? { check: "in_place.database_owner", ok: true, message: `${f.user} acts as the owner of ${f.database} (recreates public).` }
        : {
            check: "in_place.database_owner",
            ok: false,
            message: `${f.database} is owned by ${f.databaseOwner}: the restore recreates the public schema for the database's owner, which only the owner may.`,
            grant: `ALTER DATABASE ${quoteIdent(f.database)} OWNER TO ${u};`,
          },
    );
  }
  // Extensions go with their schema's DROP … CASCADE (no ownership needed) and come back by
  // CREATE EXTENSION as the connecting role.
  out.push(extensionsReason("in_place.extensions", f, untrusted, "create them again after the restore drops them"));
  if (f.superuser) {
    out.push({ check: "in_place.object_owners", ok: true, message: `${f.user} is a superuser: it may drop and recreate every object under its owner.` });
    return out;
  }
  // Every object is dropped and recreated under its owner: the role needs the privileges of each owner.
  const { rows } = await c.query<{ owner: string; what: string }>(`
    WITH o(owner, what) AS (
      SELECT n.nspowner, format('schema %I', n.nspname) FROM pg_namespace n WHERE ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_namespace", "n")}
      UNION ALL SELECT c.relowner, format('%s %I.%I', CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END, n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'S', 'v', 'm', 'f') AND ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
      UNION ALL SELECT p.proowner, format('function %I.%I', n.nspname, p.proname)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_proc", "p")}
      UNION ALL SELECT t.typowner, format('type %I.%I', n.nspname, t.typname)
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typtype IN ('e', 'd', 'r', 'm') AND ${SYSTEM_SCHEMA} AND ${notExtensionMember("pg_type", "t")}
      UNION ALL SELECT m.lomowner, format('large object %s', m.oid) FROM pg_largeobject_metadata m
      UNION ALL SELECT t.evtowner, format('event trigger %I', t.evtname) FROM pg_event_trigger t
      UNION ALL SELECT p.pubowner, format('publication %I', p.pubname) FROM pg_publication p
      UNION ALL SELECT s.srvowner, format('foreign server %I', s.srvname) FROM pg_foreign_server s
    )
    SELECT pg_get_userbyid(owner) AS owner, what FROM o
     WHERE NOT pg_has_role(current_user, owner, 'USAGE') ORDER BY 1, 2`);
  const byOwner = new Map<string, string[]>();
  for (const r of rows) byOwner.set(r.owner, [...(byOwner.get(r.owner) ?? []), r.what]);
  if (byOwner.size === 0) {
    out.push({ check: "in_place.object_owners", ok: true, message: `${f.user} owns (or acts as the owner of) every object in ${f.database}.` });
  }
  for (const [owner, what] of byOwner) {
    out.push({
      check: "in_place.object_owners",
      ok: false,
      message: `${owner} owns ${what.length} object(s) (${names(what.map((name) => ({ name })))}) that an in-place restore drops and recreates as ${owner}; ${f.user} cannot act as ${owner}.`,
      grant: `GRANT ${quoteIdent(owner)} TO ${u};`,
    });
  }
  return out;
}

async function canReachMaintenance(url: string): Promise<boolean> {
  for (const db of ["postgres", "template1"]) {
    const other = editDbUrl(url, (u) => {
      u.pathname = `/${db}`;
    });
    const c = await newClient(other, { connectionTimeoutMillis: TEST_CONNECT_TIMEOUT_MS, application_name: "vaultline-target-test" });
    try {
      await c.connect();
      return true;
    } catch {
      // the next one
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  return false;
}

/** Whatever the role, a restore of this database's backups must not fail on its own functions (decision 153). */
async function restoreReasons(c: pg.Client): Promise<TargetTestReason[]> {
  const problems = await searchPathProblems(c, []);
  const warning = searchPathWarning(problems);
  return [
    warning
      ? { check: "restore.search_path", ok: false, message: warning }
      : { check: "restore.search_path", ok: true, message: "Every expression a restore evaluates finds what it names with the restore's empty search_path." },
  ];
}

async function swapReasons(c: pg.Client, url: string, f: RoleFacts, reached: string, untrusted: { name: string }[]): Promise<TargetTestReason[]> {
  const u = quoteIdent(f.user);
  const maintenance = await canReachMaintenance(reached);
  // Tried on the database itself and rolled back (db-settings.ts); a superuser may set anything.
  const unsettable = f.superuser ? [] : await settingsNotCarriable(c);
  const grants = [...new Set(unsettable.map((x) => grantToSet(x, f.user, f.serverVersionNum)).filter((g): g is string => g !== null))];
  return [
    writable("swap.writable", f, url),
    f.createDb
      ? { check: "swap.createdb", ok: true, message: `${f.user} may create databases.` }
      : { check: "swap.createdb", ok: false, message: `${f.user} may not create databases: the fresh copy beside ${f.database} cannot be made.`, grant: `ALTER ROLE ${u} CREATEDB;` },
    f.superuser || f.memberOfOwner
      ? { check: "swap.database_owner", ok: true, message: `${f.user} owns ${f.database} (may rename it and create its replacement for ${f.databaseOwner}).` }
      : {
          check: "swap.database_owner",
          ok: false,
          message: `${f.database} is owned by ${f.databaseOwner}: ${f.user} may not rename it or create its replacement with that owner.`,
          grant: `ALTER DATABASE ${quoteIdent(f.database)} OWNER TO ${u};`,
        },
    f.canSignal
      ? { check: "swap.signal", ok: true, message: `${f.user} may end other roles' sessions on ${f.database} at the swap.` }
      : {
          check: "swap.signal",
          ok: false,
          message: `${f.user} may end only its own sessions: an application connected as another role at the swap makes it fail (the live database stays as it was).`,
          grant: `GRANT pg_signal_backend TO ${u};`,
        },
    maintenance
      ? { check: "swap.maintenance", ok: true, message: "Connects to a maintenance database (postgres or template1) for the renames." }
      : {
          check: "swap.maintenance",
          ok: false,
          message: `${f.user} cannot connect to postgres or template1 on this server: the renames run from there.`,
          grant: `GRANT CONNECT ON DATABASE postgres TO ${u};`,
        },
    f.tablespaceCreate
      ? { check: "swap.tablespace", ok: true, message: `${f.user} may create ${f.database}'s replacement in its tablespace ${f.tablespace}.` }
      : {
          check: "swap.tablespace",
          ok: false,
          message: `${f.database} is in tablespace ${f.tablespace}, where ${f.user} may not create its replacement.`,
          grant: `GRANT CREATE ON TABLESPACE ${quoteIdent(f.tablespace)} TO ${u};`,
        },
    // The fresh copy gets every extension again, by CREATE EXTENSION as the connecting role.
    extensionsReason("swap.extensions", f, untrusted, "create them in the fresh copy the swap restores into"),
    unsettable.length === 0
      ? { check: "swap.settings", ok: true, message: `${f.user} may set ${f.database}'s own settings (ALTER DATABASE … SET) on its replacement.` }
      : {
          check: "swap.settings",
          ok: false,
          message: `${f.database} has settings ${f.user} may not set on its replacement: ${unsettable.map((x) => `${describeSetting(x)} (${x.reason})`).join(", ")}. A restore runs in place instead.`,
          ...(grants.length ? { grant: grants.join("\n") } : {}),
        },
  ];
}

function dumpCompatibility(server: PgVersion, local: PgVersion | Error): TargetTestResult["pgDump"] {
  if (local instanceof Error) return { version: null, compatible: false, message: local.message };
  if (local.major >= server.major) {
    return { version: local.full, compatible: true, message: `pg_dump ${local.full} can dump PostgreSQL ${server.full}.` };
  }
  return {
    version: local.full,
    compatible: false,
    message: `pg_dump ${local.full} is older than the server (PostgreSQL ${server.full}) and refuses to dump it: install PostgreSQL ${server.major} client tools (or newer) or set PG_BIN_DIR.`,
  };
}

/** For a failover URL (decision 183): which of its hosts the session went to, and by which rule. */
function chosenHostWords(url: string, c: pg.Client): string {
  if (!hasSeveralHosts(url)) return "";
  const at = sessionHost(url, c);
  const attrs = sessionAttrsOf(url);
  return ` on ${at ? `${at.spec}, host ${at.at} of ${at.of}` : `${c.host}:${c.port}`} (target_session_attrs=${attrs}${attrs === "any" ? ": the first that answered" : ""})`;
}

/** Tests `url` as a target. Never throws for a failure of the database: the result says it. */
export async function testTargetConnection(url: string, opts: { pgBinDir?: string; timeoutMs?: number } = {}): Promise<TargetTestResult> {
  const local = await pgDumpVersion(opts.pgBinDir).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  let client: pg.Client | undefined;
  try {
    // The URL itself may be wrong for libpq (an sslmode it does not know, a missing sslrootcert).
    client = await newClient(url, { connectionTimeoutMillis: opts.timeoutMs ?? TEST_CONNECT_TIMEOUT_MS, application_name: "vaultline-target-test" });
    await client.connect();
    // By SET, not as a startup parameter, which connection poolers refuse (decision 148).
    await client.query(`SET statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
  } catch (e) {
    await client?.end().catch(() => undefined);
    const message = `Cannot connect: ${redactedMessage(e, url)}`;
    return {
      ok: false,
      serverVersion: null,
      pgDump: local instanceof Error ? { version: null, compatible: false, message: local.message } : { version: local.full, compatible: false, message: "The server's version is unknown (no connection)." },
      canBackup: false,
      canRestoreInPlace: false,
      canSwap: false,
      restorable: false,
      reasons: [{ check: "connect", ok: false, message }],
    };
  }
  try {
    const f = await roleFacts(client);
    const server = parseServerVersionNum(f.serverVersionNum);
    const pgDump = dumpCompatibility(server, local);
    const backup = await backupReasons(client, f);
    const untrusted = await untrustedExtensions(client, f);
    const inPlace = await inPlaceReasons(client, f, url, untrusted);
    // The test's other sessions go to the host its first one reached (decision 190): a host
    // that does not answer costs the test one timeout, not one per session.
    const reached = pinnedTo(url, client);
    const swap = await swapReasons(client, url, f, reached, untrusted);
    const restore = await restoreReasons(client);
    const pooled = poolerProblem(await sharesServerSessions(reached));
    const session: TargetTestReason = pooled
      ? { check: "session", ok: false, message: `${pooled}.` }
      : { check: "session", ok: true, message: "Each connection has a server session of its own (no pooler in transaction mode)." };
    const canBackup = session.ok && backup.every((r) => r.ok);
    const reasons: TargetTestReason[] = [
      { check: "connect", ok: true, message: `Connected to ${f.database} as ${f.user}${chosenHostWords(url, client)}.` },
      session,
      { check: "pg_dump", ok: pgDump.compatible, message: pgDump.message },
      ...backup,
      ...inPlace,
      ...swap,
      ...restore,
    ];
    return {
      ok: pgDump.compatible && canBackup,
      serverVersion: server.full,
      pgDump,
      canBackup,
      canRestoreInPlace: session.ok && inPlace.every((r) => r.ok),
      canSwap: session.ok && swap.every((r) => r.ok),
      restorable: restore.every((r) => r.ok),
      reasons,
    };
  } catch (e) {
    const message = `Connected, but the privilege checks failed: ${redactedMessage(e, url)}`;
    return {
      ok: false,
      serverVersion: null,
      pgDump: local instanceof Error ? { version: null, compatible: false, message: local.message } : { version: local.full, compatible: false, message: "The server's version could not be read." },
      canBackup: false,
      canRestoreInPlace: false,
      canSwap: false,
      restorable: false,
      reasons: [{ check: "connect", ok: false, message }],
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A connection that failed outright (the first reason), as opposed to missing privileges. */
export function connectionFailed(r: TargetTestResult): TargetTestReason | null {
  const first = r.reasons[0];
  return first && first.check === "connect" && !first.ok ? first : null;
}
