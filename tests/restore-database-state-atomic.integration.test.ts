// An in-place restore gives the database its own state inside its own transaction, just
// before COMMIT (decision 195). Before, it was given by a second pass after COMMIT: a worker
// dying in between left the backup's data under the live database's owner, grants and
// settings, and nothing redid it. Here that pass does nothing, as if the worker had died right
// after COMMIT; the database must still be exactly as the backup had it, its owner included.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { buildAppDatabase, READER_ROLE, createRoleOnce } from "./support/app-fixture";
import { stopBosses } from "../lib/queue";
import { previewRestore } from "../lib/backup/preview";
import { databaseOf } from "../lib/backup/swap";

const passAfterCommit = vi.hoisted(() => ({ calls: 0 }));
vi.mock(import("../lib/backup/database-state"), async (original) => ({
  ...(await original()),
  giveDatabaseState: async () => {
    passAfterCommit.calls++;
    return { failed: [], left: [] };
  },
}));

const exec = (url: string, text: string) => sql(url, text);
const fingerprint = (url: string) => catalogFingerprint(sql, url);
const LATER = "vl_state_atomic_later";

afterAll(async () => {
  await stopBosses();
});

describe("the database's own state, given by the in-place restore's own transaction", () => {
  let env: TestEnv;
  let original: Record<string, string>;
  let backupId: string;
  let db: string;

  beforeAll(async () => {
    await createRoleOnce(exec, adminUrl(), `CREATE ROLE ${LATER} NOLOGIN`);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place" } });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    db = databaseOf(env.targetUrl);
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("owner, grants, comment, settings and connection limit changed after the backup are the backup's once COMMIT is through", async () => {
    await sql(
      adminUrl(),
      `ALTER DATABASE "${db}" OWNER TO ${LATER};
       GRANT CREATE ON DATABASE "${db}" TO ${LATER} ;
       REVOKE CONNECT ON DATABASE "${db}" FROM ${READER_ROLE};
       COMMENT ON DATABASE "${db}" IS 'renamed after the backup';
       ALTER DATABASE "${db}" SET statement_timeout = '5s';
       ALTER DATABASE "${db}" SET "app.tenant" = 'later';
       ALTER ROLE ${READER_ROLE} IN DATABASE "${db}" SET work_mem = '9MB';
       ALTER DATABASE "${db}" CONNECTION LIMIT 50;`,
    );
    expect((await fingerprint(env.targetUrl)).database).not.toBe(original.database);
    // The preview's lines; given away (ownership "reassign"), the database would keep its owner (decision 196).
    const { differences } = await previewRestore(env.ctx, backupId);
    expect(differences.database).toContain(`Owner: ${LATER} → vl_app`);
    expect(differences.database).toContain("Setting statement_timeout: 5s → 42s");
    // The rest as kept: the backup's owner's own privileges would be the live owner's.
    expect(differences.databaseReassigned).toEqual(differences.database!.filter((l) => !l.startsWith("Owner: ")));

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("in-place");
    // The pass after COMMIT was reached, and did nothing.
    expect(passAfterCommit.calls).toBe(1);
    const after = await fingerprint(env.targetUrl);
    expect(after.database).toBe(original.database);
    expect(after).toEqual(original);
  });

  it("with nothing different, the restore's script gives nothing", async () => {
    const { status } = await restore(env, backupId);
    expect(status).toBe("SUCCEEDED");
    expect(await fingerprint(env.targetUrl)).toEqual(original);
  });
});
