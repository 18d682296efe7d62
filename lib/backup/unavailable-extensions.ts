// Extensions a backup's database uses that the server it is restored to cannot install
// (decision 174): a rebuilt server set up without the packages the old one had (PostGIS,
// pgvector, an extension built by hand). pg_restore fails at `CREATE EXTENSION` ("could not
// open extension control file"), which came after the safety backup, the roles and the
// database were made. pg_available_extensions is the server's installation, the same from
// any database: it is read before anything, and the restore refuses with what to install.
import { namesOnServer } from "./swap";
import type { Session } from "./pg-client";

/** Which of `names` the server at the target's URL has no control file for. */
export async function findUnavailableExtensions(target: Session, names: string[]): Promise<string[]> {
  const there = await namesOnServer(target, "SELECT name FROM pg_catalog.pg_available_extensions WHERE name = ANY($1::text[])", names);
  return names.filter((n) => !there.has(n)).sort();
}

/** Why the restore cannot run on this server, and what to do. */
export function unavailableExtensionsWords(names: string[]): string {
  const one = names.length === 1;
  return (
    `The backup's database uses ${one ? "an extension" : "extensions"} this server cannot install (${names.join(", ")}): ${one ? "its package is" : "their packages are"} not installed here ` +
    `(pg_available_extensions does not list ${one ? "it" : "them"}). Install ${one ? "it" : "them"} on the server — the same major version as where the backup was taken — then restore again`
  );
}
