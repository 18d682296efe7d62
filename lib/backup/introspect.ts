// What a database looks like, recorded in each manifest and compared before a restore:
// its tables and column types, its Prisma migration history, and rough row counts.
import { createHash } from "node:crypto";
import type pg from "pg";
import { readDbUrl } from "../pg-hosts";
import { withClient, withStatementTimeout, type Session } from "./pg-client";
import type { PrismaMigrationRow } from "./manifest";
import { quoteIdent } from "./quote";

export interface SchemaSnapshot {
  /** Keyed by qualified name, e.g. "public.users"; columns map name → SQL type. */
  tables: Record<string, { columns: Record<string, string> }>;
}

/** Schemas PostgreSQL owns; everything else is the application's. */
const SYSTEM_SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

/** Rows above this estimate are reported from statistics instead of count(*). */
const EXACT_COUNT_LIMIT = 1_000_000;

export async function schemaSnapshot(url: Session): Promise<SchemaSnapshot> {
  return withClient(url, async (c) => {
    // format_type gives the declared type with modifiers ("character varying(40)"), which is
    // what a drift report should show; relkind r/p = ordinary and partitioned tables.
    const { rows } = await c.query<{ tbl: string; col: string; type: string }>(`
      SELECT n.nspname || '.' || cl.relname AS tbl, a.attname AS col,
             format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_class cl
        JOIN pg_namespace n ON n.oid = cl.relnamespace
        JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
       WHERE cl.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA_FILTER}
       ORDER BY 1, a.attnum`);
    const tables: SchemaSnapshot["tables"] = {};
    for (const r of rows) (tables[r.tbl] ??= { columns: {} }).columns[r.col] = r.type;
    // Tables without columns exist too.
    const { rows: empty } = await c.query<{ tbl: string }>(`
      SELECT n.nspname || '.' || cl.relname AS tbl
        FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
       WHERE cl.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA_FILTER}`);
    for (const r of empty) tables[r.tbl] ??= { columns: {} };
    return { tables };
  });
}

/** JSON with object keys sorted at every level, so equal snapshots serialise identically. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function schemaHash(snapshot: SchemaSnapshot): string {
  return createHash("sha256").update(canonicalJson(snapshot)).digest("hex");
}


/** Prisma keeps its migrations table in the schema named by `?schema=` (default public). */
export function prismaSchema(url: string): string {
  try {
    return readDbUrl(url).searchParams.get("schema") || "public";
  } catch {
    return "public";
  }
}

/** The `_prisma_migrations` rows, oldest first; null when the database has no such table. */
export async function prismaMigrationRows(url: string, session: Session = url): Promise<PrismaMigrationRow[] | null> {
  const schema = prismaSchema(url);
  return withClient(session, async (c) => {
    const { rows: exists } = await c.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [
      `${quoteIdent(schema)}."_prisma_migrations"`,
    ]);
    if (!exists[0]?.t) return null;
    const { rows } = await c.query<{
      id: string;
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
    }>(
      `SELECT id, migration_name, checksum, finished_at, rolled_back_at, applied_steps_count
         FROM ${quoteIdent(schema)}."_prisma_migrations"
        ORDER BY started_at, migration_name`,
    );
    return rows.map((r) => ({
      id: r.id,
      migration_name: r.migration_name,
      checksum: r.checksum,
      finished_at: r.finished_at ? r.finished_at.toISOString() : null,
      rolled_back_at: r.rolled_back_at ? r.rolled_back_at.toISOString() : null,
      applied_steps_count: Number(r.applied_steps_count),
    }));
  });
}

/**
 * Rows per table ("schema.table"): exact count(*) for tables the statistics call small,
 * the planner's estimate for big ones (or when counting takes too long).
 */
export async function tableRowEstimates(url: Session, opts: { countTimeoutMs?: number; exact?: boolean } = {}): Promise<Record<string, number>> {
  // relpages, not pg_total_relation_size(): the latter takes a lock and would queue behind a
  // migration's exclusive lock; the counts are bounded by the timeout (not SET LOCAL: one
  // count's timeout would abort the transaction the others need).
  return withStatementTimeout(url, opts.countTimeoutMs ?? 10_000, (c) => estimatesOn(c, opts));
}

async function estimatesOn(c: pg.Client, opts: { exact?: boolean }): Promise<Record<string, number>> {
  const { rows } = await c.query<{ nsp: string; rel: string; est: number; live: number; bytes: string }>(`
    SELECT n.nspname AS nsp, cl.relname AS rel, cl.reltuples::float8 AS est, pg_stat_get_live_tuples(cl.oid)::float8 AS live,
           (cl.relpages::bigint * current_setting('block_size')::bigint)::text AS bytes
      FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE cl.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMA_FILTER}
     ORDER BY 1, 2`);
  const out: Record<string, number> = {};
  for (const r of rows) {
    const name = `${r.nsp}.${r.rel}`;
    // A never-analysed table's reltuples is -1: then the statistics collector's count of the
    // rows inserted and deleted, which needs no ANALYZE (a table loaded since the last one; a
    // restore's record said 0 rows for every such table).
    const estimate = Math.max(0, Math.round(r.est >= 0 ? r.est : r.live));
    // reltuples is -1 for a never-analysed table; then size decides whether counting is cheap.
    // `exact: false`: the planner's numbers only (a restore's record of the database it replaces).
    const small = opts.exact !== false && (r.est >= 0 ? r.est < EXACT_COUNT_LIMIT : Number(r.bytes) < 256 * 1024 * 1024);
    if (!small) {
      out[name] = estimate;
      continue;
    }
    try {
      const { rows: n } = await c.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${quoteIdent(r.nsp)}.${quoteIdent(r.rel)}`,
      );
      out[name] = Number(n[0].n);
    } catch {
      out[name] = estimate;
    }
  }
  return out;
}

/** Schemas Vaultline leaves out of backups of a database (pg-boss's queue in its own). */
export function excludedSchemas(targetUrl: string, appDatabaseUrl: string): string[] {
  return targetUrl === appDatabaseUrl ? ["pgboss"] : [];
}

/** The snapshot and row counts without the excluded schemas, so they match the dump. */
export function withoutSchemas<T extends SchemaSnapshot | Record<string, number> | null>(value: T, schemas: string[]): T {
  if (!value || !schemas.length) return value;
  const keep = (name: string) => !schemas.some((s) => name.startsWith(`${s}.`));
  if ("tables" in value && typeof (value as SchemaSnapshot).tables === "object") {
    const snap = value as SchemaSnapshot;
    return { ...snap, tables: Object.fromEntries(Object.entries(snap.tables).filter(([k]) => keep(k))) } as T;
  }
  return Object.fromEntries(Object.entries(value as Record<string, number>).filter(([k]) => keep(k))) as T;
}
