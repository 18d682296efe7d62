// Every object a database holds, by kind, with its owner, privileges and a short hash of its
// definition: recorded in each manifest at backup time and compared with the live database
// before a restore, so the preview names everything the restore will add, remove or change
// (DESIGN §5) — not only tables and columns. Objects that belong to an extension are the
// extension's, and schemas Vaultline leaves out of a backup are left out here too.
import { createHash } from "node:crypto";
import type pg from "pg";
import { withClient, type Session } from "./pg-client";
import { readRoleDefinitions, type RoleDefinition } from "./role-definitions";
import { readDatabaseState, type DatabaseState } from "./database-state";

export const OBJECT_KINDS = [
  "schemas",
  "extensions",
  "tables",
  "views",
  "materializedViews",
  "sequences",
  "functions",
  "types",
  "indexes",
  "constraints",
  "triggers",
  "policies",
  "largeObjects",
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface CatalogEntry {
  owner: string | null;
  /** Privileges as PostgreSQL prints them, null = the defaults. */
  acl: string | null;
  /** First 12 hex digits of a SHA-256 over the definition (and comment, RLS flags…). */
  def: string;
}

export interface CatalogSnapshot {
  objects: Record<ObjectKind, Record<string, CatalogEntry>>;
  /** Every role that owns an object or holds a privilege on one (a column's, a default one), or that a policy names. */
  roles: string[];
  /**
   * Of those, the roles a restore that keeps owners acts for (decision 182): every object's
   * owner and every role default privileges are set FOR. The restoring role must be a member
   * of each; a role only granted something, or named by a policy, need only exist (an object's
   * owner, or a member of it, may grant to anyone). Absent before decision 182: then every role.
   */
  owners?: string[];
  /**
   * Roles that granted a privilege on an object they do not own (a grant option passed on):
   * pg_dump writes such a grant under SET SESSION AUTHORIZATION, which only a superuser — or
   * that very role — may run. Absent before decision 182.
   */
  otherGrantors?: string[];
  /**
   * How to make those roles, the database's own (its owner, grantees, per-role settings) and
   * those joined to them by membership (decision 171); absent in manifests before it.
   */
  roleDefinitions?: RoleDefinition[];
  /** A policy's roles are hashed by name (decision 171); before, by OID, which another server does not share. */
  policyRolesByName?: boolean;
  /** The tablespaces objects are placed in outside the database's own, which pg_dump names (decision 173); absent before it. */
  tablespaces?: string[];
  /** Objects only a superuser may create (SUPERUSER_ONLY), "kind name"; absent in manifests before decision 135. */
  superuserOnly?: string[];
  /** Each extension's version, by name (the entries' def is a hash); absent in manifests before decision 152. */
  extensionVersions?: Record<string, string>;
  /** The database's own owner, connection limit, grants, comment and settings, which a restore gives back (decision 194); absent before it. */
  database?: DatabaseState;
}

/** A definition's hash as entries hold it: the first 12 hex digits of its SHA-256. */
export const short = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);

/** Application schemas: not PostgreSQL's own, not temporary, not excluded. */
function schemaFilter(alias: string): string {
  return `${alias}.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND ${alias}.nspname NOT LIKE 'pg_temp_%' AND ${alias}.nspname NOT LIKE 'pg_toast_temp_%'
    AND NOT (${alias}.nspname = ANY($1::text[]))`;
}

/** Objects created by an extension script belong to the extension, not the application. */
export const notExtensionMember = (classTable: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${classTable}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

interface Row {
  name: string;
  owner: string | null;
  acl: string | null;
  def: string | null;
}

/** A policy's roles as text: by name, or (as manifests before decision 171 recorded them) by OID. */
const policyRoles = (byName: boolean) =>
  byName ? "ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1)::text" : "p.polroles::text";

const QUERIES: Record<ObjectKind, string> = {
  schemas: `
    SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, n.nspacl::text AS acl,
           coalesce(obj_description(n.oid, 'pg_namespace'), '') AS def
      FROM pg_namespace n WHERE ${schemaFilter("n")} AND ${notExtensionMember("pg_namespace", "n.oid")}`,
  extensions: `
    SELECT e.extname AS name, NULL AS owner, NULL AS acl, e.extversion || ' in ' || n.nspname AS def
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname <> 'plpgsql' AND NOT (n.nspname = ANY($1::text[]))`,
  tables: `
    SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl,
           concat_ws('|', c.relkind, c.relrowsecurity, c.relforcerowsecurity, c.relpersistence,
                     pg_get_expr(c.relpartbound, c.oid), coalesce(obj_description(c.oid, 'pg_class'), ''),
                     (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
                                        || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
                                        || coalesce(' acl ' || a.attacl::text, '')
                                        || coalesce(' comment ' || col_description(c.oid, a.attnum), ''), ',' ORDER BY a.attnum)
                        FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)) AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'f') AND ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  views: `
    SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl,
           pg_get_viewdef(c.oid) || coalesce(obj_description(c.oid, 'pg_class'), '') AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'v' AND ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  materializedViews: `
    SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl,
           pg_get_viewdef(c.oid) || c.relispopulated::text AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm' AND ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  sequences: `
    SELECT n.nspname || '.' || c.relname AS name, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl,
           concat_ws('|', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcycle) AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
     WHERE c.relkind = 'S' AND ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  functions: `
    SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
           pg_get_userbyid(p.proowner) AS owner, p.proacl::text AS acl,
           pg_get_functiondef(p.oid) || coalesce(obj_description(p.oid, 'pg_proc'), '') AS def
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.prokind IN ('f', 'p', 'w') AND ${schemaFilter("n")} AND ${notExtensionMember("pg_proc", "p.oid")}`,
  types: `
    SELECT n.nspname || '.' || t.typname AS name, pg_get_userbyid(t.typowner) AS owner, t.typacl::text AS acl,
           concat_ws('|', t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                     (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
                     (SELECT string_agg(pg_get_constraintdef(k.oid), ',' ORDER BY k.conname) FROM pg_constraint k WHERE k.contypid = t.oid),
                     coalesce(obj_description(t.oid, 'pg_type'), '')) AS def
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype IN ('e', 'd', 'r', 'm', 'c') AND ${schemaFilter("n")} AND ${notExtensionMember("pg_type", "t.oid")}
       AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
       AND t.typname NOT LIKE '\\_%'`,
  indexes: `
    SELECT n.nspname || '.' || c.relname AS name, NULL AS owner, NULL AS acl, pg_get_indexdef(c.oid) AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('i', 'I') AND ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "c.oid")}`,
  constraints: `
    SELECT n.nspname || '.' || r.relname || '.' || k.conname AS name, NULL AS owner, NULL AS acl,
           pg_get_constraintdef(k.oid) AS def
      FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE ${schemaFilter("n")} AND ${notExtensionMember("pg_class", "r.oid")}`,
  triggers: `
    SELECT n.nspname || '.' || r.relname || '.' || t.tgname AS name, NULL AS owner, NULL AS acl,
           pg_get_triggerdef(t.oid) || t.tgenabled::text AS def
      FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE NOT t.tgisinternal AND ${schemaFilter("n")}`,
  policies: `
    SELECT n.nspname || '.' || r.relname || '.' || p.polname AS name, NULL AS owner, NULL AS acl,
           concat_ws('|', p.polcmd, p.polpermissive, POLICY_ROLES,
                     pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) AS def
      FROM pg_policy p JOIN pg_class r ON r.oid = p.polrelid JOIN pg_namespace n ON n.oid = r.relnamespace
     WHERE ${schemaFilter("n")}`,
  largeObjects: `
    SELECT m.oid::text AS name, pg_get_userbyid(m.lomowner) AS owner, m.lomacl::text AS acl,
           coalesce(obj_description(m.oid, 'pg_largeobject'), '') AS def
      FROM pg_largeobject_metadata m WHERE cardinality($1::text[]) >= 0`,
};

const queryFor = (kind: ObjectKind, policyRolesByName: boolean) => QUERIES[kind].replace("POLICY_ROLES", policyRoles(policyRolesByName));

/**
 * Roles the objects' owner and ACL columns do not show, whose absence a restore that keeps
 * grants fails on all the same: a column's grantees and grantors, a policy's roles, default
 * privileges' roles and grantees.
 */
const MORE_ROLES = `
  SELECT pg_get_userbyid(r) AS name FROM (
    SELECT x.grantee AS r FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
           aclexplode(a.attacl) x WHERE a.attacl IS NOT NULL AND ${schemaFilter("n")}
    UNION SELECT x.grantor FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
           aclexplode(a.attacl) x WHERE a.attacl IS NOT NULL AND ${schemaFilter("n")}
    UNION SELECT u.r FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
           unnest(p.polroles) u(r) WHERE ${schemaFilter("n")}
    UNION SELECT d.defaclrole FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
           WHERE d.defaclnamespace = 0 OR (${schemaFilter("n")})
    UNION SELECT x.grantee FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) x
           WHERE d.defaclnamespace = 0 OR (${schemaFilter("n")})
  ) s WHERE r <> 0`;

/**
 * Beyond the entries' owners and ACLs: the roles default privileges are set FOR (a restore
 * acts for them: ALTER DEFAULT PRIVILEGES FOR ROLE), and those that granted a column's
 * privilege on a table they do not own (grantor: true).
 */
const MORE_ACTING_ROLES = `
  SELECT DISTINCT pg_get_userbyid(d.defaclrole) AS name, false AS grantor FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
   WHERE d.defaclnamespace = 0 OR (${schemaFilter("n")})
  UNION
  SELECT DISTINCT pg_get_userbyid(x.grantor), true FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
         aclexplode(a.attacl) x WHERE a.attacl IS NOT NULL AND x.grantor <> c.relowner AND ${schemaFilter("n")}`;

/** Tablespaces the archive names: those of relations placed outside the database's own (reltablespace 0 is the database's). */
const TABLESPACES = `
  SELECT DISTINCT t.spcname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_tablespace t ON t.oid = c.reltablespace
   WHERE c.reltablespace <> 0 AND t.spcname NOT IN ('pg_default', 'pg_global') AND ${schemaFilter("n")} ORDER BY 1`;

/** The database's own roles: its owner, its grantees, the roles it holds settings for. */
const DATABASE_ROLES = `
  SELECT pg_get_userbyid(d.datdba) AS name FROM pg_database d WHERE d.datname = current_database()
  UNION SELECT pg_get_userbyid(x.grantee) FROM pg_database d, aclexplode(d.datacl) x WHERE d.datname = current_database() AND x.grantee <> 0
  UNION SELECT pg_get_userbyid(s.setrole) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
         WHERE d.datname = current_database() AND s.setrole <> 0`;

/**
 * Objects a restore must be a superuser to create, whatever it does with owners: PostgreSQL
 * refuses them to any other role. Event triggers, foreign-data wrappers, access methods,
 * procedural languages, functions in untrusted languages (C, internal, plpython3u…; not
 * aggregates, whose language reads "internal", nor a range type's own constructors), casts
 * that are binary-coercible or between types the restoring role cannot own (built-in ones),
 * publications FOR ALL TABLES, operator classes and families, text search parsers and
 * templates, and extensions that are neither trusted nor installable without a superuser.
 * Only what the application made: an extension's members come with the extension.
 */
/** "label schema.name" for each of a catalogue's objects in an application schema, not an extension's (alias x). */
const inAppSchema = (label: string, table: string, name: string, namespace: string) =>
  `SELECT '${label} ' || n.nspname || '.' || x.${name} FROM ${table} x JOIN pg_namespace n ON n.oid = x.${namespace}
   WHERE ${schemaFilter("n")} AND ${notExtensionMember(table, "x.oid")}`;

const SUPERUSER_ONLY = `
  SELECT 'event trigger ' || quote_ident(g.evtname) AS name FROM pg_event_trigger g
   WHERE cardinality($1::text[]) >= 0 AND ${notExtensionMember("pg_event_trigger", "g.oid")}
  UNION ALL
  SELECT 'foreign-data wrapper ' || quote_ident(w.fdwname) FROM pg_foreign_data_wrapper w WHERE ${notExtensionMember("pg_foreign_data_wrapper", "w.oid")}
  UNION ALL
  SELECT 'access method ' || quote_ident(a.amname) FROM pg_am a WHERE a.oid >= 16384 AND ${notExtensionMember("pg_am", "a.oid")}
  UNION ALL
  SELECT 'language ' || quote_ident(l.lanname) FROM pg_language l WHERE l.oid >= 16384 AND ${notExtensionMember("pg_language", "l.oid")}
  UNION ALL
  SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') in ' || l.lanname
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
   WHERE NOT l.lanpltrusted AND p.prokind IN ('f', 'p', 'w') AND ${schemaFilter("n")} AND ${notExtensionMember("pg_proc", "p.oid")}
     -- Not those PostgreSQL makes itself: a range type's constructors (language internal) go with the type.
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i')
  UNION ALL
  SELECT 'cast (' || format_type(k.castsource, NULL) || ' AS ' || format_type(k.casttarget, NULL) || ')' FROM pg_cast k
   WHERE k.oid >= 16384 AND (k.castmethod = 'b' OR (k.castsource < 16384 AND k.casttarget < 16384)) AND ${notExtensionMember("pg_cast", "k.oid")}
  UNION ALL
  SELECT 'publication ' || quote_ident(p.pubname) || ' (for all tables)' FROM pg_publication p WHERE p.puballtables
  UNION ALL
  ${inAppSchema("operator class", "pg_opclass", "opcname", "opcnamespace")}
  UNION ALL
  ${inAppSchema("operator family", "pg_opfamily", "opfname", "opfnamespace")}
     -- CREATE OPERATOR CLASS makes its family when none is named: that class is listed already.
     AND NOT EXISTS (SELECT 1 FROM pg_opclass c WHERE c.opcfamily = x.oid AND c.opcname = x.opfname AND c.opcnamespace = x.opfnamespace)
  UNION ALL
  ${inAppSchema("text search parser", "pg_ts_parser", "prsname", "prsnamespace")}
  UNION ALL
  ${inAppSchema("text search template", "pg_ts_template", "tmplname", "tmplnamespace")}
  UNION ALL
  SELECT 'extension ' || quote_ident(e.extname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    JOIN pg_available_extension_versions v ON v.name = e.extname AND v.version = e.extversion
   WHERE e.extname <> 'plpgsql' AND v.superuser AND NOT v.trusted AND NOT (n.nspname = ANY($1::text[]))`;

/** The extensions listed under `extensions`, with their versions: a restore makes the same (extension-versions.ts). */
const EXTENSION_VERSIONS = `
  SELECT e.extname AS name, e.extversion AS version FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname <> 'plpgsql' AND NOT (n.nspname = ANY($1::text[])) ORDER BY 1`;

/** The catalogue a manifest recorded (manifests before it have none). */
export function manifestCatalog(manifest: object | null): CatalogSnapshot | null {
  return (manifest as { catalog?: CatalogSnapshot } | null)?.catalog ?? null;
}

/**
 * The elements of an array as PostgreSQL prints it: `{a,b}`, an element with a space, comma,
 * quote or backslash double-quoted with `\"` and `\\` inside (`{"\"app-readonly\"=r/app"}`).
 */
function arrayElements(text: string): string[] {
  const s = text.trim();
  if (!s.startsWith("{") || !s.endsWith("}")) return [];
  const out: string[] = [];
  const end = s.length - 1;
  let i = 1;
  while (i < end) {
    let el = "";
    if (s[i] === '"') {
      for (i++; i < end && s[i] !== '"'; i++) {
        if (s[i] === "\\") i++;
        el += s[i];
      }
      i++;
    } else {
      for (; i < end && s[i] !== ","; i++) el += s[i];
    }
    out.push(el);
    if (s[i] === ",") i++;
  }
  return out;
}

/** A role name in an aclitem from `at`: bare, or double-quoted with `""` for a quote (as PostgreSQL's putid writes it). */
function aclName(item: string, at: number): [name: string, next: number] {
  let name = "";
  let i = at;
  if (item[i] !== '"') {
    for (; i < item.length && item[i] !== "=" && item[i] !== "/"; i++) name += item[i];
    return [name, i];
  }
  for (i++; i < item.length; i++) {
    if (item[i] === '"') {
      if (item[i + 1] !== '"') return [name, i + 1];
      i++;
    }
    name += item[i];
  }
  return [name, i];
}

/**
 * The grants inside an ACL text such as {app=arwdDxt/app,reader=r/app,=U/owner}: grantee (""
 * = PUBLIC) and grantor. Names that are not plain lower-case identifiers (`app-readonly`,
 * `AppUser`, `a b`) come quoted, and their element quoted again: read through both (decision 182).
 */
export function aclGrants(acl: string | null): { grantee: string; grantor: string }[] {
  if (!acl) return [];
  const out: { grantee: string; grantor: string }[] = [];
  for (const item of arrayElements(acl)) {
    const [grantee, eq] = aclName(item, 0);
    if (item[eq] !== "=") continue;
    const slash = item.indexOf("/", eq);
    if (slash < 0) continue;
    out.push({ grantee, grantor: aclName(item, slash + 1)[0] });
  }
  return out;
}

/** Role names inside an ACL text: its grantees and grantors, PUBLIC left out. */
export function aclRoles(acl: string | null): string[] {
  return aclGrants(acl).flatMap(({ grantee, grantor }) => [grantee, grantor].filter(Boolean));
}

/** Large objects can number millions: past a limit they are one entry, their hash over all. */
const LARGE_OBJECT_LIMIT = 1000;
function collapse(kind: ObjectKind, entries: Record<string, CatalogEntry>): Record<string, CatalogEntry> {
  const names = Object.keys(entries);
  if (kind !== "largeObjects" || names.length <= LARGE_OBJECT_LIMIT) return entries;
  return { [`(${names.length} large objects)`]: { owner: null, acl: null, def: short(JSON.stringify(entries)) } };
}

/** acldefault's object type for the kinds whose entries carry an ACL. */
const ACL_TYPE: Partial<Record<ObjectKind, string>> = { schemas: "n", tables: "r", views: "r", materializedViews: "r", sequences: "s", functions: "f", types: "T", largeObjects: "L" };

/**
 * Which of these ACLs grant exactly what the owner's defaults grant (decision 147). An object
 * granted to someone and later revoked keeps an explicit ACL equal to its defaults
 * ({app=arwdDxt/app}); pg_dump writes no GRANT for it, so the restored object's ACL is null:
 * the same privileges, another text. Compared as text, the swap's check of its fresh copy
 * failed every restore of such a database. Asked of the server (acldefault), item by item,
 * in any order; an owner the server does not know never matches.
 */
async function defaultAcls(client: pg.Client, items: Array<{ kind: ObjectKind; owner: string | null; acl: string | null }>): Promise<boolean[]> {
  const asked = items.map((it, i) => ({ i, type: ACL_TYPE[it.kind], owner: it.owner, acl: it.acl })).filter((x) => x.type && x.owner && x.acl);
  const out = items.map(() => false);
  if (!asked.length) return out;
  const { rows } = await client.query<{ i: string; d: boolean }>(
    `SELECT u.i, coalesce((SELECT array_agg(x ORDER BY x) FROM unnest(u.a::text[]) x)
                        = (SELECT array_agg(x::text ORDER BY x::text) FROM unnest(acldefault(u.k::"char", to_regrole(quote_ident(u.o)))) x), false) AS d
       FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS u(i, a, k, o)`,
    [asked.map((x) => x.i), asked.map((x) => x.acl), asked.map((x) => x.type), asked.map((x) => x.owner)],
  );
  for (const r of rows) out[Number(r.i)] = r.d;
  return out;
}

/** The entries with an ACL equal to the owner's defaults written as null, as a restore leaves them. */
async function withDefaultAclsAsNull(client: pg.Client, objects: CatalogSnapshot["objects"]): Promise<CatalogSnapshot["objects"]> {
  const flat = OBJECT_KINDS.flatMap((kind) => Object.entries(objects[kind] ?? {}).map(([name, e]) => ({ kind, name, ...e })));
  const isDefault = await defaultAcls(client, flat);
  const out = {} as CatalogSnapshot["objects"];
  for (const kind of OBJECT_KINDS) out[kind] = { ...(objects[kind] ?? {}) };
  flat.forEach((e, i) => {
    if (isDefault[i]) out[e.kind][e.name] = { ...out[e.kind][e.name], acl: null };
  });
  return out;
}

async function snapshotOn(client: pg.Client, excludeSchemas: string[], policyRolesByName: boolean): Promise<CatalogSnapshot> {
  const raw = {} as CatalogSnapshot["objects"];
  for (const kind of OBJECT_KINDS) {
    const { rows } = await client.query<Row>(queryFor(kind, policyRolesByName), [excludeSchemas]);
    const entries: Record<string, CatalogEntry> = {};
    for (const r of rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) entries[r.name] = { owner: r.owner, acl: r.acl, def: short(r.def ?? "") };
    raw[kind] = entries;
  }
  // Before large objects are collapsed into one entry: the hash covers their ACLs.
  const normal = await withDefaultAclsAsNull(client, raw);
  const objects = {} as CatalogSnapshot["objects"];
  const roles = new Set<string>();
  const owners = new Set<string>();
  const otherGrantors = new Set<string>();
  for (const kind of OBJECT_KINDS) {
    for (const e of Object.values(normal[kind])) {
      if (e.owner) {
        roles.add(e.owner);
        owners.add(e.owner);
      }
      for (const role of aclRoles(e.acl)) roles.add(role);
      for (const { grantor } of aclGrants(e.acl)) if (e.owner && grantor && grantor !== e.owner) otherGrantors.add(grantor);
    }
    objects[kind] = collapse(kind, normal[kind]);
  }
  for (const r of (await client.query<{ name: string }>(MORE_ROLES, [excludeSchemas])).rows) roles.add(r.name);
  for (const r of (await client.query<{ name: string; grantor: boolean }>(MORE_ACTING_ROLES, [excludeSchemas])).rows) (r.grantor ? otherGrantors : owners).add(r.name);
  const { rows: su } = await client.query<{ name: string }>(SUPERUSER_ONLY, [excludeSchemas]);
  const { rows: ext } = await client.query<{ name: string; version: string }>(EXTENSION_VERSIONS, [excludeSchemas]);
  return {
    objects,
    roles: [...roles].sort(),
    owners: [...owners].sort(),
    otherGrantors: [...otherGrantors].sort(),
    superuserOnly: su.map((r) => r.name).sort(),
    extensionVersions: Object.fromEntries(ext.map((r) => [r.name, r.version])),
    ...(policyRolesByName ? { policyRolesByName: true } : {}),
  };
}

/** The database's catalogue now, an ACL equal to its owner's defaults written as null, with the definitions of the roles it needs. */
export async function catalogSnapshot(url: Session, excludeSchemas: string[] = []): Promise<CatalogSnapshot> {
  return withClient(
    url,
    async (client) => {
      const snapshot = await snapshotOn(client, excludeSchemas, true);
      const own = (await client.query<{ name: string }>(DATABASE_ROLES)).rows.map((r) => r.name);
      const tablespaces = (await client.query<{ name: string }>(TABLESPACES, [excludeSchemas])).rows.map((r) => r.name);
      const database = await readDatabaseState(client);
      return { ...snapshot, roleDefinitions: await readRoleDefinitions(client, [...new Set([...snapshot.roles, ...own])]), tablespaces, database };
    },
    "vaultline-catalog",
  );
}

/**
 * The database's catalogue now and a recorded one, made comparable on the same server: a
 * manifest written before decision 147 holds an explicit ACL equal to the defaults as text.
 * (Past the large-object limit, a record's large objects are one hash and stay as recorded.)
 */
export async function catalogBesideRecord(url: Session, excludeSchemas: string[], recorded: CatalogSnapshot): Promise<{ live: CatalogSnapshot; recorded: CatalogSnapshot }> {
  return withClient(
    url,
    async (client) => ({ live: await snapshotOn(client, excludeSchemas, recorded.policyRolesByName === true), recorded: { ...recorded, objects: await withDefaultAclsAsNull(client, recorded.objects) } }),
    "vaultline-catalog",
  );
}

export interface KindDifference {
  /** In the backup, not live: the restore brings them back. */
  added: string[];
  /** Live, not in the backup: the restore removes them. */
  dropped: string[];
  /** In both, with another definition or privileges. */
  changed: string[];
  /** In both, owned by someone else now: "name (now → backup)". */
  ownerChanged: string[];
}

export function diffCatalogs(live: CatalogSnapshot, backup: CatalogSnapshot): Record<ObjectKind, KindDifference> {
  const out = {} as Record<ObjectKind, KindDifference>;
  for (const kind of OBJECT_KINDS) {
    const l = live.objects[kind] ?? {};
    const b = backup.objects[kind] ?? {};
    const d: KindDifference = { added: [], dropped: [], changed: [], ownerChanged: [] };
    for (const [name, be] of Object.entries(b)) {
      const le = l[name];
      if (!le) d.added.push(name);
      else {
        if (le.def !== be.def || le.acl !== be.acl) d.changed.push(name);
        if (le.owner !== be.owner) d.ownerChanged.push(`${name} (${le.owner ?? "?"} → ${be.owner ?? "?"})`);
      }
    }
    for (const name of Object.keys(l)) if (!b[name]) d.dropped.push(name);
    out[kind] = d;
  }
  return out;
}

/** True when the two catalogues hold the same objects with the same definitions and owners. */
export function sameCatalog(a: CatalogSnapshot, b: CatalogSnapshot): boolean {
  return Object.values(diffCatalogs(a, b)).every((d) => !d.added.length && !d.dropped.length && !d.changed.length && !d.ownerChanged.length);
}
