// A partitioned index left invalid by two attachments run side by side (decision 130, fault
// 4) is made valid before a swap restore's copy is checked; one that is invalid for a reason
// (a partition without an attached index) is left as it is.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { repairPartitionedIndexes } from "../lib/backup/restore-plan";

let url: string;

const validity = async () =>
  Object.fromEntries(
    (
      await sql<{ name: string; valid: boolean }>(
        url,
        `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'shop'`,
      )
    ).map((r) => [r.name, r.valid]),
  );

beforeAll(async () => {
  url = await createDatabase("pidx");
  // "shop"."top" → mid (itself partitioned) → leaf, and other; "shop"."half": one partition
  // has no index attached, so its partitioned index is rightly invalid.
  await sql(
    url,
    `CREATE SCHEMA shop;
     CREATE TABLE shop.top (id int, region text, at int) PARTITION BY LIST (region);
     CREATE TABLE shop.mid PARTITION OF shop.top FOR VALUES IN ('eu') PARTITION BY RANGE (at);
     CREATE TABLE shop.leaf PARTITION OF shop.mid FOR VALUES FROM (0) TO (100);
     CREATE TABLE shop.other PARTITION OF shop.top FOR VALUES IN ('us');
     CREATE UNIQUE INDEX top_key ON ONLY shop.top (id, region, at);
     CREATE UNIQUE INDEX mid_key ON ONLY shop.mid (id, region, at);
     CREATE UNIQUE INDEX leaf_key ON shop.leaf (id, region, at);
     CREATE UNIQUE INDEX other_key ON shop.other (id, region, at);
     ALTER INDEX shop.top_key ATTACH PARTITION shop.mid_key;
     CREATE TABLE shop.half (id int, k int) PARTITION BY LIST (k);
     CREATE TABLE shop.half_1 PARTITION OF shop.half FOR VALUES IN (1);
     CREATE TABLE shop.half_2 PARTITION OF shop.half FOR VALUES IN (2);
     CREATE INDEX half_idx ON ONLY shop.half (id);
     CREATE INDEX half_1_idx ON shop.half_1 (id);
     ALTER INDEX shop.half_idx ATTACH PARTITION shop.half_1_idx;`,
  );
  // What pg_restore --jobs did: the last leaf attached to the middle index in one session
  // while the sibling is attached to the top in another; neither sees the other's work.
  const a = new pg.Client({ connectionString: url });
  const b = new pg.Client({ connectionString: url });
  await a.connect();
  await b.connect();
  try {
    await a.query("BEGIN");
    await b.query("BEGIN");
    await a.query("ALTER INDEX shop.mid_key ATTACH PARTITION shop.leaf_key");
    await b.query("SET LOCAL lock_timeout = '10s'");
    await b.query("ALTER INDEX shop.top_key ATTACH PARTITION shop.other_key");
    await a.query("COMMIT");
    await b.query("COMMIT");
  } finally {
    await a.end();
    await b.end();
  }
});

afterAll(async () => {
  await dropDatabase(url);
});

describe("repairPartitionedIndexes", () => {
  it("validates the index the side-by-side attachments left invalid, and only it", async () => {
    // The state the race leaves: every index below the top is valid and attached, the top is not.
    expect(await validity()).toEqual({ top_key: false, mid_key: true, leaf_key: true, other_key: true, half_idx: false, half_1_idx: true });
    expect(await repairPartitionedIndexes(url)).toEqual(["shop.top_key"]);
    expect(await validity()).toEqual({ top_key: true, mid_key: true, leaf_key: true, other_key: true, half_idx: false, half_1_idx: true });
    // Nothing left to do: a second call changes nothing.
    expect(await repairPartitionedIndexes(url)).toEqual([]);
  });
});
