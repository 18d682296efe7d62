// Expressions a restore evaluates, tried the way the restore runs them (decision 153):
// expression and partial indexes, CHECK constraints, generated columns, domains' CHECKs,
// materialized views.
//
// pg_dump's archives set an empty search_path for the whole restore (PostgreSQL's answer to
// CVE-2018-1058). A function of the application that names a table, a function or a type
// without its schema — `SELECT unaccent('unaccent', $1)`, the classic immutable wrapper for
// an index — then finds nothing while the restore runs it: an expression or partial index
// is built, a CHECK constraint or a generated column is evaluated for every row COPY loads,
// a materialized view is refreshed. The restore fails at that step, after its safety backup
// and all of its loading; `pg_restore` alone fails the same way.
//
// The preview tries each such expression on the live database first: in a read-only
// transaction with the restore's empty search_path, on one row of its table (the restore
// evaluates them on every row; a table with no rows gives a row of nulls), each under a
// savepoint and a short statement timeout, as the table's owner (PostgreSQL builds an index
// as its table's owner; a superuser never runs the application's code here); a materialized
// view's query is planned, which inlines SQL functions. Only "does not exist" errors are reported; anything else the
// expression does is its own business.
import type pg from "pg";

export interface SearchPathProblem {
  /** "index", "check constraint", "generated column", "domain", "materialized view". */
  kind: string;
  /** The object, schema-qualified. */
  name: string;
  /** PostgreSQL's message: "function unaccent(unknown, text) does not exist". */
  error: string;
  /** The function in whose body it happened, from the error's context, when it says. */
  fn: string | null;
}

/** SQLSTATEs of a name not found: undefined function, table, object, column; invalid schema. */
const NOT_FOUND = new Set(["42883", "42P01", "42704", "42703", "3F000"]);
/** Expressions tried at most, and for at most this long in all; the rest are not (a preview must stay quick). */
const MAX_PROBES = 200;
const DEADLINE_MS = 15_000;

const APP = (n: string) => `${n}.nspname NOT IN ('pg_catalog', 'information_schema') AND ${n}.nspname NOT LIKE 'pg\\_%' AND NOT (${n}.nspname = ANY($1::text[]))`;
/** The object depends on a function outside pg_catalog (an extension's or the application's). */
const FUNCTIONS = (classid: string, objid: string) =>
  `ARRAY(SELECT p.proname::text FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
          WHERE d.classid = '${classid}'::regclass AND d.objid = ${objid} AND d.refclassid = 'pg_proc'::regclass AND p.pronamespace <> 'pg_catalog'::regnamespace)`;
const USES_FUNCTION = (classid: string, objid: string) =>
  `EXISTS (SELECT 1 FROM pg_depend d JOIN pg_proc p ON p.oid = d.refobjid
            WHERE d.classid = '${classid}'::regclass AND d.objid = ${objid} AND d.refclassid = 'pg_proc'::regclass AND p.pronamespace <> 'pg_catalog'::regnamespace)`;
const NOT_EXTENSION_MEMBER = (classid: string, objid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${classid}'::regclass AND e.objid = ${objid} AND e.deptype = 'e')`;

// Read with search_path = '', so every name in the expressions comes out schema-qualified.
const PROBES = `
  SELECT 'index' AS kind, n.nspname || '.' || ic.relname AS name, x.indrelid::regclass::text AS rel,
         (SELECT string_agg(pg_get_indexdef(x.indexrelid, k, false), ', ') FROM generate_series(1, x.indnatts) k WHERE x.indkey[k - 1] = 0) AS expr,
         pg_get_expr(x.indpred, x.indrelid) AS pred, false AS plan_only, ${FUNCTIONS("pg_class", "x.indexrelid")} AS fns,
         (SELECT quote_ident(pg_get_userbyid(t.relowner)) FROM pg_class t WHERE t.oid = x.indrelid) AS owner
    FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace
   WHERE (x.indexprs IS NOT NULL OR x.indpred IS NOT NULL) AND ${APP("n")}
     AND ${USES_FUNCTION("pg_class", "x.indexrelid")} AND ${NOT_EXTENSION_MEMBER("pg_class", "x.indrelid")}
     -- A partition's index is its parent's, tried once on the parent.
     AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = x.indexrelid)
  UNION ALL
  SELECT 'check constraint', n.nspname || '.' || r.relname || '.' || k.conname, k.conrelid::regclass::text,
         pg_get_expr(k.conbin, k.conrelid), NULL, false, ${FUNCTIONS("pg_constraint", "k.oid")}, quote_ident(pg_get_userbyid(r.relowner))
    FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
   WHERE k.contype = 'c' AND k.convalidated AND k.conislocal AND ${APP("n")} AND ${USES_FUNCTION("pg_constraint", "k.oid")} AND ${NOT_EXTENSION_MEMBER("pg_class", "r.oid")}
  UNION ALL
  SELECT 'generated column', n.nspname || '.' || r.relname || '.' || a.attname, ad.adrelid::regclass::text,
         pg_get_expr(ad.adbin, ad.adrelid), NULL, false, ${FUNCTIONS("pg_attrdef", "ad.oid")}, quote_ident(pg_get_userbyid(r.relowner))
    FROM pg_attrdef ad JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    JOIN pg_class r ON r.oid = ad.adrelid JOIN pg_namespace n ON n.oid = r.relnamespace
   WHERE a.attgenerated = 's' AND a.attislocal AND ${APP("n")} AND ${USES_FUNCTION("pg_attrdef", "ad.oid")} AND ${NOT_EXTENSION_MEMBER("pg_class", "r.oid")}
  UNION ALL
  -- A domain's CHECK runs for every value COPY loads into a column of it: tried on one such
  -- column (giving the table's row back makes the value the domain's again).
  SELECT 'domain', n.nspname || '.' || t.typname || '.' || k.conname, c.rel, c.col, NULL, false, ${FUNCTIONS("pg_constraint", "k.oid")}, c.owner
    FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN pg_namespace n ON n.oid = t.typnamespace
    JOIN LATERAL (SELECT a.attrelid::regclass::text AS rel, quote_ident(a.attname) AS col, quote_ident(pg_get_userbyid(r.relowner)) AS owner
                    FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
                   WHERE a.atttypid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND r.relkind IN ('r', 'p') AND ${APP("rn")}
                   ORDER BY a.attrelid, a.attnum LIMIT 1) c ON true
   WHERE k.contype = 'c' AND k.convalidated AND ${APP("n")} AND ${USES_FUNCTION("pg_constraint", "k.oid")} AND ${NOT_EXTENSION_MEMBER("pg_type", "t.oid")}
  UNION ALL
  SELECT 'materialized view', n.nspname || '.' || m.relname, NULL, pg_get_viewdef(m.oid, false), NULL, true, ${FUNCTIONS("pg_rewrite", "w.oid")}, quote_ident(pg_get_userbyid(m.relowner))
    FROM pg_class m JOIN pg_namespace n ON n.oid = m.relnamespace JOIN pg_rewrite w ON w.ev_class = m.oid
   WHERE m.relkind = 'm' AND m.relispopulated AND ${APP("n")} AND ${USES_FUNCTION("pg_rewrite", "w.oid")} AND ${NOT_EXTENSION_MEMBER("pg_class", "m.oid")}
   ORDER BY 1, 2
   LIMIT ${MAX_PROBES}`;

interface ProbeRow {
  kind: string;
  name: string;
  rel: string | null;
  expr: string | null;
  pred: string | null;
  plan_only: boolean;
  /** The functions (outside pg_catalog) the object depends on, by name. */
  fns: string[];
  /** The table's (or view's) owner, quoted: the probe runs as it. */
  owner: string;
}

/**
 * The statement that evaluates a probe's expression as the restore would, on one row of its
 * table given as JSON (`$1`): not read from the table itself, whose other indexes the planner
 * would load — and an index whose expression fails to inline fails every query on the table.
 */
export function probeStatement(p: Pick<ProbeRow, "rel" | "expr" | "pred" | "plan_only">): string {
  // A materialized view's query is planned (SQL functions are inlined then), not run: it may be costly.
  if (p.plan_only) return `EXPLAIN (COSTS OFF) ${p.expr!.trim().replace(/;$/, "")}`;
  const what = [p.pred, p.expr].filter(Boolean).map((e) => `(${e})`).join(", ") || "1";
  return `SELECT ${what} FROM json_populate_record(NULL::${p.rel}, $1::json) AS probe_row`;
}

/** The functions named in an error's context, innermost first: `SQL function "f"`, `PL/pgSQL function s.f(text) line 1 …`. */
export function contextFunctions(where: string | undefined): string[] {
  if (!where) return [];
  return [...where.matchAll(/SQL function "([^"]+)"|PL\/pgSQL function ([^\s]+\([^)]*\))/g)].map((m) => m[1] ?? m[2]);
}

/** The statement that gives `fn` (as an error's context names it) a search_path. */
export function alterFunctionSql(fn: string): string {
  return `ALTER FUNCTION ${fn.includes("(") ? fn : `${fn}(…)`} SET search_path = public`;
}

/** A function's bare name: "people.normalized(text)" → "normalized". */
const bare = (fn: string) => fn.replace(/\(.*$/, "").split(".").pop()!.replace(/^"|"$/g, "");

/**
 * The live database's expressions that would fail under the restore's empty search_path.
 * Runs in its own read-only transaction on `client`, rolled back; `excludeSchemas` are left out.
 */
export async function searchPathProblems(client: pg.Client, excludeSchemas: string[], deadlineMs = DEADLINE_MS): Promise<SearchPathProblem[]> {
  const problems: SearchPathProblem[] = [];
  const until = Date.now() + deadlineMs;
  await client.query("BEGIN READ ONLY");
  try {
    await client.query("SET LOCAL statement_timeout = '2s'; SET LOCAL lock_timeout = '1s'");
    // Names come out schema-qualified under an empty search_path.
    await client.query("SAVEPOINT vaultline_probe; SET LOCAL search_path = ''");
    const { rows } = await client.query<ProbeRow>(PROBES, [excludeSchemas]);
    await client.query("ROLLBACK TO SAVEPOINT vaultline_probe");
    // One row of each table, read with the session's own search_path (the application's).
    const sample = new Map<string, string | null>();
    for (const rel of new Set(rows.map((r) => r.rel).filter((r): r is string => !!r))) {
      if (Date.now() > until) break;
      await client.query("SAVEPOINT vaultline_probe");
      try {
        const { rows: one } = await client.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM ${rel} t LIMIT 1`);
        sample.set(rel, one[0]?.j ?? "{}");
        await client.query("RELEASE SAVEPOINT vaultline_probe");
      } catch {
        await client.query("ROLLBACK TO SAVEPOINT vaultline_probe");
        sample.set(rel, "{}");
      }
    }
    await client.query("SET LOCAL search_path = ''");
    for (const p of rows) {
      if (Date.now() > until) break;
      await client.query("SAVEPOINT vaultline_probe");
      try {
        // As the table's owner, as PostgreSQL builds an index: the application's functions
        // run with no more than their owner's rights (and read-only), never a superuser's.
        // A role Vaultline cannot become: as its own, which is then no superuser (a superuser
        // may become any role) — its rights are the ones it backs up with.
        try {
          await client.query(`SET LOCAL ROLE ${p.owner}`);
        } catch {
          await client.query("ROLLBACK TO SAVEPOINT vaultline_probe");
        }
        await client.query(probeStatement(p), p.plan_only ? [] : [sample.get(p.rel!) ?? "{}"]);
      } catch (e) {
        const err = e as { code?: string; message: string; where?: string };
        if (!err.code || !NOT_FOUND.has(err.code)) continue;
        const chain = contextFunctions(err.where);
        // Planning a materialized view's query loads its tables' indexes: an error in another
        // object's function is that object's, reported there.
        if (chain.length && !chain.some((f) => p.fns.includes(bare(f)))) continue;
        problems.push({ kind: p.kind, name: p.name, error: err.message, fn: chain[0] ?? null });
      } finally {
        // Undoes the probe, its error and the role.
        await client.query("ROLLBACK TO SAVEPOINT vaultline_probe");
      }
    }
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
  }
  return problems;
}

/** The preview's words for them; null when there are none. */
export function searchPathWarning(problems: SearchPathProblem[]): string | null {
  if (!problems.length) return null;
  const shown = problems.slice(0, 3).map((p) => `${p.kind} ${p.name}${p.fn ? ` (through function ${p.fn})` : ""}: ${p.error}`);
  const more = problems.length > 3 ? `, and ${problems.length - 3} more` : "";
  const fns = [...new Set(problems.map((p) => p.fn).filter((f): f is string => !!f))];
  const fix = fns.length
    ? `give ${fns.length === 1 ? "that function" : "those functions"} a search_path (${alterFunctionSql(fns[0])} — or the schema the names are in) or write the schemas into ${fns.length === 1 ? "its body" : "their bodies"}`
    : "write the schema into every name the expression's functions use, or give them a search_path (ALTER FUNCTION … SET search_path)";
  return (
    `The restore is likely to fail: a restore runs with an empty search_path, as pg_dump's archives set it (CVE-2018-1058), and on this database ${problems.length === 1 ? "an expression it evaluates" : `${problems.length} expressions it evaluates`} then name${problems.length === 1 ? "s" : ""} something it cannot find — ${shown.join("; ")}${more}. ` +
    `It would fail after its safety backup and its loading, with the live database untouched (pg_restore alone fails the same way). On the live database, ${fix}, then take a new backup and restore that. A backup taken before the fix can be restored by hand (docs/recovery.md).`
  );
}
