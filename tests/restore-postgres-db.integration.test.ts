// The application's database is the server's `postgres` (decision 202): a container's default
// database, and a hosted platform's application database. The swap renames databases from a
// maintenance database, which was `postgres` itself: it stopped at "cannot disallow
// connections for current database", after the safety backup and the whole restore into the
// copy. Now `template1` is the maintenance database there. On a server of its own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv, type TestEnv } from "./support/backup-env";
import { startPg, type PgServer } from "./support/pg";
import { catalogFingerprint, differences } from "./support/catalog-fingerprint";
import { buildAppDatabase, LATER_MIGRATION_SQL, asAppRole } from "./support/app-fixture";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { undoRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

describe("a database named postgres", () => {
  let server: PgServer;
  let env: TestEnv;
  beforeAll(async () => {
    server = await startPg({ label: "postgres-db" });
    const url = server.adminUrl;
    env = await backupEnv(server, { seed: false, overrides: { restoreJobs: 2, targetUrl: url } });
    env = { ...env, targetUrl: url };
    await buildAppDatabase((u, t) => sql(u, t), url, url);
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await env?.cleanup().catch(() => undefined);
    await server?.stop();
  });

  it("is restored beside itself and swapped in, exactly, and the swap is undone", async () => {
    expect(new URL(env.targetUrl).pathname).toBe("/postgres");
    const original = await catalogFingerprint(sql, env.targetUrl);
    const backupId = await fullBackup(env);
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    const migrated = await catalogFingerprint(sql, env.targetUrl);
    expect((await previewRestore(env.ctx, backupId)).plan?.strategy).toBe("swap");

    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row).toMatchObject({ strategy: "swap", previousDatabase: `postgres__before_${row.id}` });
    expect(differences(original, await catalogFingerprint(sql, env.targetUrl))).toEqual({});

    await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" });
    expect(differences(migrated, await catalogFingerprint(sql, env.targetUrl))).toEqual({});
  });
});
