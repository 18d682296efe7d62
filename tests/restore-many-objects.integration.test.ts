// A database with more objects than one transaction may lock — a schema per tenant, say
// (decision 145). PostgreSQL's lock table holds max_locks_per_transaction × (max_connections
// + max_prepared_transactions) locks between all sessions, and a transaction that creates
// or drops an object keeps its lock until it ends. pg_dump locks the tables only, so the
// backup works; but a restore in one transaction locks every table, index, sequence and
// TOAST table it makes. Here a server with a small lock table (10 × 20) and 150 tables: the
// drill (which restored in one transaction) failed every time with "out of shared memory",
// and the in-place restore failed with it after its safety backup. Now the drill restores
// statement by statement, the preview warns before an in-place restore, its failure says
// what to change, and the swap restores the database exactly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { runDrill } from "../lib/backup/drill";
import { previewRestore } from "../lib/backup/preview";
import { withDatabase } from "../lib/backup/swap";

const SCHEMAS = 30;
const TABLES_EACH = 5;

afterAll(async () => {
  await stopBosses();
});

describe("a database with more objects than one transaction may lock", () => {
  let server: PgServer;
  let target: string;
  let env: TestEnv;

  beforeAll(async () => {
    server = await startPg({ label: "few-locks", flags: ["-c", "max_locks_per_transaction=10", "-c", "max_connections=20"] });
    await sql(server.adminUrl, "CREATE ROLE tenant_owner");
    await sql(server.adminUrl, "CREATE DATABASE tenants OWNER tenant_owner");
    target = withDatabase(server.adminUrl, "tenants");
    // Schema by schema, as the application made them (one transaction each).
    for (let i = 1; i <= SCHEMAS; i++) {
      const tables = Array.from({ length: TABLES_EACH }, (_, j) => `CREATE TABLE t${i}.x${j} (id serial PRIMARY KEY, v text); INSERT INTO t${i}.x${j} (v) SELECT md5(g::text) FROM generate_series(1, 20) g;`);
      await sql(target, `CREATE SCHEMA t${i} AUTHORIZATION tenant_owner; SET ROLE tenant_owner; ${tables.join(" ")} CREATE VIEW t${i}.recent AS SELECT id FROM t${i}.x0 WHERE id > 10; RESET ROLE;`);
    }
    env = await makeEnv({ seed: false, overrides: { targetUrl: target, restoreStrategy: "in-place" } });
  }, 300_000);

  afterAll(async () => {
    await env?.cleanup();
    await server?.stop();
  });

  it("backs up, and a drill finds every table as the backup recorded it", async () => {
    const id = await fullBackup(env);
    const drill = await runDrill(env.ctx, id);
    expect(drill.reason).toBeUndefined();
    expect(drill.tables.filter((t) => t.ok)).toHaveLength(SCHEMAS * TABLES_EACH);
  });

  it("in place: the preview warns, and the restore fails saying what to change, with nothing changed", async () => {
    const id = await fullBackup(env);
    await sql(target, "DELETE FROM t1.x0 WHERE id <= 5");
    const before = await catalogFingerprint(sql, target);
    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan?.strategy).toBe("in-place");
    expect(preview.warnings.join(" ")).toMatch(/max_locks_per_transaction/);
    const { status, row } = await restore(env, id);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(/max_locks_per_transaction.*rolled back/s);
    expect(await catalogFingerprint(sql, target)).toEqual(before);
  });

  it("by swap: the restore is exact", async () => {
    const swapEnv = { ...env, ctx: { ...env.ctx, restoreStrategy: "swap" as const } };
    const before = await catalogFingerprint(sql, target);
    const id = await fullBackup(swapEnv);
    const preview = await previewRestore(swapEnv.ctx, id);
    expect(preview.plan?.strategy).toBe("swap");
    expect(preview.warnings.join(" ")).not.toMatch(/max_locks_per_transaction/);
    await sql(target, "DROP SCHEMA t2 CASCADE; UPDATE t3.x1 SET v = 'changed'");
    const { status, row } = await restore(swapEnv, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, target)).toEqual(before);
  });
});
