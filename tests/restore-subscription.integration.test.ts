// A database that subscribes to logical replication (decision 142). pg_dump archives its
// subscriptions disabled (connect = false, the slot named). In place, the archive's CREATE
// SUBSCRIPTION failed ("already exists") and the restore was rolled back; beside and swap,
// the previous database kept for Undo kept its subscription — replicating into it, holding
// the slot — and could never be dropped ("is being used by logical replication
// subscription", even WITH (FORCE)). Subscriptions here are made with connect = false: no
// publisher is reached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { databaseOf, dropDatabase, swapNames, withDatabase } from "../lib/backup/swap";
import { previewRestore } from "../lib/backup/preview";

const subscriptions = (url: string) =>
  sql<{ name: string; enabled: boolean; slot: string | null; publications: string[] }>(
    url,
    `SELECT subname AS name, subenabled AS enabled, subslotname AS slot, subpublications AS publications
       FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY 1`,
  );

afterAll(async () => {
  await stopBosses();
});

describe.each(["in-place", "swap"] as const)("a database with a logical replication subscription (%s)", (strategy) => {
  let env: TestEnv;
  const sub = `orders_feed_${strategy.replace("-", "_")}`;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await sql(env.targetUrl, `CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;`);
    await sql(env.targetUrl, `CREATE SUBSCRIPTION ${sub} CONNECTION 'host=127.0.0.1 dbname=warehouse' PUBLICATION orders_pub, refunds_pub WITH (connect = false)`);
  });

  afterAll(async () => {
    const names = swapNames(databaseOf(env.targetUrl), "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await dropDatabase(env.targetUrl, datname);
    await dropDatabase(env.targetUrl, databaseOf(env.targetUrl));
    await env.cleanup();
  });

  it("the preview says replication stays stopped; the restore is exact and the subscription comes back disabled", async () => {
    const before = await catalogFingerprint(sql, env.targetUrl);
    const subsBefore = await subscriptions(env.targetUrl);
    expect(subsBefore).toEqual([{ name: sub, enabled: false, slot: sub, publications: ["orders_pub", "refunds_pub"] }]);
    const id = await fullBackup(env);

    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan!.subscriptions).toEqual([sub]);
    expect(preview.warnings.join("\n")).toContain(`This database subscribes to logical replication (${sub}): after the restore the subscription is disabled`);

    await sql(env.targetUrl, "DELETE FROM orders WHERE id > 50");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
    expect(await subscriptions(env.targetUrl)).toEqual(subsBefore);

    if (strategy === "swap") {
      // Kept for Undo: its subscription disabled and without a slot, and the database can be dropped.
      const previous = withDatabase(env.targetUrl, row.previousDatabase!);
      expect(await subscriptions(previous)).toEqual([{ name: sub, enabled: false, slot: null, publications: ["orders_pub", "refunds_pub"] }]);
      await dropDatabase(env.targetUrl, row.previousDatabase!);
      expect(await sql(adminUrl(), "SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [row.previousDatabase])).toEqual([{ n: 0 }]);
    }
  });
});
