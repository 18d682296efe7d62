// A restore gives the database its own state back as the backup had it (decision 194): its
// grants, comment, settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET) and
// connection limit. Before, both strategies left the live database's: a GRANT CONNECT made
// after the backup survived the restore, a grant revoked after it stayed revoked, and a
// setting changed after it (statement_timeout, work_mem for a role) kept its new value. The
// preview names each difference first. The catalogue-and-data fingerprint, which holds the
// database's own state, must equal the one taken when the backup was.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { buildAppDatabase, READER_ROLE, createRoleOnce } from "./support/app-fixture";
import { previewRestore } from "../lib/backup/preview";
import { dropKeptDatabase, runRestore, startCopyRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";
import { swapNames, databaseOf, withDatabase } from "../lib/backup/swap";

const exec = (url: string, text: string) => sql(url, text);
const fingerprint = (url: string) => catalogFingerprint(sql, url);
const LATER = "vl_state_later";

/** What a DBA changed on the database after the backup was taken. */
const changesAfterBackup = (db: string) => `
  GRANT CONNECT ON DATABASE "${db}" TO ${LATER};
  REVOKE CONNECT ON DATABASE "${db}" FROM ${READER_ROLE};
  COMMENT ON DATABASE "${db}" IS 'renamed after the backup';
  ALTER DATABASE "${db}" SET statement_timeout = '5s';
  ALTER DATABASE "${db}" SET work_mem = '64MB';
  ALTER ROLE ${READER_ROLE} IN DATABASE "${db}" SET work_mem = '9MB';
  ALTER DATABASE "${db}" CONNECTION LIMIT 50;
`;

const EXPECTED_DIFFERENCES = [
  "Connection limit: 50 → none",
  `CONNECT for ${LATER}: revoked (not in the backup)`,
  `CONNECT for ${READER_ROLE}: granted (as in the backup)`,
  'Comment: "renamed after the backup" → "the shop database"',
  "Setting statement_timeout: 5s → 42s",
  "Setting work_mem: 64MB → not set",
  `Setting work_mem for ${READER_ROLE}: 9MB → not set`,
];

afterAll(async () => {
  await stopBosses();
});

describe.each(["in-place", "swap"] as const)("the database's own state after a restore (%s)", (strategy) => {
  let env: TestEnv;
  let original: Record<string, string>;
  let backupId: string;
  let db: string;

  beforeAll(async () => {
    await createRoleOnce(exec, adminUrl(), `CREATE ROLE ${LATER} NOLOGIN`);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    db = databaseOf(env.targetUrl);
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    const names = swapNames(db, "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
  });

  it("the fixture's database has a state of its own: an owner, a grant to a reader, a comment, a setting", () => {
    expect(original.database).toMatch(/^vl_app \| /);
    expect(original.database).toContain(`${READER_ROLE}=c/vl_app`);
    expect(original.database).toContain("the shop database");
    expect(original.database).toContain("statement_timeout=42s");
  });

  it("changed after the backup, it is named by the preview and restored as the backup had it", async () => {
    await sql(adminUrl(), changesAfterBackup(db));
    expect((await fingerprint(env.targetUrl)).database).not.toBe(original.database);

    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.plan!.strategy).toBe(strategy);
    expect(preview.differences.database).toEqual(EXPECTED_DIFFERENCES);

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(row.warnings.join(" ")).not.toMatch(/owner, grants, comment and settings/);
    const after = await fingerprint(env.targetUrl);
    expect(after.database).toBe(original.database);
    expect(after).toEqual(original);
    // Nothing is left to say.
    expect((await previewRestore(env.ctx, backupId)).differences.database).toEqual([]);
  });

  it.runIf(strategy === "swap")("a copy beside the live database has the backup's state, and the live database keeps its own", async () => {
    await sql(adminUrl(), changesAfterBackup(db));
    const live = (await fingerprint(env.targetUrl)).database;
    const { restoreId } = await startCopyRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.warnings.join(" ")).not.toMatch(/owner, grants, comment and settings/);
    const copy = row.previousDatabase!;
    expect((await fingerprint(withDatabase(env.targetUrl, copy))).database).toBe(original.database);
    expect((await fingerprint(env.targetUrl)).database).toBe(live);
    await dropKeptDatabase(env.ctx, restoreId, SYSTEM, { confirm: "DROP" });
  });
});
