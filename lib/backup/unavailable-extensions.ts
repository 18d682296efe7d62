// Extensions a backup's database uses that the server it is restored to cannot install
// (decision 174): a rebuilt server set up without the packages the old one had (PostGIS,
// pgvector, an extension built by hand). pg_restore fails at `CREATE EXTENSION` ("could not
// open extension control file"), which came after the safety backup, the roles and the
// database were made. pg_available_extensions is the server's installation, the same from
// any database: it is read before anything, and the restore refuses with what to install.
// The same for an extension installed but not loaded where it must be (decision 206).
import { namesOnServer } from "./swap";
import type { Session } from "./pg-client";

/** Which of `names` the server at the target's URL has no control file for. */
export async function findUnavailableExtensions(target: Session, names: string[]): Promise<string[]> {
  const there = await namesOnServer(target, "SELECT name FROM pg_catalog.pg_available_extensions WHERE name = ANY($1::text[])", names);
  return names.filter((n) => !there.has(n)).sort();
}

/**
 * Extensions whose library must be loaded at the server's start (shared_preload_libraries)
 * before CREATE EXTENSION can run ("pgaudit must be loaded via shared_preload_libraries"), by a
 * setting the library defines once loaded. pg_settings lists such a setting only then: a
 * placeholder (`ALTER DATABASE … SET pgaudit.log`) answers current_setting() but is not there,
 * and unlike shared_preload_libraries itself it is readable by any role (decision 206).
 * pg_cron, which must be loaded too, is pinned-extensions.ts's.
 */
export const PRELOADED_EXTENSIONS: Readonly<Record<string, string>> = { pgaudit: "pgaudit.log" };

/** Which of `names` must be preloaded and are not, on the server at the target's URL. */
export async function findUnloadedExtensions(target: Session, names: string[]): Promise<string[]> {
  const asked = names.filter((n) => Object.hasOwn(PRELOADED_EXTENSIONS, n));
  const loaded = await namesOnServer(target, "SELECT name FROM pg_catalog.pg_settings WHERE name = ANY($1::text[])", asked.map((n) => PRELOADED_EXTENSIONS[n]));
  return asked.filter((n) => !loaded.has(PRELOADED_EXTENSIONS[n])).sort();
}

/** Why a restore onto `server` cannot make them, and what to do. */
export function unloadedExtensionsWords(names: string[], server = "this server", again = "restore again"): string {
  const one = names.length === 1;
  return (
    `The backup's database uses ${one ? "an extension" : "extensions"} ${server} does not load (${names.join(", ")}): PostgreSQL makes ${one ? "it" : "them"} only once ${one ? "its library is" : "their libraries are"} in shared_preload_libraries. ` +
    `Add ${one ? "it" : "them"} there (keeping what is already listed) and restart PostgreSQL, then ${again}`
  );
}

/**
 * Which of `names` only a superuser may create on the server at the target's URL: not trusted
 * and superuser-only in every version the server has (decision 209). Every restore makes each
 * extension again as the connecting role — in place after dropping it, beside in the fresh
 * copy — so a role that is not a superuser fails on the first, after the safety backup.
 */
export async function findUntrustedExtensions(target: Session, names: string[]): Promise<string[]> {
  const asked = names.filter((n) => n !== "plpgsql");
  const there = await namesOnServer(
    target,
    "SELECT name FROM pg_catalog.pg_available_extension_versions WHERE name = ANY($1::text[]) GROUP BY name HAVING bool_and(superuser AND NOT trusted)",
    asked,
  );
  return asked.filter((n) => there.has(n)).sort();
}

/** Why a restore (or a drill) through `user`, not a superuser, cannot make them, and what to do. */
export function untrustedExtensionsWords(names: string[], user: string, drill = false): string {
  const one = names.length === 1;
  return (
    `The backup's database uses ${one ? "an extension" : "extensions"} only a superuser may create (${names.join(", ")}), and ${drill ? "the drill connects" : "Vaultline connects to this target"} as ${user}, which is not one: ` +
    (drill
      ? `a drill makes ${one ? "it" : "them"} in its scratch database, and PostgreSQL would refuse. Drill through a superuser's connection (DRILL_DATABASE_URL)`
      : `every restore makes ${one ? "it" : "them"} again, and PostgreSQL would refuse. Restore through a superuser's connection to this target`)
  );
}

/** Why the restore cannot run on this server, and what to do. */
export function unavailableExtensionsWords(names: string[]): string {
  const one = names.length === 1;
  return (
    `The backup's database uses ${one ? "an extension" : "extensions"} this server cannot install (${names.join(", ")}): ${one ? "its package is" : "their packages are"} not installed here ` +
    `(pg_available_extensions does not list ${one ? "it" : "them"}). Install ${one ? "it" : "them"} on the server — the same major version as where the backup was taken — then restore again`
  );
}
