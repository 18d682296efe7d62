// A database that subscribes to logical replication (decision 142). pg_dump archives its
// subscriptions disabled (connect = false, the slot named). In place, the archive's CREATE
// SUBSCRIPTION failed ("already exists") and the restore was rolled back; beside and swap,
// the previous database kept for Undo kept its subscription — replicating into it, holding
// the slot — and could never be dropped ("is being used by logical replication
// subscription", even WITH (FORCE)). Subscriptions here are made with connect = false: no
// publisher is reached.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { subscribe } from "./support/logical";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { stopBosses } from "../lib/queue";
import { databaseOf, dropDatabase, swapNames, withDatabase } from "../lib/backup/swap";
import { previewRestore } from "../lib/backup/preview";
import { undoRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";

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
    // Its publisher cannot be reached: the record says not to only ENABLE it (decision 150).
    expect(row.warnings.join("\n")).toContain(`Subscription ${sub} is disabled and its tables could not be registered again (`);

    if (strategy === "swap") {
      // Kept for Undo: its subscription disabled and without a slot, and the database can be dropped.
      const previous = withDatabase(env.targetUrl, row.previousDatabase!);
      expect(await subscriptions(previous)).toEqual([{ name: sub, enabled: false, slot: null, publications: ["orders_pub", "refunds_pub"] }]);
      await dropDatabase(env.targetUrl, row.previousDatabase!);
      expect(await sql(adminUrl(), "SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [row.previousDatabase])).toEqual([{ n: 0 }]);
    }
  });
});

// The same with a real publisher (decision 149's server, wal_level = logical): the
// subscription enabled and its apply worker connected while the restore runs. The restore
// ends the worker with the live database's other sessions; the subscription comes back
// disabled, its slot on the publisher kept, and enabling it goes on replicating into the
// restored database from where the slot was.
describe.each(["in-place", "swap"] as const)("a database replicating from a real publisher (%s)", (strategy) => {
  let server: PgServer;
  let source: string;
  let reporting: string;
  let env: TestEnv;
  const rows = async () => Number((await sql<{ n: string }>(reporting, "SELECT count(*)::text AS n FROM orders"))[0].n);

  beforeAll(async () => {
    server = await startPg({ label: `subscriber-${strategy}`, flags: ["-c", "wal_level=logical"] });
    await sql(server.adminUrl, "CREATE DATABASE source");
    await sql(server.adminUrl, "CREATE DATABASE reporting");
    source = withDatabase(server.adminUrl, "source");
    reporting = withDatabase(server.adminUrl, "reporting");
    await sql(source, "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL); INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g; CREATE PUBLICATION orders_pub FOR TABLE orders");
    await sql(reporting, "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL)");
    await subscribe(server.adminUrl, { publisher: "source", subscriber: "reporting", publication: "orders_pub", name: "reporting_feed" });
    await waitFor(async () => (await rows()) === 100, 30_000, 200, "the first copy");
    env = await makeEnv({ seed: false, overrides: { targetUrl: reporting, restoreStrategy: strategy, restoreJobs: 2 } });
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
    await server?.stop();
  });

  it("restores with the worker running; enabled again, the subscription replicates into the restored database; Undo hands its slot back", async () => {
    const id = await fullBackup(env);
    const before = await catalogFingerprint(sql, reporting);
    await sql(source, "INSERT INTO orders SELECT g, g FROM generate_series(101, 120) g");
    await waitFor(async () => (await rows()) === 120, 30_000, 200, "replication before the restore");

    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, reporting)).toEqual(before);
    expect(await rows()).toBe(100);
    expect(await subscriptions(reporting)).toEqual([{ name: "reporting_feed", enabled: false, slot: "reporting_feed", publications: ["orders_pub"] }]);
    // pg_dump recreated it without its tables; they are registered again, ready (decision 150).
    expect(await sql(reporting, "SELECT srrelid::regclass::text AS t, srsubstate AS s FROM pg_subscription_rel")).toEqual([{ t: "orders", s: "r" }]);
    expect(row.warnings.join("\n")).toContain("Subscription reporting_feed is disabled, with its tables registered again");

    // Stopped: the publisher's new rows wait in the slot.
    await sql(source, "INSERT INTO orders VALUES (121, 121)");
    await new Promise((r) => setTimeout(r, 2000));
    expect(await rows()).toBe(100);
    // Enabled, the subscription replays what the slot kept since it last confirmed (rows 121,
    // and nothing it had already applied before the restore).
    await sql(reporting, "ALTER SUBSCRIPTION reporting_feed ENABLE");
    await waitFor(async () => (await rows()) === 101, 30_000, 200, "replication after ENABLE");
    expect(await sql(reporting, "SELECT max(id) AS m FROM orders")).toEqual([{ m: 121 }]);

    if (strategy === "swap") {
      const previous = withDatabase(server.adminUrl, row.previousDatabase!);
      expect(await subscriptions(previous)).toEqual([{ name: "reporting_feed", enabled: false, slot: null, publications: ["orders_pub"] }]);
      // Undo: the database comes back with its slot handed back from the restored one,
      // disabled; enabled, it resumes from the slot (row 121 went to the restored database).
      await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" });
      expect(await rows()).toBe(120);
      expect(await subscriptions(reporting)).toEqual([{ name: "reporting_feed", enabled: false, slot: "reporting_feed", publications: ["orders_pub"] }]);
      const undone = withDatabase(server.adminUrl, swapNames("reporting", row.id).undone);
      expect(await subscriptions(undone)).toEqual([{ name: "reporting_feed", enabled: false, slot: null, publications: ["orders_pub"] }]);
      const after = await env.db.restoreJob.findUniqueOrThrow({ where: { id: row.id } });
      expect(after.warnings.join("\n")).toContain("Undo: subscription reporting_feed has its slot reporting_feed back and is disabled");
      await sql(source, "INSERT INTO orders VALUES (122, 122)");
      await sql(reporting, "ALTER SUBSCRIPTION reporting_feed ENABLE");
      await waitFor(async () => (await rows()) === 121, 30_000, 200, "replication after the undo");
      expect(await sql(reporting, "SELECT count(*)::int AS n FROM orders WHERE id = 121")).toEqual([{ n: 0 }]);
    }
  });
});
