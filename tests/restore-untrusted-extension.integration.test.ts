// An extension only a superuser may create, in a database restored through the application's
// own role (decision 209): pg_stat_statements, which a DBA adds to most production databases,
// and dblink. Every restore makes each extension again as the connecting role — in place after
// its prologue drops it, beside in the fresh copy — so through a role that is not a superuser
// the restore failed at pg_restore ("permission denied to create extension"), after the safety
// backup and the load; the preview only said it "will fail". Now the preview names them and
// the restore refuses before anything, saying to restore through a superuser's connection;
// a drill through that role fails at once, saying the same of its own connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { asAppRole, buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";
import { previewRestore } from "../lib/backup/preview";
import { runRestore, startCopyRestore } from "../lib/backup/restore";
import { runDrill } from "../lib/backup/drill";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const exec = (url: string, text: string) => sql(url, text);
const WORDS =
  "The backup's database uses extensions only a superuser may create (dblink, pg_stat_statements), and Vaultline connects to this target as vl_app, which is not one: every restore makes them again, and PostgreSQL would refuse. Restore through a superuser's connection to this target";

afterAll(async () => {
  await stopBosses();
});

describe.each(["swap", "in-place"] as const)("a database with pg_stat_statements and dblink, restored through its own role (%s)", (strategy) => {
  let env: TestEnv;
  let backupId: string;
  let app: TestEnv["ctx"];

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    // As a DBA adds them: through the superuser.
    await sql(env.targetUrl, "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION dblink");
    await sql(adminUrl(), "ALTER ROLE vl_app CREATEDB");
    backupId = await fullBackup(env);
    app = { ...env.ctx, targetUrl: asAppRole(env.targetUrl) };
  }, 120_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("the preview names them and says the restore refuses; the restore refuses before the safety backup, and nothing changes", async () => {
    await sql(env.targetUrl, LATER_MIGRATION_SQL);
    const migrated = await catalogFingerprint(sql, env.targetUrl);
    const preview = await previewRestore(app, backupId);
    expect(preview.untrustedExtensions).toEqual(["dblink", "pg_stat_statements"]);
    expect(preview.warnings).toContain(`${WORDS}. Until then the restore refuses to run.`);
    const safetyBefore = await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } });
    const { status, row } = await restore({ ...env, ctx: app }, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toBe(`${WORDS}. Nothing was changed.`);
    expect(await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } })).toBe(safetyBefore);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(migrated);
    // A copy makes them too.
    const { restoreId } = await startCopyRestore(app, backupId, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(app, restoreId)).toBe("FAILED");
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toBe(`${WORDS}. Nothing was changed.`);
    // A drill through that role: at once, with the same words, not pg_restore's every night.
    if (strategy === "swap") {
      const drill = await runDrill({ ...app, drillDatabaseUrl: undefined }, backupId);
      expect(drill.reason).toBe(
        "The backup's database uses extensions only a superuser may create (dblink, pg_stat_statements), and the drill connects as vl_app, which is not one: a drill makes them in its scratch database, and PostgreSQL would refuse. Drill through a superuser's connection (DRILL_DATABASE_URL)",
      );
      expect((await runDrill({ ...env.ctx, drillDatabaseUrl: undefined }, backupId)).reason).toBeUndefined();
    }
  });

  it("through the superuser's connection the preview says nothing of them, and the restore is exact", async () => {
    const original = await (async () => {
      const { status, row } = await restore(env, backupId);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      return catalogFingerprint(sql, env.targetUrl);
    })();
    expect((await previewRestore(env.ctx, backupId)).untrustedExtensions).toEqual([]);
    expect(original["extension pg_stat_statements"]).toBeDefined();
    expect(original["extension dblink"]).toBeDefined();
  });
});
