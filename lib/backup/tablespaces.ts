// Tablespaces a backup's objects are placed in, which a rebuilt server may not have (decision
// 173). pg_dump names, for each object placed outside the database's own tablespace, the
// tablespace it is in (`SET default_tablespace = fast_disk` before its CREATE); a server
// without it fails that statement, and the restore failed there, after its safety backup,
// with "invalid value for parameter "default_tablespace"". Tablespaces are directories on the
// server's disks: Vaultline does not make them. The preview says which are missing; the
// restore refuses before anything with what to do, or, asked to, places every object in the
// database's own tablespace (`pg_restore --no-tablespaces`).
import { quoteIdent } from "./quote";
import { namesOnServer } from "./swap";
import type { Session } from "./pg-client";

/** Which of `names` the server at the target's URL has no tablespace of. */
export async function findMissingTablespaces(target: Session, names: string[]): Promise<string[]> {
  const there = await namesOnServer(target, "SELECT spcname AS name FROM pg_catalog.pg_tablespace WHERE spcname = ANY($1::text[])", names);
  return names.filter((n) => !there.has(n));
}

/** Why a restore that keeps the backup's tablespaces cannot run here, and what to do. */
export function missingTablespacesWords(missing: string[]): string {
  const one = missing.length === 1;
  return (
    `Objects in the backup are placed in ${one ? "a tablespace" : "tablespaces"} this server does not have (${missing.join(", ")}). ` +
    `Create ${one ? "it" : "each"} on the server first (CREATE TABLESPACE ${quoteIdent(missing[0])} LOCATION '…';), ` +
    `or restore with "tablespaces": "default" to place every object in the database's own tablespace`
  );
}
