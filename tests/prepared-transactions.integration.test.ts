// A transaction prepared for two-phase commit and never finished — an XA transaction
// manager (JTA, Atomikos, Narayana) that crashed between its two phases (decision 151).
// PostgreSQL keeps it, with its locks, across restarts, and counts it as a session of its
// database. Before this decision a swap restore loaded the whole copy and then failed three
// times at the rename with "database … is being accessed by other users" (the detail, "There
// is 1 prepared transaction using the database", was dropped); an in-place restore would
// wait for its locks. Now the preview names it, the dialog's confirm stays off, and the
// restore refuses before its safety backup, changing nothing. Vaultline does not commit or
// roll it back: that is the transaction manager's decision.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { previewRestore } from "../lib/backup/preview";
import { createFreshDatabase, dropDatabase, swapDatabases, swapNames, withDatabase } from "../lib/backup/swap";

afterAll(async () => {
  await stopBosses();
});

describe("a database held by a transaction prepared for two-phase commit", () => {
  let server: PgServer;
  let target: string;
  let env: TestEnv;

  beforeAll(async () => {
    server = await startPg({ label: "prepared", flags: ["-c", "max_prepared_transactions=5"] });
    await sql(server.adminUrl, "CREATE ROLE ledger_owner LOGIN PASSWORD 'x'");
    await sql(server.adminUrl, "CREATE DATABASE ledger OWNER ledger_owner");
    target = withDatabase(server.adminUrl, "ledger");
    await sql(target, "SET ROLE ledger_owner; CREATE TABLE entries (id int PRIMARY KEY, amount int NOT NULL); INSERT INTO entries SELECT g, g FROM generate_series(1, 100) g; RESET ROLE;");
    env = await makeEnv({ seed: false, overrides: { targetUrl: target, restoreJobs: 2 } });
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
    await server?.stop();
  });

  it("is named by the preview; both strategies refuse before their safety backup, changing nothing; finished, the restore runs", async () => {
    const id = await fullBackup(env);
    await sql(target, "UPDATE entries SET amount = 0 WHERE id <= 10");
    await sql(target, "BEGIN; INSERT INTO entries VALUES (1000, 1); PREPARE TRANSACTION 'xa:order-77'");
    const before = await catalogFingerprint(sql, target);

    for (const strategy of ["swap", "in-place"] as const) {
      const e = { ...env, ctx: { ...env.ctx, restoreStrategy: strategy } };
      const preview = await previewRestore(e.ctx, id);
      expect(preview.plan?.strategy).toBe(strategy);
      const admin = decodeURIComponent(new URL(server.adminUrl).username);
      expect(preview.plan?.preparedTransactions?.map((t) => [t.gid, t.owner])).toEqual([["xa:order-77", admin]]);
      expect(preview.warnings.join("\n")).toMatch(/A transaction prepared for two-phase commit holds the target's database: 'xa:order-77' \(by \w+, prepared \d{4}-\d\d-\d\d .*UTC\).*ROLLBACK PREPARED/s);
      const { status, row } = await restore(e, id);
      expect(status).toBe("FAILED");
      expect(row.failureReason).toMatch(/two-phase commit.*COMMIT PREPARED or ROLLBACK PREPARED/s);
      // Refused before its safety backup ran.
      expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.safetyBackupId! } })).status).toBe("CANCELLED");
      expect(await catalogFingerprint(sql, target)).toEqual(before);
    }

    await sql(target, "ROLLBACK PREPARED 'xa:order-77'");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await sql(target, "SELECT count(*)::int AS n, min(amount) AS m FROM entries")).toEqual([{ n: 100, m: 1 }]);
  });

  it("a swap that meets one prepared after its check says so", async () => {
    const names = swapNames("ledger", "late");
    await createFreshDatabase(target, names);
    await sql(target, "BEGIN; INSERT INTO entries VALUES (2000, 1); PREPARE TRANSACTION 'xa:late'");
    try {
      const failed = await swapDatabases(target, names.live, names.fresh, names.previous, { attempts: 1 }).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(failed, failed ?? "").toMatch(/being accessed by other users: There is 1 prepared transaction using the database/);
      expect(await sql(server.adminUrl, "SELECT datname, datallowconn FROM pg_database WHERE datname = 'ledger'")).toEqual([{ datname: "ledger", datallowconn: true }]);
    } finally {
      await sql(target, "ROLLBACK PREPARED 'xa:late'");
      await dropDatabase(target, names.fresh);
    }
  });
});
