// A database's own settings (ALTER DATABASE … SET) are the live database's state, carried to
// the restored copy, but they must not shape the restore itself: a database read-only by
// default is restored like any other, on both strategies, and keeps its settings.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { stopBosses } from "../lib/queue";

const settings = async (env: TestEnv) =>
  (
    await sql<{ s: string }>(
      env.targetUrl,
      `SELECT s.setrole::regrole::text || ':' || array_to_string(s.setconfig, ',') AS s
         FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database() ORDER BY 1`,
    )
  ).map((r) => r.s);

describe.each(["swap", "in-place"] as const)("a %s restore of a database with settings of its own", (strategy) => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    const db = decodeURIComponent(new URL(env.targetUrl).pathname.slice(1));
    await sql(env.targetUrl, `CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 100) g;`);
    await sql(env.targetUrl, `ALTER DATABASE "${db}" SET default_transaction_read_only = on; ALTER DATABASE "${db}" SET work_mem = '5MB'`);
  });

  afterAll(async () => {
    await env.cleanup();
  });

  it("restores a database that is read-only by default, and keeps that setting", async () => {
    const before = await settings(env);
    expect(before).toEqual(["-:default_transaction_read_only=on,work_mem=5MB"]);
    const backupId = await fullBackup(env);
    await sql(env.targetUrl, "BEGIN READ WRITE; DELETE FROM notes WHERE id > 50; COMMIT");
    const { status, row } = await restore(env, backupId);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(await sql(env.targetUrl, "SELECT count(*)::int AS n FROM notes")).toEqual([{ n: 100 }]);
    expect(await settings(env)).toEqual(before);
  });
});

afterAll(async () => {
  await stopBosses();
});
