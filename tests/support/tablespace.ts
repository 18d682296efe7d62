// A tablespace on the test server, in a temp directory given to the server's own user (the
// owner of its data directory): needs root, as the tests that use it say.
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "./pg";

export interface TestTablespace {
  dir: string;
  /** Drops the tablespace (once nothing is in it) and removes its directory. */
  drop(): Promise<void>;
}

/** Makes `name` afresh on the server at adminUrl (a leftover of an earlier run is dropped first). */
export async function makeTablespace(adminUrl: string, name: string): Promise<TestTablespace> {
  const [{ data }] = await sql<{ data: string }>(adminUrl, "SELECT current_setting('data_directory') AS data");
  const owner = statSync(data);
  const dir = mkdtempSync(path.join(tmpdir(), `${name.replace(/_/g, "-")}-`));
  chownSync(dir, owner.uid, owner.gid);
  chmodSync(dir, 0o700);
  await sql(adminUrl, `DROP TABLESPACE IF EXISTS ${name}`).catch(() => undefined);
  await sql(adminUrl, `CREATE TABLESPACE ${name} LOCATION '${dir}'`);
  return {
    dir,
    async drop() {
      await sql(adminUrl, `DROP TABLESPACE IF EXISTS ${name}`).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
