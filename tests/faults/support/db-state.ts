// A fingerprint of a database's schema and rows (the same as tests/helpers/db-state.ts,
// without Vitest): proves a refused or killed restore left the target as it was.
import { sql } from "./pg";

export async function dbState(url: string, schema = "public"): Promise<Record<string, string>> {
  const tables = await sql<{ t: string }>(url, `SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema]);
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const cols = await sql<{ c: string }>(
      url,
      `SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable, ',' ORDER BY ordinal_position) AS c
         FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
      [schema, t],
    );
    const rows = await sql<{ h: string | null; n: string }>(
      url,
      `SELECT md5(string_agg(x::text, '|' ORDER BY x::text)) AS h, count(*)::text AS n FROM "${schema}"."${t}" x`,
    );
    out[t] = `${cols[0].c} rows=${rows[0].n} hash=${rows[0].h}`;
  }
  return out;
}

export function sameState(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
