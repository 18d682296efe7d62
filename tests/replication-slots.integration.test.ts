// A database that publishes its changes through a logical replication slot, read by a real
// subscriber on the same server (decision 149). No restore can carry a slot: pg_dump archives
// the publication, never the slot, and a slot is bound to its database's OID. Before this
// decision the restore said nothing about it. After a swap the subscriber stopped with
// "replication slot … was not created in this database", and the slot stayed with the
// database set aside for Undo, keeping the server's WAL. After an in-place restore pgoutput
// stopped at the restore's transaction ("publication … does not exist"). Now the preview says
// so before and the restore's record after, naming the slots. Undo brings a swapped slot
// back, and dropping the set-aside database drops its slots.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { startPg, type PgServer } from "./support/pg";
import { fullBackup, restore } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { waitFor } from "./support/wait";
import { subscribe } from "./support/logical";
import { stopBosses } from "../lib/queue";
import { previewRestore } from "../lib/backup/preview";
import { dropExpiredPrevious, undoRestore } from "../lib/backup/restore";
import { swapNames, databaseOf, withDatabase } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";

afterAll(async () => {
  await stopBosses();
});

const slotsOn = (server: PgServer) =>
  sql<{ name: string; database: string; active: boolean }>(server.adminUrl, "SELECT slot_name AS name, database, active FROM pg_replication_slots ORDER BY 1");

describe.each(["swap", "in-place"] as const)("a database read by a logical replication subscriber (%s)", (strategy) => {
  let server: PgServer;
  let shop: string;
  let warehouse: string;
  let env: TestEnv;
  const replicated = async () => Number((await sql<{ n: string }>(warehouse, "SELECT count(*)::text AS n FROM orders"))[0].n);
  const rowsIn = async (url: string) => Number((await sql<{ n: string }>(url, "SELECT count(*)::text AS n FROM orders"))[0].n);

  beforeAll(async () => {
    server = await startPg({ label: `slots-${strategy}`, flags: ["-c", "wal_level=logical"] });
    await sql(server.adminUrl, "CREATE ROLE shop_owner");
    await sql(server.adminUrl, "CREATE DATABASE shop OWNER shop_owner");
    await sql(server.adminUrl, "CREATE DATABASE warehouse");
    shop = withDatabase(server.adminUrl, "shop");
    warehouse = withDatabase(server.adminUrl, "warehouse");
    await sql(
      shop,
      `SET ROLE shop_owner;
       CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL); INSERT INTO orders SELECT g, g * 10 FROM generate_series(1, 200) g;
       CREATE TABLE notes (id int PRIMARY KEY, body text);
       RESET ROLE;
       CREATE PUBLICATION orders_pub FOR TABLE orders;`,
    );
    // The subscriber's slot, and a change-data-capture pipeline's that nothing reads now.
    await sql(shop, "SELECT pg_create_logical_replication_slot('cdc_pipeline', 'pgoutput')");
    await sql(warehouse, "CREATE TABLE orders (id int PRIMARY KEY, total int NOT NULL)");
    await subscribe(server.adminUrl, { publisher: "shop", subscriber: "warehouse", publication: "orders_pub", name: "orders_feed" });
    await waitFor(async () => (await replicated()) === 200, 30_000, 200, "the subscriber's first copy");
    env = await makeEnv({ seed: false, overrides: { targetUrl: shop, restoreStrategy: strategy, restoreJobs: 2 } });
  }, 120_000);

  afterAll(async () => {
    await env?.cleanup();
    await server?.stop();
  });

  it("the preview names the slots; the restore is exact and its record says what became of them", async () => {
    const id = await fullBackup(env);
    const before = await catalogFingerprint(sql, shop);
    await sql(shop, "INSERT INTO orders VALUES (201, 2010)");
    await waitFor(async () => (await replicated()) === 201, 30_000, 200, "replication before the restore");

    const preview = await previewRestore(env.ctx, id);
    expect(preview.plan?.strategy).toBe(strategy);
    expect(preview.plan?.replicationSlots?.map((s) => [s.name, s.plugin, s.active])).toEqual([
      ["cdc_pipeline", "pgoutput", false],
      ["orders_feed", "pgoutput", true],
    ]);
    expect(preview.plan?.replicationSlots?.every((s) => s.retainedBytes !== null && s.retainedBytes >= 0)).toBe(true);
    const warned = preview.warnings.join("\n");
    expect(warned).toContain("logical replication slots cdc_pipeline (pgoutput), orders_feed (pgoutput, a consumer is reading it now)");
    expect(warned).toContain(strategy === "swap" ? "was not created in this database" : "publication … does not exist");

    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(await catalogFingerprint(sql, shop)).toEqual(before);
    expect(await rowsIn(shop)).toBe(200);
    const said = row.warnings.find((w) => w.startsWith("Logical replication slots cdc_pipeline, orders_feed"));
    expect(said, row.warnings.join("\n")).toBeDefined();

    // What the warnings claim: the subscriber no longer receives the live database's changes.
    await sql(shop, "INSERT INTO orders VALUES (500, 5000)");
    await new Promise((r) => setTimeout(r, 3000));
    expect(await replicated()).toBe(201);

    if (strategy === "swap") {
      const previous = swapNames(databaseOf(shop), row.id).previous;
      expect(said).toContain(`stayed with the previous database ${previous}`);
      expect((await slotsOn(server)).map((s) => [s.name, s.database])).toEqual([
        ["cdc_pipeline", previous],
        ["orders_feed", previous],
      ]);
      // Undo brings the slots back with the database, and the subscriber goes on from where it was.
      await undoRestore(env.ctx, row.id, SYSTEM, { confirm: "UNDO" });
      expect((await slotsOn(server)).map((s) => [s.name, s.database])).toEqual([
        ["cdc_pipeline", "shop"],
        ["orders_feed", "shop"],
      ]);
      await sql(shop, "INSERT INTO orders VALUES (202, 2020)");
      await waitFor(async () => (await replicated()) === 202, 30_000, 200, "replication after the undo");
    } else {
      expect(said).toContain("decoded the restore");
      expect((await slotsOn(server)).map((s) => [s.name, s.database])).toEqual([
        ["cdc_pipeline", "shop"],
        ["orders_feed", "shop"],
      ]);
    }
  });

  it.runIf(strategy === "swap")("dropping the database kept for Undo drops its slots, and the WAL they kept goes", async () => {
    const id = await fullBackup(env);
    const { status, row } = await restore(env, id);
    expect(status).toBe("SUCCEEDED");
    expect(row.previousDatabase).toBeTruthy();
    expect((await slotsOn(server)).map((s) => s.database)).toEqual([row.previousDatabase, row.previousDatabase]);
    const dropped = await dropExpiredPrevious(env.ctx, new Date(Date.now() + 1000 * 3600_000));
    expect(dropped).toContain(row.previousDatabase);
    expect(await slotsOn(server)).toEqual([]);
  });
});
