// The swap restore's copy holds as many rows as the backup, table by table (decision 158).
//
// The catalogue check (checkRestoredCopy) proves every object came back; nothing proved the
// rows did. The archive's SHA-256s prove the bytes read were the bytes backed up, and pg_restore
// stops on any error, but between them sit the restore's own loaders, which cut a big table's
// rows into parts fed side by side (decision 126): a part fed twice or not at all would be
// swapped in without a word. So the rows each table's block holds are counted as the archive
// streams by — pg_dump -Z0 writes one chunk per row, and the indexer walks the chunk headers
// anyway (archive-offsets.ts) — and compared, before the swap, with the rows the server says
// were inserted into each table of the copy (`pg_stat_user_tables.n_tup_ins`; nothing but the
// restore writes to a copy made a moment ago). A count that differs stops the restore with
// the live database untouched. No second read of the data: one catalogue query.
import type pg from "pg";
import { withClient } from "./pg-client";
import { quoteIdent } from "./quote";

export interface TableRows {
  schema: string | null;
  table: string;
  /** Schema and name as the archive's bytes, hex (archive-offsets.ts `TocEntry.key`): what is matched on the server. */
  key: string;
  rows: number;
}

/** The pg_dump majors whose -Z0 custom archives were read to write a chunk per row (checked against their sources: 15 run here, 16 and 17 read). */
export const ROW_COUNT_DUMP_MAJORS = new Set([12, 13, 14, 15, 16, 17]);

export type RowCheck =
  | { checked: true; tables: number; rows: number }
  | { checked: false; reason: string };

/** The server's own quote_ident where it has the table; the archive's name, quoted, where not. */
const name = (t: TableRows & { shown?: string }) => t.shown ?? (t.schema ? `${quoteIdent(t.schema)}.${quoteIdent(t.table)}` : quoteIdent(t.table));

const rowsOf = (n: number) => `${n.toLocaleString("en")} ${n === 1 ? "row" : "rows"}`;

/** How long inserts of loaders that have just exited may take to reach the server's statistics. */
const SETTLE_MS = 5000;

/**
 * Compares `expected` with the rows inserted into the database at `url`. Throws when a table
 * holds other than its backup's rows; says why nothing was compared when it cannot be.
 */
export async function checkRowCounts(url: string, expected: TableRows[] | null, opts: { dumpMajor: number; settleMs?: number }): Promise<RowCheck> {
  if (!expected) return { checked: false, reason: "the archive's data is compressed inside pg_dump (an older backup): its rows are not counted" };
  if (!ROW_COUNT_DUMP_MAJORS.has(opts.dumpMajor)) return { checked: false, reason: `pg_dump ${opts.dumpMajor}'s archives are not known to write a chunk per row` };
  return withClient(
    url,
    async (c) => {
      const on = (await c.query<{ on: boolean }>("SELECT current_setting('track_counts')::boolean AS on")).rows[0].on;
      if (!on) return { checked: false, reason: "the server does not count rows (track_counts = off)" };
      const until = Date.now() + (opts.settleMs ?? SETTLE_MS);
      for (;;) {
        const { wrong, compared } = await differences(c, expected);
        // A loader's session flushes its counts as it exits, a moment after pg_restore has: fewer
        // rows are waited for a little; more, never (nothing removes an insert from the count).
        if (!wrong.length) return { checked: true, tables: compared.length, rows: compared.reduce((n, t) => n + t.rows, 0) };
        if (wrong.some((w) => w.inserted > w.rows) || Date.now() >= until) {
          const first = wrong.slice(0, 3).map((w) => `${name(w)} has ${rowsOf(w.inserted)}, the backup ${w.rows.toLocaleString("en")}`);
          throw new Error(
            `the restored copy does not hold the backup's rows: ${first.join("; ")}${wrong.length > 3 ? ` (and ${wrong.length - 3} more tables)` : ""}; nothing was swapped in`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    "vaultline-restore",
  );
}

/**
 * The tables whose inserted rows differ from the archive's. An extension's own table is left
 * out: `CREATE EXTENSION` may have filled it before its dumped rows were added (PostGIS's
 * spatial_ref_sys, with pg_extension_config_dump's filter).
 */
async function differences(c: pg.Client, expected: TableRows[]): Promise<{ wrong: (TableRows & { inserted: number; shown?: string })[]; compared: TableRows[] }> {
  // Names as bytes in the database's encoding, as pg_dump wrote them into the archive.
  const { rows } = await c.query<{ shown: string; key: string; inserted: string; extension: boolean }>(
    `SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS shown, s.n_tup_ins::text AS inserted,
            encode(convert_to(s.schemaname::text, getdatabaseencoding()), 'hex') || '.' || encode(convert_to(s.relname::text, getdatabaseencoding()), 'hex') AS key,
            EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.relid AND d.deptype = 'e') AS extension
       FROM pg_stat_user_tables s`,
  );
  const live = new Map(rows.map((r) => [r.key, r]));
  const compared = expected.filter((t) => !live.get(t.key)?.extension);
  const wrong = compared
    .map((t) => {
      const found = live.get(t.key);
      // Named as the server spells it where it has the table (the archive's bytes may be another encoding).
      return { ...t, shown: found?.shown, inserted: Number(found?.inserted ?? 0) };
    })
    .filter((t) => t.inserted !== t.rows);
  return { wrong, compared };
}
