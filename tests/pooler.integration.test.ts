// A target URL through a connection pooler in transaction mode — PgBouncer's pool_mode =
// transaction, as a platform's "pooled" URL, often the application's own DATABASE_URL
// (decision 148). Such a pooler lends one server session to client after client, and the
// session state pg_dump, pg_restore and psql set goes with it. Tried before the fix: the
// target test failed with "unsupported startup parameter: statement_timeout" (sent at
// connect), and a swap restore through it refused its own copy, "tables public.customers
// differs, … views public.paying_customers differs": its loaders had left search_path = ''
// on the pooled sessions, and the check that ran next on them read every definition
// schema-qualified. Now the target test says what the URL is and what to use instead, and
// backups, drills and restores refuse to run through it, changing nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, dropDatabase, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { canRunPgbouncer, startPgbouncer, type Pooler } from "./support/pgbouncer";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { buildAppDatabase } from "./support/app-fixture";
import { stopBosses } from "../lib/queue";
import { runBackup } from "../lib/backup/run-backup";
import { runDrill } from "../lib/backup/drill";
import { previewRestore } from "../lib/backup/preview";
import { testTargetConnection } from "../lib/backup/target-test";
import { sharesServerSessions } from "../lib/backup/pooler";
import { withDatabase } from "../lib/backup/swap";
import { startupProblem } from "../lib/worker";

afterAll(async () => {
  await stopBosses();
});

describe("the pooler probe", () => {
  it("answers false, not an error, when the database ends idle sessions under it (CI: idle_session_timeout at 100 ms under load failed a safety backup)", async () => {
    const url = await createDatabase("idle");
    try {
      await sql(url, `ALTER DATABASE "${new URL(url).pathname.slice(1)}" SET idle_session_timeout = '1ms'`);
      expect(await sharesServerSessions(url)).toBe(false);
    } finally {
      await dropDatabase(url);
    }
  });
});

describe.skipIf(!canRunPgbouncer)("a target URL through PgBouncer in transaction mode", () => {
  let server: PgServer;
  let pooler: Pooler;
  let direct: string;
  let pooled: string;
  let env: TestEnv;

  beforeAll(async () => {
    server = await startPg({ label: "pooled" });
    await sql(server.adminUrl, "CREATE DATABASE shop");
    direct = withDatabase(server.adminUrl, "shop");
    await buildAppDatabase(sql, server.adminUrl, direct);
    pooler = await startPgbouncer(server.adminUrl);
    pooled = pooler.pooled(direct);
    env = await makeEnv({ seed: false, overrides: { targetUrl: direct, restoreStrategy: "swap" } });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await pooler?.stop();
    await server?.stop();
  });

  it("tells the pooled URL from the direct one", async () => {
    expect(await sharesServerSessions(pooled)).toBe(true);
    expect(await sharesServerSessions(direct)).toBe(false);
  });

  it("Vaultline refuses to start on its own database through the pooler (its locks live on sessions)", async () => {
    const appUrl = await server.createMigratedDatabase("app");
    expect(await startupProblem(appUrl)).toBeNull();
    expect(await startupProblem(pooler.pooled(appUrl))).toMatch(/DATABASE_URL goes through a connection pooler in transaction mode/);
  });

  it("the target test connects through the pooler and says it cannot be used, and what to use", async () => {
    const r = await testTargetConnection(pooled);
    expect(r.reasons[0]).toMatchObject({ check: "connect", ok: true });
    expect(r.reasons.find((x) => x.check === "session")).toMatchObject({ ok: false, message: expect.stringMatching(/pooler in transaction mode.*direct URL.*session mode/s) });
    expect([r.ok, r.canBackup, r.canRestoreInPlace, r.canSwap]).toEqual([false, false, false, false]);
    const d = await testTargetConnection(direct);
    expect(d.reasons.find((x) => x.check === "session")?.ok).toBe(true);
    expect([d.ok, d.canBackup, d.canSwap]).toEqual([true, true, true]);
  });

  it("a backup through it fails before pg_dump starts, saying why", async () => {
    const pooledEnv = { ...env, ctx: { ...env.ctx, targetUrl: pooled } };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const r = await runBackup(pooledEnv.ctx, job.id);
    expect(r.failureReason).toMatch(/pooler in transaction mode.*nothing is backed up/s);
  });

  it("a restore through it is previewed as refused and refused before its safety backup, changing nothing; so is a drill", async () => {
    const id = await fullBackup(env);
    await sql(direct, "UPDATE customers SET name = 'changed after the backup'");
    const before = await catalogFingerprint(sql, direct);
    const pooledEnv = { ...env, ctx: { ...env.ctx, targetUrl: pooled } };

    const preview = await previewRestore(pooledEnv.ctx, id);
    expect(preview.plan?.pooled).toBe(true);
    expect(preview.warnings.join("\n")).toMatch(/pooler in transaction mode.*refuses to run through it/s);

    const { status, row } = await restore(pooledEnv, id);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(/pooler in transaction mode.*Nothing was changed/s);
    // Refused before its safety backup ran.
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } })).status).toBe("CANCELLED");
    expect(await catalogFingerprint(sql, direct)).toEqual(before);

    const drill = await runDrill({ ...pooledEnv.ctx, drillDatabaseUrl: pooler.pooled(server.adminUrl) }, id);
    expect(drill.reason).toMatch(/pooler in transaction mode.*nothing is drilled/s);

    // The direct URL restores the same backup exactly (the fixture as it was backed up).
    const direct_ = await restore(env, id);
    expect(direct_.row.failureReason).toBeNull();
    expect((await catalogFingerprint(sql, direct))["data public.customers"]).not.toEqual(before["data public.customers"]);
  });
});
