// A catalogue-and-data fingerprint of a whole database: every object with its definition,
// owner, privileges and comment, database-level state, and a hash of every table's,
// materialized view's, sequence's and large object's contents. Written independently of
// lib/backup/catalog-snapshot.ts, so a restore is judged by something it did not compute.
type Query = <T extends Record<string, unknown>>(url: string, text: string, params?: unknown[]) => Promise<T[]>;

const APP = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

const OBJECTS = `
  SELECT 'schema ' || n.nspname AS k, concat_ws(' | ', pg_get_userbyid(n.nspowner), n.nspacl::text, obj_description(n.oid, 'pg_namespace')) AS v
    FROM pg_namespace n WHERE ${APP}
  UNION ALL
  SELECT 'extension ' || e.extname, concat_ws(' | ', e.extversion, x.nspname) FROM pg_extension e JOIN pg_namespace x ON x.oid = e.extnamespace
  UNION ALL
  SELECT 'relation ' || n.nspname || '.' || c.relname,
         concat_ws(' | ', c.relkind, pg_get_userbyid(c.relowner), c.relacl::text, c.relrowsecurity, c.relforcerowsecurity,
                   c.relispopulated, pg_get_expr(c.relpartbound, c.oid), obj_description(c.oid, 'pg_class'),
                   CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                   CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) END,
                   'options ' || c.reloptions::text, 'toast ' || (SELECT t.reloptions::text FROM pg_class t WHERE t.oid = c.reltoastrelid))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP}
  UNION ALL
  SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname,
         concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attacl::text, col_description(c.oid, a.attnum))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE ${APP} AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION ALL
  SELECT 'constraint ' || n.nspname || '.' || coalesce(c.relname, t.typname) || '.' || k.conname, pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
    LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid WHERE ${APP}
  UNION ALL
  SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
         concat_ws(' | ', pg_get_userbyid(p.proowner), p.proacl::text, md5(pg_get_functiondef(p.oid)), obj_description(p.oid, 'pg_proc'))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${APP} AND p.prokind <> 'a'
  UNION ALL
  SELECT 'type ' || n.nspname || '.' || t.typname,
         concat_ws(' | ', t.typtype, pg_get_userbyid(t.typowner), t.typacl::text, format_type(t.typbasetype, t.typtypmod),
                   (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${APP} AND t.typtype IN ('e', 'd', 'c', 'r')
  UNION ALL
  SELECT 'trigger ' || n.nspname || '.' || c.relname || '.' || g.tgname, pg_get_triggerdef(g.oid) || ' ' || g.tgenabled::text
    FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP} AND NOT g.tgisinternal
  UNION ALL
  SELECT 'policy ' || n.nspname || '.' || c.relname || '.' || p.polname,
         concat_ws(' | ', p.polcmd, p.polroles::regrole[]::text, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid))
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${APP}
  UNION ALL
  SELECT 'large object ' || m.oid, concat_ws(' | ', pg_get_userbyid(m.lomowner), m.lomacl::text, md5(lo_get(m.oid)))
    FROM pg_largeobject_metadata m
  UNION ALL
  SELECT 'database', concat_ws(' | ', pg_get_userbyid(d.datdba), d.datacl::text, shobj_description(d.oid, 'pg_database'), d.datconnlimit,
         (SELECT string_agg(coalesce(s.setrole::regrole::text, '*') || ':' || array_to_string(s.setconfig, ','), ';' ORDER BY s.setrole) FROM pg_db_role_setting s WHERE s.setdatabase = d.oid))
    FROM pg_database d WHERE d.datname = current_database()`;

export async function catalogFingerprint(query: Query, url: string, opts: { excludeSchemas?: string[] } = {}): Promise<Record<string, string>> {
  const skip = (k: string) => (opts.excludeSchemas ?? []).some((s) => k.includes(` ${s}.`) || k === `schema ${s}`);
  const out: Record<string, string> = {};
  for (const r of await query<{ k: string; v: string }>(url, OBJECTS)) if (!skip(r.k)) out[r.k] = r.v;
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
