// The roles a database needs, recorded with its backup and made again on a server that lacks
// them (decision 171). Roles belong to the server, not to the database: pg_dump writes
// `ALTER … OWNER TO vl_app` and `GRANT SELECT … TO vl_reader` but never the roles. On the
// night a server is rebuilt after its disk was lost, a restore that keeps owners and grants
// was refused ("Role vl_app … does not exist on this server (CREATE ROLE "vl_app";)"): the
// person on call had to remember, at 3 a.m., every role, whether it logs in, what it is a
// member of and what it sets — or give everything to Vaultline's role and lose the grants.
//
// Now each backup records, beside its catalogue, the definition of every role its objects
// name (owners, grantees, a policy's roles, default privileges) and of the roles joined to
// those by membership either way (the groups they act through, the people who log in as
// members): attributes, connection limit, expiry, settings, comment and memberships. Never a
// password: a backup holds no secret (the record says whether the role had one). A restore
// asked to (`createRoles`) makes the missing ones in one transaction before anything else,
// and drops them again if it fails before it replaced anything, as it does a database it made.
import type pg from "pg";
import type { MissingRolesDto } from "../validation/restores";
import { quoteIdent, quoteLiteral } from "./quote";
import { settingClause } from "./db-settings";

export interface RoleDefinition {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  login: boolean;
  replication: boolean;
  bypassRls: boolean;
  /** -1: no limit. */
  connectionLimit: number;
  /** `VALID UNTIL` as PostgreSQL reads it back ("2027-01-01 00:00:00+00", "infinity"); null: none. */
  validUntil: string | null;
  /** `ALTER ROLE … SET` for every database, as stored ("name=value"). */
  settings: string[];
  comment: string | null;
  /** The roles it is a member of (among those recorded, or PostgreSQL's own such as pg_read_all_data). */
  memberOf: Array<{ role: string; admin: boolean }>;
  /** Whether it had a password; absent when the backup's role could not see (not a superuser). */
  hadPassword?: boolean;
}

const DEFINITIONS = `
  WITH RECURSIVE base AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])),
  up AS (SELECT oid FROM base UNION SELECT m.roleid FROM pg_catalog.pg_auth_members m JOIN up ON m.member = up.oid),
  down AS (SELECT oid FROM base UNION SELECT m.member FROM pg_catalog.pg_auth_members m JOIN down ON m.roleid = down.oid),
  kept AS (SELECT oid FROM up UNION SELECT oid FROM down)
  SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS "createRole",
         r.rolcreatedb AS "createDb", r.rolcanlogin AS login, r.rolreplication AS replication, r.rolbypassrls AS "bypassRls",
         r.rolconnlimit AS "connectionLimit",
         CASE WHEN r.rolvaliduntil IS NULL THEN NULL WHEN r.rolvaliduntil = 'infinity' THEN 'infinity'
              ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US+00') END AS "validUntil",
         coalesce(r.rolconfig, '{}') AS settings, pg_catalog.shobj_description(r.oid, 'pg_authid') AS comment,
         coalesce((SELECT json_agg(json_build_object('role', g.rolname, 'admin', m.admin_option) ORDER BY g.rolname)
                     FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                    WHERE m.member = r.oid AND (g.oid IN (SELECT oid FROM kept) OR g.rolname LIKE 'pg\\_%')), '[]') AS "memberOf"
    FROM pg_catalog.pg_roles r
   WHERE r.oid IN (SELECT oid FROM kept) AND r.oid >= 16384
   ORDER BY 1`;

/**
 * The definitions of the roles `names` need (see the file's head), read where c is connected
 * (roles are the server's: any database). PostgreSQL's own roles and the bootstrap superuser
 * exist on every server and are not recorded.
 */
export async function readRoleDefinitions(c: pg.ClientBase, names: string[]): Promise<RoleDefinition[]> {
  const { rows } = await c.query<RoleDefinition>(DEFINITIONS, [names]);
  const { rows: me } = await c.query<{ superuser: boolean }>("SELECT rolsuper AS superuser FROM pg_catalog.pg_roles WHERE rolname = current_user");
  if (!me[0]?.superuser || !rows.length) return rows;
  // Whether each had a password: only a superuser may read pg_authid, and only that is kept.
  const { rows: pw } = await c.query<{ name: string; had: boolean }>(
    "SELECT rolname AS name, rolpassword IS NOT NULL AS had FROM pg_catalog.pg_authid WHERE rolname = ANY($1::text[])",
    [rows.map((r) => r.name)],
  );
  const had = new Map(pw.map((p) => [p.name, p.had]));
  return rows.map((r) => ({ ...r, hadPassword: had.get(r.name) ?? false }));
}

/** The statements that make one role as recorded (its memberships apart: they need the others made). */
export function createRoleStatements(d: RoleDefinition): string[] {
  const flag = (on: boolean, word: string) => (on ? word : `NO${word}`);
  const attrs = [
    flag(d.superuser, "SUPERUSER"),
    flag(d.inherit, "INHERIT"),
    flag(d.createRole, "CREATEROLE"),
    flag(d.createDb, "CREATEDB"),
    flag(d.login, "LOGIN"),
    flag(d.replication, "REPLICATION"),
    flag(d.bypassRls, "BYPASSRLS"),
    `CONNECTION LIMIT ${Math.trunc(d.connectionLimit)}`,
    ...(d.validUntil ? [`VALID UNTIL ${quoteLiteral(d.validUntil)}`] : []),
  ];
  const role = quoteIdent(d.name);
  return [
    `CREATE ROLE ${role} WITH ${attrs.join(" ")}`,
    ...d.settings.map((s) => `ALTER ROLE ${role} ${settingClause(s)}`),
    ...(d.comment ? [`COMMENT ON ROLE ${role} IS ${quoteLiteral(d.comment)}`] : []),
  ];
}

/**
 * Every statement that makes `missing` as recorded: the roles, then each membership that
 * has a role made here on one side (one between two roles the server has is left as it is).
 */
export function createRolesSql(defs: RoleDefinition[], missing: string[]): string[] {
  const made = new Set(missing);
  const byName = new Map(defs.map((d) => [d.name, d]));
  const out = missing.flatMap((n) => createRoleStatements(byName.get(n)!));
  for (const d of defs) {
    for (const m of d.memberOf) {
      if (!made.has(d.name) && !made.has(m.role)) continue;
      out.push(`GRANT ${quoteIdent(m.role)} TO ${quoteIdent(d.name)}${m.admin ? " WITH ADMIN OPTION" : ""}`);
    }
  }
  return out;
}

/** The roles a backup needs that the server lacks, as the preview answers them. */
export type MissingRoles = MissingRolesDto;

export function missingRolesFrom(existing: Set<string>, named: string[], defs: RoleDefinition[], serverVersionNum: number): MissingRoles {
  const defined = new Map(defs.map((d) => [d.name, d]));
  const creatable = defs.filter((d) => !existing.has(d.name)).map((d) => d.name);
  const made = creatable.map((n) => defined.get(n)!);
  return {
    creatable,
    unknown: named.filter((n) => !existing.has(n) && !defined.has(n)).sort(),
    passwordless: made.filter((d) => d.login && d.hadPassword !== false).map((d) => d.name),
    needSuperuser: made.filter((d) => d.superuser || (serverVersionNum < 160000 && (d.replication || d.bypassRls))).map((d) => d.name),
  };
}

/** What the preview says of the missing roles, or null when none is missing. */
export function missingRolesWords(m: MissingRoles): string | null {
  if (!m.creatable.length && !m.unknown.length) return null;
  const parts: string[] = [];
  if (m.creatable.length) {
    parts.push(
      `${m.creatable.length === 1 ? "A role" : `${m.creatable.length} roles`} the backup needs ${m.creatable.length === 1 ? "is" : "are"} not on this server (${m.creatable.join(", ")}); the backup recorded how to make ${m.creatable.length === 1 ? "it" : "them"}` +
        ` (attributes, memberships, settings, comment), and a restore asked to create roles makes ${m.creatable.length === 1 ? "it" : "them"} before anything else.`,
    );
    if (m.passwordless.length) parts.push(`A backup holds no password: ${m.passwordless.join(", ")} will have none until you set one (ALTER ROLE … PASSWORD …).`);
    if (m.needSuperuser.length) parts.push(`Only a superuser may make ${m.needSuperuser.join(", ")}.`);
  }
  if (m.unknown.length) parts.push(`The backup did not record how to make ${m.unknown.join(", ")}: create ${m.unknown.length === 1 ? "it" : "them"} first.`);
  return parts.join(" ");
}
