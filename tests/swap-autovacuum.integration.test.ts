// A swap restore through the database's own role (not a superuser) while autovacuum works in
// the live database — as it does right after a bad migration deleted rows. The swap ended
// every session on the live database, autovacuum's worker (a superuser's process) included,
// and PostgreSQL refused: "must be a superuser to terminate superuser process" (seen in a CI
// run of tests/connection-room). ALTER DATABASE … RENAME ends autovacuum workers itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, sql, urlFor, waitFor } from "./support/vitest-env";
import { swapDatabases } from "../lib/backup/swap";

const OWNER = "vl_swap_av_owner";
const LIVE = "vl_swap_av_live";
const INCOMING = "vl_swap_av_incoming";
const OUTGOING = "vl_swap_av_outgoing";

const withUser = (url: string) => {
  const u = new URL(url);
  u.username = OWNER;
  u.password = "pw";
  return u.toString();
};

async function dropAll() {
  for (const db of [LIVE, INCOMING, OUTGOING]) await sql(adminUrl(), `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}

describe("a swap while autovacuum works in the live database", () => {
  beforeAll(async () => {
    await dropAll();
    await sql(adminUrl(), `DROP ROLE IF EXISTS ${OWNER}`);
    await sql(adminUrl(), `CREATE ROLE ${OWNER} LOGIN CREATEDB PASSWORD 'pw'; GRANT pg_signal_backend TO ${OWNER}`);
    await sql(adminUrl(), `CREATE DATABASE ${LIVE} OWNER ${OWNER}`);
    await sql(adminUrl(), `CREATE DATABASE ${INCOMING} OWNER ${OWNER}`);
    // Dead rows, and a vacuum throttled to a crawl: the worker stays in the database.
    await sql(
      withUser(urlFor(LIVE)),
      `CREATE TABLE t (id int PRIMARY KEY, pad text) WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
                                                          autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
       INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
       DELETE FROM t WHERE id % 2 = 0;`,
    );
  }, 60_000);

  afterAll(async () => {
    await dropAll();
    await sql(adminUrl(), `DROP ROLE IF EXISTS ${OWNER}`).catch(() => undefined);
  });

  it("renames the databases, autovacuum's worker left to PostgreSQL", async () => {
    // The launcher visits each database once per autovacuum_naptime (1 min by default).
    await waitFor(
      async () => (await sql<{ n: number }>(adminUrl(), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'autovacuum worker'", [LIVE]))[0].n > 0,
      150_000,
      500,
      "an autovacuum worker in the live database",
    );
    await swapDatabases(withUser(urlFor(LIVE)), LIVE, INCOMING, OUTGOING);
    const names = (await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE 'vl_swap_av_%' ORDER BY 1")).map((r) => r.datname);
    expect(names).toEqual([LIVE, OUTGOING]);
    // The table went with the old database; the new live one is the incoming (empty) one.
    expect(await sql(withUser(urlFor(OUTGOING)), "SELECT count(*)::int AS n FROM t")).toEqual([{ n: 10000 }]);
  }, 200_000);
});
