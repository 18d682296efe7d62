// An in-place restore pipes pg_restore's script into psql. psql prints a result for each
// lo_create (and each setval): nobody read it, so once ~200 KB of results filled the pipe
// psql stopped, pg_restore stopped behind it, and the restore hung for good inside its open
// transaction, the tables locked (decision 139). Measured: 20,000 large objects hung at
// lo_create number ~8,000. 8,000 large objects and 3,000 sequences here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { fullBackup, restore } from "./support/restore-steps";
import { stopBosses } from "../lib/queue";

const LARGE_OBJECTS = 8000;
const SEQUENCES = 3000;

const state = async (url: string) =>
  (
    await sql<{ n: number; h: string; s: string }>(
      url,
      `SELECT (SELECT count(*)::int FROM pg_largeobject_metadata) AS n,
              (SELECT md5(string_agg(oid::text || ':' || encode(lo_get(oid), 'hex'), ',' ORDER BY oid)) FROM pg_largeobject_metadata) AS h,
              (SELECT md5(string_agg(sequencename || ':' || coalesce(last_value, 0), ',' ORDER BY sequencename)) FROM pg_sequences WHERE schemaname = 'public') AS s`,
    )
  )[0];

afterAll(async () => {
  await stopBosses();
});

describe("an in-place restore of a database with thousands of large objects and sequences", () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "in-place" } });
    await sql(
      env.targetUrl,
      `CREATE TABLE docs (id int PRIMARY KEY, body oid);
       INSERT INTO docs SELECT g, lo_from_bytea(0, convert_to('document ' || g, 'UTF8')) FROM generate_series(1, ${LARGE_OBJECTS}) g;
       DO $$ BEGIN FOR i IN 1..${SEQUENCES} LOOP EXECUTE format('CREATE SEQUENCE counter_%s START %s', i, i); PERFORM nextval(format('counter_%s', i)); END LOOP; END $$;`,
    );
  }, 300_000);

  afterAll(async () => {
    await env.cleanup();
  });

  it("ends, and brings back every large object and sequence value", async () => {
    const before = await state(env.targetUrl);
    expect(before.n).toBe(LARGE_OBJECTS);
    const id = await fullBackup(env);
    await sql(env.targetUrl, "SELECT lo_unlink(body) FROM docs WHERE id % 2 = 0; SELECT setval('counter_1', 999);");
    expect((await state(env.targetUrl)).n).toBe(LARGE_OBJECTS / 2);
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("in-place");
    expect(await state(env.targetUrl)).toEqual(before);
  }, 180_000);
});
