// A database's encoding and locale. Recorded in the manifest at backup time and given to the
// databases a backup is restored into: the swap's fresh copy (from the live database) and a
// drill's scratch copy (from the manifest). A copy in another encoding is not the same
// database: its text is other bytes (a drill's content checksums, md5 of each row's text,
// differed for every row with an 'é' of a LATIN1 database restored into a UTF8 one), and in
// another collation its text sorts, compares and is indexed differently.
import type pg from "pg";
import { quoteLiteral as lit } from "./quote";
import { withClient, type Session } from "./pg-client";

export type DatabaseLocale = {
  encoding: string;
  collate: string;
  ctype: string;
  /** pg_database.datlocprovider: "c" (libc) or "i" (ICU); null before PostgreSQL 15. */
  provider: string | null;
  iculocale: string | null;
};

/** The locale of `db` (default: the database c is connected to). */
export async function readDatabaseLocale(c: pg.ClientBase, db?: string): Promise<DatabaseLocale> {
  const v15 = (await c.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v")).rows[0].v >= 150000;
  const { rows } = await c.query<DatabaseLocale>(
    `SELECT pg_encoding_to_char(d.encoding) AS encoding, d.datcollate AS collate, d.datctype AS ctype,
            ${v15 ? "d.datlocprovider::text" : "NULL::text"} AS provider, ${v15 ? "d.daticulocale" : "NULL::text"} AS iculocale
       FROM pg_database d WHERE d.datname = coalesce($1, current_database())`,
    [db ?? null],
  );
  if (!rows[0]) throw new Error(`database ${db} does not exist`);
  return rows[0];
}

/** The locale of the database at url (the backup records it in its manifest). */
export function databaseLocaleAt(url: Session): Promise<DatabaseLocale> {
  return withClient(url, (c) => readDatabaseLocale(c));
}

/**
 * The CREATE DATABASE options that give a new database this locale (from template0, the only
 * template a database in another encoding or locale may be copied from). `plainC` keeps the
 * encoding with the C locale, which every server has and which goes with every encoding.
 */
export function localeOptions(l: DatabaseLocale, opts: { plainC?: boolean } = {}): string {
  if (opts.plainC) return `TEMPLATE template0 ENCODING ${lit(l.encoding)} LC_COLLATE 'C' LC_CTYPE 'C'`;
  const icu = l.provider === "i" && l.iculocale ? ` LOCALE_PROVIDER icu ICU_LOCALE ${lit(l.iculocale)}` : "";
  return `TEMPLATE template0 ENCODING ${lit(l.encoding)} LC_COLLATE ${lit(l.collate)} LC_CTYPE ${lit(l.ctype)}${icu}`;
}

/** How a note names a locale: "LATIN1, C", "UTF8, en_US.UTF-8", "UTF8, ICU de-DE". */
export function describeLocale(l: DatabaseLocale): string {
  return l.provider === "i" && l.iculocale ? `${l.encoding}, ICU ${l.iculocale}` : `${l.encoding}, ${l.collate === l.ctype ? l.collate : `${l.collate} / ${l.ctype}`}`;
}
