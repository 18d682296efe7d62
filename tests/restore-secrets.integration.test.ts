// Secrets never reach a restore's reason, its audit entry or the log. pg_restore's failure
// echoes the statement that failed ("Command was: …"), and a user mapping's statement holds
// its password: `CREATE USER MAPPING FOR … SERVER … OPTIONS (password '…')`. A database
// reaching a reporting server through postgres_fdw, whose mapped role was dropped after the
// backup, made that statement the one that failed, and its password went into the restore's
// failure reason — shown in the UI, stored in the audit log and sent to every channel.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";

const SECRET = "Sup3r-S3cret-fdw";

describe.each(["swap", "in-place"] as const)("a %s restore that fails on a user mapping", (strategy) => {
  let env: TestEnv;
  const mapper = `fdw_mapper_${strategy.replace("-", "_")}`;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await sql(env.targetUrl, `DO $$ BEGIN CREATE ROLE ${mapper}; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await sql(
      env.targetUrl,
      `CREATE EXTENSION postgres_fdw;
       CREATE SERVER reporting FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'reporting.internal', dbname 'warehouse');
       CREATE USER MAPPING FOR ${mapper} SERVER reporting OPTIONS (password '${SECRET}');
       CREATE FOREIGN TABLE monthly_totals (month date, total numeric) SERVER reporting OPTIONS (schema_name 'public', table_name 'monthly_totals');
       CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);
       INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 200) g;`,
    );
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("says why without the mapping's password, in the record, the audit log and the restore's row", async () => {
    const backupId = await fullBackup(env);
    // After the backup: the mapped role is gone, so the archive's CREATE USER MAPPING fails.
    await sql(env.targetUrl, `DROP USER MAPPING FOR ${mapper} SERVER reporting; DROP ROLE ${mapper}`);
    const before = await catalogFingerprint(sql, env.targetUrl);
    const { status, row } = await restore(env, backupId);
    expect(status).toBe("FAILED");
    expect(row.failureReason).toMatch(new RegExp(`role "${mapper}" does not exist`));
    // pg_restore echoes the statement (its password masked); psql, in place, does not.
    if (strategy === "swap") expect(row.failureReason).toContain("password '***'");
    else expect(row.failureReason).toBe(`The restore failed: psql failed: role "${mapper}" does not exist. It ran in one transaction, which was rolled back: the database is exactly as it was.`);
    expect(JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).not.toContain(SECRET);
    const audits = await env.db.auditEvent.findMany({ where: { action: "restore.failed", target: backupId } });
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits)).not.toContain(SECRET);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
  });
});

afterAll(async () => {
  await stopBosses();
});
