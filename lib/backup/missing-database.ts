// A restore into a database that is not there (decision 165). The worst night is the one on
// which the database itself is gone — a DROP DATABASE run on the wrong server, a server rebuilt
// after its disk was lost — and the restore refused exactly then: every step began by
// connecting to the database, and failed with "database … does not exist".
//
// Now the restore makes it first, as the backup had it: the archive's own DATABASE entries
// (pg_dump writes them whatever its options, for pg_restore --create) give its owner, comment,
// settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET, CONNECTION LIMIT) and grants;
// the manifest gives its encoding and locale. The restore then runs as into any database,
// its safety backup of the empty database included (it is what Undo goes back to).
import type pg from "pg";
import type { Readable } from "node:stream";
import { readArchiveHead, type ArchiveHead, type HeadEntry } from "./archive-offsets";
import { localeOptions, describeLocale, type DatabaseLocale } from "./db-locale";
import { quoteIdent } from "./quote";
import { connectSession } from "./pg-client";
import { databaseOf, maintenanceClient, withDatabase } from "./swap";

export interface MissingDatabase {
  /** The target's database name. */
  name: string;
  /** Vaultline's role on the server. */
  user: string;
  /** Whether that role may create a database (CREATEDB or superuser). */
  canCreate: boolean;
}

/** Null when the target's database exists; what is known of the server otherwise. */
export async function findMissingDatabase(targetUrl: string): Promise<MissingDatabase | null> {
  const name = databaseOf(targetUrl);
  const c = await maintenanceClient(targetUrl);
  try {
    const { rows } = await c.query<{ exists: boolean; user: string; canCreate: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1) AS exists, current_user AS user,
              coalesce((SELECT rolcreatedb OR rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), false) AS "canCreate"`,
      [name],
    );
    return rows[0].exists ? null : { name, user: rows[0].user, canCreate: rows[0].canCreate };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** What the preview says, and (when it cannot be made) why the restore refuses. */
export function missingDatabaseWords(m: MissingDatabase): string {
  if (!m.canCreate) {
    return (
      `The database ${m.name} does not exist on the target's server, and Vaultline's role ${m.user} may not create one (it has neither CREATEDB nor superuser). ` +
      `Create it empty as a role that may (CREATE DATABASE ${quoteIdent(m.name)};), or give ${m.user} CREATEDB, then restore again`
    );
  }
  return (
    `The database ${m.name} does not exist on the target's server: the restore creates it as the backup had it (its owner, encoding and locale, settings, comment and grants), ` +
    `then loads the backup into it. Nothing else on the server is changed`
  );
}

/** The archive's header and table of contents, read from the start of its stream; the stream is let go after. */
export async function readHeadOf(archive: Readable, limitBytes = 256 * 1024 * 1024): Promise<ArchiveHead> {
  const pieces: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of archive) {
      pieces.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      const head = readArchiveHead(Buffer.concat(pieces, length));
      if (head && "disabled" in head) throw new Error(`the backup's archive cannot be read here: ${head.disabled}`);
      if (head) return head;
      if (length > limitBytes) throw new Error(`the backup's archive has no table of contents in its first ${limitBytes} bytes`);
    }
    throw new Error("the backup's archive ended before its table of contents");
  } finally {
    archive.destroy();
  }
}

/** An entry's SQL as text, read in the database's encoding. */
function sqlOf(e: HeadEntry, encoding: string): string | null {
  if (!e.defn || e.defn.length === 0) return null;
  if (/^(UTF8|SQL_ASCII)$/i.test(encoding)) return e.defn.toString("utf8");
  if (/^LATIN1$/i.test(encoding)) return e.defn.toString("latin1");
  // Another encoding: ASCII statements only (a comment in it would come out garbled).
  return e.defn.every((b) => b < 0x80) ? e.defn.toString("latin1") : null;
}

/**
 * Creates the target's database as the backup had it. Answers notes for the restore's record:
 * what was made, and each property that could not be (a role the grant names that this
 * server lacks, say), which does not stop the restore.
 */
export async function createMissingDatabase(
  targetUrl: string,
  /** `stateRecorded`: the manifest holds the database's own state, which the restore gives back after (decision 194). */
  opts: { locale: DatabaseLocale | undefined; head: ArchiveHead; archivedName: string; stateRecorded?: boolean },
): Promise<string[]> {
  const name = databaseOf(targetUrl);
  const entries = opts.head.entries;
  const dbEntry = entries.find((e) => e.desc === "DATABASE");
  const notes: string[] = [];
  const c = await maintenanceClient(targetUrl);
  try {
    const options = opts.locale ? ` WITH ${localeOptions(opts.locale)}` : "";
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(name)}${options}`);
    } catch (e) {
      const err = e as Error & { code?: string };
      throw new Error(
        `The database ${name} does not exist and could not be created${opts.locale ? ` in ${describeLocale(opts.locale)}` : ""}: ${err.message.split("\n")[0]}. ` +
          `Create it empty yourself (CREATE DATABASE ${quoteIdent(name)} …), then restore again`,
      );
    }
    notes.push(`The database ${name} did not exist: created${opts.locale ? ` in ${describeLocale(opts.locale)}` : ""} before the restore`);
    const owner = dbEntry?.owner;
    if (owner) {
      await c.query(`ALTER DATABASE ${quoteIdent(name)} OWNER TO ${quoteIdent(owner)}`).then(
        () => notes.push(`owned by ${owner}, as when it was backed up`),
        (e: Error) => notes.push(`owned by the restoring role, not ${owner} as when it was backed up (${e.message.split("\n")[0]})`),
      );
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  // The comment, settings and grants name the database as it was archived: only where that
  // is the target's name, and from a session in the new database (its text is in its encoding).
  if (opts.archivedName !== name) {
    notes.push(
      opts.stateRecorded
        ? `its settings, comment and grants are given as the backup recorded them once it is restored (the backup was taken of a database named ${opts.archivedName})`
        : `its settings, comment and grants were not applied: the backup was taken of a database named ${opts.archivedName}`,
    );
    return notes;
  }
  const own = (e: HeadEntry) =>
    (e.desc === "DATABASE PROPERTIES" && e.tag === opts.archivedName) || ((e.desc === "COMMENT" || e.desc === "ACL" || e.desc === "SECURITY LABEL") && e.tag === `DATABASE ${opts.archivedName}`);
  const statements = entries.filter(own);
  if (!statements.length) return notes;
  let s: pg.Client | null = null;
  try {
    s = await connectSession(withDatabase(targetUrl, name), "vaultline-restore");
    for (const e of statements) {
      const text = sqlOf(e, opts.locale?.encoding ?? "UTF8");
      if (!text) {
        notes.push(`its ${e.desc.toLowerCase()} was not applied: its text is in ${opts.locale?.encoding}, which is not read here`);
        continue;
      }
      await s.query(text).then(
        () => undefined,
        (err: Error) => notes.push(`its ${e.desc.toLowerCase()} could not be applied: ${err.message.split("\n")[0]}`),
      );
    }
  } finally {
    await s?.end().catch(() => undefined);
  }
  return notes;
}

/** What a database is made of, counted from a session in it: equal counts, nothing was made in it. */
const SHAPE_SQL = `SELECT (SELECT count(*) FROM pg_catalog.pg_class) || '/' || (SELECT count(*) FROM pg_catalog.pg_proc) || '/' ||
  (SELECT count(*) FROM pg_catalog.pg_type) || '/' || (SELECT count(*) FROM pg_catalog.pg_namespace) || '/' ||
  (SELECT count(*) FROM pg_catalog.pg_largeobject_metadata) AS shape`;

/** The created database's shape, taken right after it is made (for dropCreatedDatabase). */
export async function databaseShape(targetUrl: string): Promise<string> {
  const s = await connectSession(targetUrl, "vaultline-restore");
  try {
    return (await s.query<{ shape: string }>(SHAPE_SQL)).rows[0].shape;
  } finally {
    await s.end().catch(() => undefined);
  }
}

/**
 * A restore that created the target's database and then failed before it replaced anything
 * drops it again: otherwise the night's failure leaves an empty database where there was none,
 * which an application may connect to and take for its own (migrating it, serving from it).
 * Only while it is as it was made — no object added, nobody else connected — and without
 * FORCE: a session that comes meanwhile keeps it. Answers what the failure's record says.
 */
export async function dropCreatedDatabase(targetUrl: string, shapeWhenMade: string): Promise<{ dropped: boolean; words: string }> {
  const name = databaseOf(targetUrl);
  const keep = (why: string) => ({
    dropped: false,
    words: `The database ${name}, which this restore created, is left on the server: ${why}. Drop it (DROP DATABASE ${quoteIdent(name)};) if nothing should use it, then restore again`,
  });
  try {
    const shape = await databaseShape(targetUrl);
    if (shape !== shapeWhenMade) return keep("objects were made in it since");
    const c = await maintenanceClient(targetUrl);
    try {
      await c.query(`DROP DATABASE ${quoteIdent(name)}`);
    } finally {
      await c.end().catch(() => undefined);
    }
    return { dropped: true, words: `The database ${name}, which this restore had created, was dropped again: the server is as it was` };
  } catch (e) {
    return keep((e as Error).message.split("\n")[0]);
  }
}
