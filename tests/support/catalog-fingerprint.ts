// A catalogue-and-data fingerprint of a whole database: every object with its definition,
// owner, privileges and comment, database-level state, and a hash of every table's,
// materialized view's, sequence's and large object's contents. Written independently of
// lib/backup/catalog-snapshot.ts, so a restore is judged by something it did not compute.
type Query = <T extends Record<string, unknown>>(url: string, text: string, params?: unknown[]) => Promise<T[]>;

const APP = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

// A qualified name from a namespace alias and a name expression.
const QN = (ns: string, name: string) => `${ns}.nspname || '.' || ${name}`;
// A column's logical position among the live columns (a dump never keeps dropped columns, so
// attnum itself may close its gaps on restore; the order is what the application sees).
const POSITION = `(SELECT count(*) FROM pg_attribute p WHERE p.attrelid = a.attrelid AND p.attnum > 0 AND p.attnum <= a.attnum AND NOT p.attisdropped)`;
// Objects made by the user, not by initdb or an extension (for catalogues without schemas).
const USER_MADE = (cls: string, alias: string) =>
  `${alias}.oid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${cls}'::regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;

// Privileges as what they grant: an ACL equal to the owner's defaults is the defaults, whether
// PostgreSQL holds it as null or spelled out (granted, then revoked: pg_dump writes no GRANT
// for it, so a restore leaves null — decision 147); the items in order.
const ACL = (acl: string, type: string, owner: string) =>
  `(SELECT string_agg(i::text, ',' ORDER BY i::text) FROM unnest(coalesce(${acl}, acldefault(${type}, ${owner}))) i)`;

const OBJECTS = `
  SELECT 'schema ' || n.nspname AS k, concat_ws(' | ', pg_get_userbyid(n.nspowner), ${ACL("n.nspacl", "'n'", "n.nspowner")}, obj_description(n.oid, 'pg_namespace')) AS v
    FROM pg_namespace n WHERE ${APP}
  UNION ALL
  SELECT 'extension ' || e.extname, concat_ws(' | ', e.extversion, x.nspname) FROM pg_extension e JOIN pg_namespace x ON x.oid = e.extnamespace
  UNION ALL
  SELECT 'relation ' || n.nspname || '.' || c.relname,
         concat_ws(' | ', c.relkind, pg_get_userbyid(c.relowner), ${ACL("c.relacl", "CASE c.relkind WHEN 'S' THEN 's'::\"char\" ELSE 'r'::\"char\" END", "c.relowner")}, c.relrowsecurity, c.relforcerowsecurity,
                   c.relispopulated, pg_get_expr(c.relpartbound, c.oid), obj_description(c.oid, 'pg_class'),
                   CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                   CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) END,
                   'options ' || c.reloptions::text, 'toast ' || (SELECT t.reloptions::text FROM pg_class t WHERE t.oid = c.reltoastrelid),
                   'persistence ' || c.relpersistence::text, 'replident ' || c.relreplident::text,
                   'am ' || (SELECT m.amname FROM pg_am m WHERE m.oid = c.relam AND c.relkind IN ('r', 'm', 't') AND m.amname <> 'heap'),
                   'partkey ' || CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
                   'parents ' || (SELECT string_agg(${QN("pn", "pc.relname")}, ',' ORDER BY i.inhseqno)
                                    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                                   WHERE i.inhrelid = c.oid),
                   'index ' || (SELECT concat_ws(',', CASE WHEN x.indisclustered THEN 'clustered' END, CASE WHEN x.indisreplident THEN 'replident' END,
                                                 CASE WHEN NOT x.indisvalid THEN 'invalid' END)
                                  FROM pg_index x WHERE x.indexrelid = c.oid),
                   'column statistics ' || (SELECT string_agg(ia.attnum || '=' || ia.attstattarget, ',' ORDER BY ia.attnum)
                                              FROM pg_attribute ia WHERE ia.attrelid = c.oid AND c.relkind IN ('i', 'I') AND ia.attstattarget >= 0))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP}
  UNION ALL
  SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname,
         concat_ws(' | ', ${POSITION}, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl::text, col_description(c.oid, a.attnum),
                   'generated ' || nullif(a.attgenerated::text, ''), 'identity ' || nullif(a.attidentity::text, ''),
                   'collate ' || (SELECT ${QN("cn", "co.collname")} FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                   WHERE co.oid = a.attcollation AND a.attcollation <> (SELECT ty.typcollation FROM pg_type ty WHERE ty.oid = a.atttypid)),
                   'storage ' || a.attstorage::text, 'compression ' || nullif(a.attcompression::text, ''), 'stattarget ' || a.attstattarget,
                   'inherited ' || a.attinhcount || ' ' || a.attislocal, 'options ' || a.attoptions::text, 'fdw options ' || a.attfdwoptions::text)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE ${APP} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
  UNION ALL
  SELECT 'sequence ' || n.nspname || '.' || c.relname,
         concat_ws(' | ', format_type(s.seqtypid, NULL), 'increment ' || s.seqincrement, 'min ' || s.seqmin, 'max ' || s.seqmax, 'start ' || s.seqstart,
                   'cache ' || s.seqcache, 'cycle ' || s.seqcycle,
                   (SELECT string_agg(CASE d.deptype WHEN 'i'::"char" THEN 'identity of ' ELSE 'owned by ' END || ${QN("tn", "t.relname")} || '.' || ta.attname, ',')
                      FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                      JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
                     WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')))
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP}
  UNION ALL
  SELECT 'constraint ' || n.nspname || '.' || coalesce(c.relname, t.typname) || '.' || k.conname,
         concat_ws(' | ', pg_get_constraintdef(k.oid), obj_description(k.oid, 'pg_constraint'))
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
    LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid WHERE ${APP}
  UNION ALL
  SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         concat_ws(' | ', pg_get_userbyid(p.proowner), ${ACL("p.proacl", "'f'", "p.proowner")}, md5(pg_get_functiondef(p.oid)), obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${APP} AND p.prokind <> 'a'
  UNION ALL
  SELECT 'aggregate ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         concat_ws(' | ', pg_get_userbyid(p.proowner), ${ACL("p.proacl", "'f'", "p.proowner")}, g.aggkind::text, g.aggnumdirectargs, g.aggtransfn::regprocedure::text,
                   nullif(g.aggfinalfn, 0)::regprocedure::text, nullif(g.aggcombinefn, 0)::regprocedure::text, g.aggtranstype::regtype::text,
                   'init ' || g.agginitval, 'sortop ' || nullif(g.aggsortop, 0)::regoperator::text, 'moving ' || nullif(g.aggmtransfn, 0)::regprocedure::text,
                   p.proparallel::text, obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN pg_aggregate g ON g.aggfnoid = p.oid JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${APP}
  UNION ALL
  SELECT 'operator ' || n.nspname || '.' || o.oprname || '(' || coalesce(format_type(o.oprleft, NULL), 'NONE') || ', ' || format_type(o.oprright, NULL) || ')',
         concat_ws(' | ', pg_get_userbyid(o.oprowner), o.oprkind::text, o.oprcode::regprocedure::text, format_type(o.oprresult, NULL),
                   'commutator ' || nullif(o.oprcom, 0)::regoperator::text, 'negator ' || nullif(o.oprnegate, 0)::regoperator::text,
                   'restrict ' || nullif(o.oprrest, 0)::regprocedure::text, 'join ' || nullif(o.oprjoin, 0)::regprocedure::text,
                   'hashes ' || o.oprcanhash, 'merges ' || o.oprcanmerge, obj_description(o.oid, 'pg_operator'))
    FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${APP}
  UNION ALL
  SELECT 'cast (' || format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL) || ')',
         concat_ws(' | ', c.castcontext::text, c.castmethod::text, nullif(c.castfunc, 0)::regprocedure::text, obj_description(c.oid, 'pg_cast'))
    FROM pg_cast c WHERE ${USER_MADE("pg_cast", "c")}
  UNION ALL
  SELECT 'collation ' || n.nspname || '.' || c.collname,
         concat_ws(' | ', pg_get_userbyid(c.collowner), c.collprovider::text, c.collisdeterministic,
                   -- "any encoding" (-1, as CREATE COLLATION ... FROM "C" copies it) is shown as the database's own:
                   -- a dump can only say provider and locale, and CREATE COLLATION then records the database's encoding.
                   pg_encoding_to_char(CASE WHEN c.collencoding = -1 THEN (SELECT d.encoding FROM pg_database d WHERE d.datname = current_database()) ELSE c.collencoding END),
                   c.collcollate, c.collctype, obj_description(c.oid, 'pg_collation'))
    FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace WHERE ${APP}
  UNION ALL
  SELECT 'statistics ' || n.nspname || '.' || s.stxname,
         concat_ws(' | ', pg_get_userbyid(s.stxowner), pg_get_statisticsobjdef(s.oid), 'stattarget ' || s.stxstattarget, obj_description(s.oid, 'pg_statistic_ext'))
    FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${APP}
  UNION ALL
  SELECT 'rule ' || n.nspname || '.' || c.relname || '.' || r.rulename,
         concat_ws(' | ', pg_get_ruledef(r.oid), r.ev_enabled::text, obj_description(r.oid, 'pg_rewrite'))
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP} AND r.rulename <> '_RETURN'
  UNION ALL
  SELECT 'publication ' || p.pubname,
         concat_ws(' | ', pg_get_userbyid(p.pubowner), 'all tables ' || p.puballtables,
                   'publish ' || concat_ws(',', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                                           CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),
                   'via root ' || p.pubviaroot,
                   'tables ' || (SELECT string_agg(concat_ws(' ', ${QN("tn", "t.relname")}, pr.prattrs::text, pg_get_expr(pr.prqual, pr.prrelid)), ',' ORDER BY tn.nspname, t.relname)
                                   FROM pg_publication_rel pr JOIN pg_class t ON t.oid = pr.prrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace WHERE pr.prpubid = p.oid),
                   'schemas ' || (SELECT string_agg(sn.nspname, ',' ORDER BY sn.nspname)
                                    FROM pg_publication_namespace pn JOIN pg_namespace sn ON sn.oid = pn.pnnspid WHERE pn.pnpubid = p.oid),
                   obj_description(p.oid, 'pg_publication'))
    FROM pg_publication p
  UNION ALL
  SELECT 'foreign data wrapper ' || w.fdwname,
         concat_ws(' | ', pg_get_userbyid(w.fdwowner), ${ACL("w.fdwacl", "'F'", "w.fdwowner")}, w.fdwhandler::regproc::text, w.fdwvalidator::regproc::text, w.fdwoptions::text,
                   obj_description(w.oid, 'pg_foreign_data_wrapper'))
    FROM pg_foreign_data_wrapper w WHERE ${USER_MADE("pg_foreign_data_wrapper", "w")}
  UNION ALL
  SELECT 'foreign server ' || s.srvname,
         concat_ws(' | ', pg_get_userbyid(s.srvowner), ${ACL("s.srvacl", "'S'", "s.srvowner")}, w.fdwname, s.srvtype, s.srvversion, s.srvoptions::text, obj_description(s.oid, 'pg_foreign_server'))
    FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
  UNION ALL
  SELECT 'user mapping ' || m.usename || ' on ' || m.srvname, m.umoptions::text FROM pg_user_mappings m
  UNION ALL
  SELECT 'foreign table ' || ${QN("n", "c.relname")}, concat_ws(' | ', s.srvname, f.ftoptions::text)
    FROM pg_foreign_table f JOIN pg_class c ON c.oid = f.ftrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_foreign_server s ON s.oid = f.ftserver WHERE ${APP}
  UNION ALL
  SELECT 'event trigger ' || g.evtname,
         concat_ws(' | ', g.evtevent, pg_get_userbyid(g.evtowner), g.evtfoid::regprocedure::text, g.evtenabled::text, g.evttags::text,
                   obj_description(g.oid, 'pg_event_trigger'))
    FROM pg_event_trigger g WHERE ${USER_MADE("pg_event_trigger", "g")}
  UNION ALL
  SELECT 'access method ' || m.amname, concat_ws(' | ', m.amtype::text, m.amhandler::regprocedure::text, obj_description(m.oid, 'pg_am'))
    FROM pg_am m WHERE ${USER_MADE("pg_am", "m")}
  UNION ALL
  SELECT 'language ' || l.lanname,
         concat_ws(' | ', pg_get_userbyid(l.lanowner), l.lanpltrusted, l.lanplcallfoid::regprocedure::text, nullif(l.laninline, 0)::regprocedure::text,
                   nullif(l.lanvalidator, 0)::regprocedure::text, ${ACL("l.lanacl", "'l'", "l.lanowner")}, obj_description(l.oid, 'pg_language'))
    FROM pg_language l WHERE ${USER_MADE("pg_language", "l")}
  UNION ALL
  SELECT 'transform ' || format_type(t.trftype, NULL) || ' ' || l.lanname,
         concat_ws(' | ', nullif(t.trffromsql, 0)::regprocedure::text, nullif(t.trftosql, 0)::regprocedure::text)
    FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ${USER_MADE("pg_transform", "t")}
  UNION ALL
  SELECT 'default acl ' || pg_get_userbyid(a.defaclrole) || ' on ' || coalesce(n.nspname, '*') || '.' || a.defaclobjtype::text, a.defaclacl::text
    FROM pg_default_acl a LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace WHERE a.defaclnamespace = 0 OR ${APP}
  UNION ALL
  SELECT 'text search configuration ' || n.nspname || '.' || c.cfgname,
         concat_ws(' | ', pg_get_userbyid(c.cfgowner),
                   (SELECT pn.nspname || '.' || pr.prsname FROM pg_ts_parser pr JOIN pg_namespace pn ON pn.oid = pr.prsnamespace WHERE pr.oid = c.cfgparser), obj_description(c.oid, 'pg_ts_config'),
                   (SELECT string_agg(m.maptokentype || ':' || m.mapseqno || ':' || m.mapdict::regdictionary::text, ',' ORDER BY m.maptokentype, m.mapseqno)
                      FROM pg_ts_config_map m WHERE m.mapcfg = c.oid))
    FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ${APP}
  UNION ALL
  SELECT 'text search dictionary ' || n.nspname || '.' || d.dictname,
         concat_ws(' | ', pg_get_userbyid(d.dictowner),
                   -- By name: a template's OID is new in a restored copy (an extension's, such as unaccent's).
                   (SELECT tn.nspname || '.' || tm.tmplname FROM pg_ts_template tm JOIN pg_namespace tn ON tn.oid = tm.tmplnamespace WHERE tm.oid = d.dicttemplate), d.dictinitoption, obj_description(d.oid, 'pg_ts_dict'))
    FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE ${APP}
  UNION ALL
  SELECT 'type ' || n.nspname || '.' || t.typname,
         concat_ws(' | ', t.typtype, pg_get_userbyid(t.typowner), ${ACL("t.typacl", "'T'", "t.typowner")}, format_type(t.typbasetype, t.typtypmod),
                   (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
                   (SELECT concat_ws(' ', 'range of ' || format_type(r.rngsubtype, NULL), r.rngcollation::regcollation::text, (SELECT oc.opcname FROM pg_opclass oc WHERE oc.oid = r.rngsubopc),
                                     nullif(r.rngcanonical, 0)::regproc::text, nullif(r.rngsubdiff, 0)::regproc::text)
                      FROM pg_range r WHERE r.rngtypid = t.oid),
                   obj_description(t.oid, 'pg_type'))
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${APP} AND t.typtype IN ('e', 'd', 'c', 'r', 'm')
  UNION ALL
  SELECT 'trigger ' || n.nspname || '.' || c.relname || '.' || g.tgname,
         pg_get_triggerdef(g.oid) || ' ' || g.tgenabled::text || coalesce(' | ' || obj_description(g.oid, 'pg_trigger'), '')
    FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP} AND NOT g.tgisinternal
  UNION ALL
  SELECT 'policy ' || n.nspname || '.' || c.relname || '.' || p.polname,
         concat_ws(' | ', p.polcmd, (SELECT array_agg(x ORDER BY x) FROM unnest(p.polroles::regrole[]::text[]) x)::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
                   obj_description(p.oid, 'pg_policy'))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP}
  UNION ALL
  SELECT 'large object ' || m.oid, concat_ws(' | ', pg_get_userbyid(m.lomowner), ${ACL("m.lomacl", "'L'", "m.lomowner")}, md5(lo_get(m.oid)))
    FROM pg_largeobject_metadata m
  UNION ALL
  SELECT 'database', concat_ws(' | ', pg_get_userbyid(d.datdba), ${ACL("d.datacl", "'d'", "d.datdba")}, shobj_description(d.oid, 'pg_database'), d.datconnlimit,
         (SELECT string_agg(coalesce(s.setrole::regrole::text, '*') || ':' || array_to_string(s.setconfig, ','), ';' ORDER BY s.setrole) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
    FROM pg_database d WHERE d.datname = current_database()`;

export async function catalogFingerprint(query: Query, url: string, opts: { excludeSchemas?: string[] } = {}): Promise<Record<string, string>> {
  const skip = (k: string) => (opts.excludeSchemas ?? []).some((s) => k.includes(` ${s}.`) || k === `schema ${s}`);
  const out: Record<string, string> = {};
  // A publication's column lists, row filters and schemas are PostgreSQL 15's.
  const [{ v }] = await query<{ v: number }>(url, "SELECT current_setting('server_version_num')::int AS v");
  const objects =
    v >= 150000
      ? OBJECTS
      : OBJECTS.replace("pr.prattrs::text, pg_get_expr(pr.prqual, pr.prrelid)", "NULL, NULL").replace(
          /\(SELECT string_agg\(sn\.nspname[^)]*\)\s*FROM pg_publication_namespace[^)]*\)/,
          "(SELECT NULL::text)",
        );
  for (const r of await query<{ k: string; v: string }>(url, objects)) if (!skip(r.k)) out[r.k] = r.v;
  const rels = await query<{ s: string; r: string; kind: string }>(
    url,
    `SELECT n.nspname AS s, c.relname AS r, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${APP} AND c.relkind IN ('r', 'p', 'm', 'S') AND (c.relkind <> 'm' OR c.relispopulated)`,
  );
  for (const { s, r, kind } of rels) {
    if (skip(` ${s}.`)) continue;
    const name = `"${s.replace(/"/g, '""')}"."${r.replace(/"/g, '""')}"`;
    const [row] =
      kind === "S"
        ? await query<{ h: string }>(url, `SELECT last_value || ' ' || is_called AS h FROM ${name}`)
        : await query<{ h: string }>(url, `SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM ${name} x`);
    out[`data ${s}.${r}`] = row.h;
  }
  return out;
}

/** Only the keys whose values differ, as { key: { expected, actual } }: readable when a test fails. */
export function differences(expected: Record<string, string>, actual: Record<string, string>) {
  const out: Record<string, { expected?: string; actual?: string }> = {};
  for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    if (expected[k] !== actual[k]) out[k] = { expected: expected[k], actual: actual[k] };
  }
  return out;
}
