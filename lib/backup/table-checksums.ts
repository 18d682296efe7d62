// Per-table content checksums: what a drill compares a restored copy with. Taken at backup
// time in the very snapshot pg_dump dumps (pg_export_snapshot → pg_dump --snapshot), so
// they describe exactly the archive's rows, however busy the database was.
//
// A table's checksum is order-independent and computed inside PostgreSQL: md5 of each
// row's text, its two 64-bit halves summed as numeric (exact, no overflow), plus the row
// count. One aggregate per table: memory stays flat whatever the table's size, and the
// restored copy (rows in another physical order) gives the same value.
import { createHash } from "node:crypto";
import type pg from "pg";

import { CHECKSUM_ALGORITHM, type TableChecksum, type TableChecksums } from "./manifest";
import { quoteIdent } from "./quote";
import { connectSession } from "./pg-client";

export type { TableChecksum, TableChecksums };

/**
 * Fixed output settings on both sides, so a row's text is the same on the live database
 * and on a restored copy whatever the servers' defaults are: time zone, date and interval
 * styles, float precision (pg_dump's own extra_float_digits), bytea format, money locale,
 * and a search_path under which regclass and friends print schema-qualified names.
 */
const SESSION_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  "SET LOCAL extra_float_digits = 3",
  "SET LOCAL bytea_output = 'hex'",
  "SET LOCAL lc_monetary = 'C'",
  "SET LOCAL search_path = pg_catalog",
  // As pg_dump: a policy that would hide rows is an error, never a silently smaller sum.
  "SET LOCAL row_security = off",
];


interface TableRow {
  nsp: string;
  rel: string;
  bytes: string;
  /** An unlogged table: a standby holds no rows for it. */
  unlogged: boolean;
}

/**
 * Tables whose rows pg_dump archives: ordinary tables (partitions and inheritance children
 * included, each on its own: partitioned parents hold no rows), permanent, not owned by an
 * extension (pg_dump dumps those with the extension), outside the system and excluded schemas.
 */
async function dumpedTables(c: pg.ClientBase, excludeSchemas: string[]): Promise<TableRow[]> {
  const { rows } = await c.query<TableRow>(
    `SELECT n.nspname AS nsp, cl.relname AS rel,
            (cl.relpages::bigint * current_setting('block_size')::bigint)::text AS bytes,
            cl.relpersistence = 'u' AS unlogged
       FROM pg_catalog.pg_class cl JOIN pg_catalog.pg_namespace n ON n.oid = cl.relnamespace
      WHERE cl.relkind = 'r' AND cl.relpersistence <> 't'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
        AND NOT (n.nspname = ANY($1::text[]))
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = cl.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
    [excludeSchemas],
  );
  return rows;
}

async function checksumOne(c: pg.ClientBase, nsp: string, rel: string): Promise<{ rows: number; checksum: string }> {
  const { rows } = await c.query<{ n: string; a: string; b: string }>(
    `SELECT count(*)::text AS n,
            coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text AS a,
            coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS b
       FROM (SELECT pg_catalog.md5(t::text) AS h FROM ONLY ${quoteIdent(nsp)}.${quoteIdent(rel)} AS t) q`,
  );
  const { n, a, b } = rows[0];
  return { rows: Number(n), checksum: createHash("md5").update(`${n}:${a}:${b}`).digest("hex") };
}

export interface ChecksumOptions {
  excludeSchemas?: string[];
  /** Tables larger than this many bytes on disk are skipped (rows null). Undefined = no bound. */
  maxTableBytes?: number;
  /** Only these tables (the drill: what the manifest recorded). */
  only?: string[];
  signal?: AbortSignal;
}

/**
 * Checksums inside the caller's open transaction (its snapshot). Each table runs under a
 * savepoint: one unreadable table is reported, and the transaction — the snapshot pg_dump
 * may still be importing — survives.
 */
export async function checksumTables(c: pg.ClientBase, opts: ChecksumOptions = {}): Promise<Record<string, TableChecksum>> {
  for (const s of SESSION_SETTINGS) await c.query(s);
  const wanted = opts.only ? new Set(opts.only) : null;
  const out: Record<string, TableChecksum> = {};
  const standby = (await c.query<{ r: boolean }>("SELECT pg_catalog.pg_is_in_recovery() AS r")).rows[0].r;
  for (const t of await dumpedTables(c, opts.excludeSchemas ?? [])) {
    opts.signal?.throwIfAborted();
    const name = `${t.nsp}.${t.rel}`;
    if (wanted && !wanted.has(name)) continue;
    if (standby && t.unlogged) {
      // Unlogged tables are not replicated: on a standby they cannot be read, and pg_dump
      // leaves their rows out (decision 144). Said so, not "unreadable".
      out[name] = { rows: null, checksum: null, skipped: "unlogged, and the backup was taken from a standby, which holds none of its rows: the backup has its definition only" };
      continue;
    }
    if (opts.maxTableBytes !== undefined && Number(t.bytes) > opts.maxTableBytes) {
      out[name] = { rows: null, checksum: null, skipped: `larger than ${Math.round(opts.maxTableBytes / 1048576)} MB (drill.checksumMaxTableMb)` };
      continue;
    }
    await c.query("SAVEPOINT vaultline_checksum");
    try {
      out[name] = await checksumOne(c, t.nsp, t.rel);
      await c.query("RELEASE SAVEPOINT vaultline_checksum");
    } catch (e) {
      await c.query("ROLLBACK TO SAVEPOINT vaultline_checksum");
      out[name] = { rows: null, checksum: null, skipped: `unreadable: ${(e as Error).message.split("\n")[0].slice(0, 200)}` };
    }
  }
  return out;
}

/** A transaction whose snapshot is exported for pg_dump --snapshot; end() closes it. */
export interface ExportedSnapshot {
  snapshotId: string;
  client: pg.Client;
  end(): Promise<void>;
}

/**
 * Opens REPEATABLE READ, READ ONLY and exports its snapshot. The transaction must stay open
 * until pg_dump has imported it (pg_dump does so first thing); callers keep it until the
 * dump has finished, which also holds the checksums and the dump to one point in time.
 */
export async function exportSnapshot(url: string): Promise<ExportedSnapshot> {
  // Free of the database's own timeouts (pg-client.ts): the transaction idles while pg_dump runs.
  const client = await connectSession(url, "vaultline-checksums");
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const { rows } = await client.query<{ id: string }>("SELECT pg_catalog.pg_export_snapshot() AS id");
    return {
      snapshotId: rows[0].id,
      client,
      // Closing the connection ends the read-only transaction; it does not wait behind a
      // checksum still running when the backup failed or was cancelled.
      async end() {
        await client.end().catch(() => undefined);
      },
    };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}

/** Checksums of a database as it is now (a drill's scratch copy), in one snapshot. */
export async function checksumDatabase(url: string, opts: ChecksumOptions = {}): Promise<Record<string, TableChecksum>> {
  const client = await connectSession(url, "vaultline-checksums");
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    return await checksumTables(client, opts);
  } finally {
    await client.query("COMMIT").catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/**
 * The manifest's `tableChecksums`, taken in the exported snapshot while pg_dump dumps it.
 * Resolves null (never rejects) when they could not be taken: the backup is still good,
 * and a drill of it then says it compared row counts only.
 */
export async function snapshotChecksums(
  snap: ExportedSnapshot,
  opts: ChecksumOptions & { onError?: (e: Error) => void },
): Promise<TableChecksums | null> {
  const started = Date.now();
  try {
    const tables = await checksumTables(snap.client, opts);
    return { algorithm: CHECKSUM_ALGORITHM, sameSnapshotAsDump: true, tables, elapsedMs: Date.now() - started };
  } catch (e) {
    opts.onError?.(e as Error);
    return null;
  }
}
