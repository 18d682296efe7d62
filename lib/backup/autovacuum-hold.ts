// Autovacuum kept off the fresh copy while it is restored (decision 119).
//
// A parallel restore commits each table as soon as its rows are in. The server's autovacuum
// then finds a brand-new table with every row inserted since its last vacuum and starts
// vacuuming and analysing it beside the restore — on the CPUs the restore needs — and the
// index build that comes next asks for a lock the vacuum holds: it waits deadlock_timeout
// (1 s by default) before the vacuum is cancelled and its work thrown away. Raw
// `pg_restore --single-transaction` never meets this, since nothing it writes is committed
// before the end.
//
// So each table of the fresh copy gets `autovacuum_enabled = false` after the schema is made
// and before any data is loaded, and the option is RESET once everything is restored —
// before the copy is checked and swapped in, so the database users get has exactly the
// storage options the backup recorded (and autovacuum analyses it as soon as it is live).
// Tables whose backup set autovacuum_enabled themselves are left alone. Only tables the
// restoring role may alter are held; a table it cannot is simply not held.
import type pg from "pg";
import { withClient as withPgClient } from "./pg-client";

const withClient = <T>(url: string, fn: (c: pg.Client) => Promise<T>) => withPgClient(url, fn, "vaultline-restore");

export interface AutovacuumHold {
  /** The relations held, as `schema.name` (for logs and tests). */
  readonly held: string[];
  /** Removes the option from every held relation; throws if it cannot. */
  release(): Promise<void>;
}

const CANDIDATES = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'm')
     AND c.relpersistence <> 't'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
     AND NOT EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}')) o WHERE o LIKE 'autovacuum\\_enabled=%')
     AND pg_has_role(c.relowner, 'USAGE')
   ORDER BY 1`;

const alter = (r: { name: string; kind: string }, clause: string) => `ALTER ${r.kind === "m" ? "MATERIALIZED VIEW" : "TABLE"} ${r.name} ${clause};`;

/** Turns autovacuum off for every table of the database at `url` that has no setting of its own. */
export async function holdAutovacuum(url: string): Promise<AutovacuumHold> {
  const rels = await withClient(url, async (c) => {
    const found = (await c.query<{ name: string; kind: string }>(CANDIDATES)).rows;
    // One simple query: one round trip and one transaction, however many tables.
    if (found.length) await c.query(found.map((r) => alter(r, "SET (autovacuum_enabled = false)")).join("\n"));
    return found;
  });
  let released = false;
  return {
    held: rels.map((r) => r.name),
    async release() {
      if (released || !rels.length) return;
      await withClient(url, (c) => c.query(rels.map((r) => alter(r, "RESET (autovacuum_enabled)")).join("\n")));
      released = true;
    },
  };
}
