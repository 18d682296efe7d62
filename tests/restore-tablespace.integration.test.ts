// A database in a tablespace of its own (its data on another disk). The swap restore made its
// fresh copy in pg_default: the restored database, and every object of it without a
// tablespace of its own, moved to the server's default disk (decision 140). Now the copy is
// made in the live database's tablespace; a role that may not create there is told so by
// the preview, which plans in place. Needs the server on this machine and root (to give the
// tablespace's directory to the server's user); skipped otherwise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRoleOnce } from "./support/app-fixture";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { makeTablespace, type TestTablespace } from "./support/tablespace";
import { fullBackup, restore } from "./support/restore-steps";
import { stopBosses } from "../lib/queue";
import { databaseOf, swapNames } from "../lib/backup/swap";
import { previewRestore } from "../lib/backup/preview";
import { testTargetConnection } from "../lib/backup/target-test";

const TABLESPACE = "vl_test_elsewhere";
const OWNER = "vl_tablespace_owner";
const isRoot = process.getuid?.() === 0;

/** Where the database and each of its relations are: the database's tablespace, and each relation's own (or none). */
const placement = async (url: string) => ({
  database: (await sql<{ t: string }>(url, "SELECT t.spcname AS t FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = current_database()"))[0].t,
  relations: await sql(
    url,
    "SELECT c.relname AS rel, coalesce(t.spcname, '-') AS own FROM pg_class c LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1",
  ),
});

afterAll(async () => {
  await stopBosses();
});

describe.skipIf(!isRoot)("a database in a tablespace of its own", () => {
  let env: TestEnv;
  let db: string;
  let space: TestTablespace;

  beforeAll(async () => {
    space = await makeTablespace(adminUrl(), TABLESPACE);
    await createRoleOnce(sql, adminUrl(), `CREATE ROLE ${OWNER} LOGIN CREATEDB PASSWORD 'tablespace-owner-pw-1'`);
    env = await makeEnv({ seed: false, overrides: { restoreStrategy: "swap", restoreJobs: 2 } });
    db = databaseOf(env.targetUrl);
    await sql(adminUrl(), `ALTER DATABASE "${db}" SET TABLESPACE ${TABLESPACE}`);
    await sql(adminUrl(), `ALTER DATABASE "${db}" OWNER TO ${OWNER}`);
    await sql(
      env.targetUrl,
      `CREATE TABLE orders (id int PRIMARY KEY, total int); INSERT INTO orders SELECT g, g * 3 FROM generate_series(1, 1000) g;
       CREATE TABLE archive (id int) TABLESPACE pg_default; INSERT INTO archive SELECT generate_series(1, 100);
       CREATE INDEX archive_id ON archive (id) TABLESPACE ${TABLESPACE};`,
    );
  });

  afterAll(async () => {
    const names = swapNames(db, "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env?.cleanup();
    await space?.drop();
  });

  it("the swap restore's database is where the live one was, and each relation where it was", async () => {
    const before = await placement(env.targetUrl);
    expect(before).toEqual({
      database: TABLESPACE,
      relations: [
        { rel: "archive", own: "pg_default" },
        { rel: "archive_id", own: "-" },
        { rel: "orders", own: "-" },
        { rel: "orders_pkey", own: "-" },
      ],
    });
    const id = await fullBackup(env);
    await sql(env.targetUrl, "DELETE FROM orders WHERE id > 500");
    const { status, row } = await restore(env, id);
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe("swap");
    expect(await placement(env.targetUrl)).toEqual(before);
    expect(await sql(env.targetUrl, "SELECT count(*)::int AS n FROM orders")).toEqual([{ n: 1000 }]);
  });

  it("through the owner without CREATE on the tablespace: the preview plans in place and names the grant", async () => {
    const asOwner = new URL(env.targetUrl);
    asOwner.username = OWNER;
    asOwner.password = "tablespace-owner-pw-1";
    const id = await fullBackup(env);
    env.ctx.targetUrl = asOwner.toString();
    try {
      const preview = await previewRestore(env.ctx, id);
      expect(preview.plan!.strategy).toBe("in-place");
      expect(preview.plan!.strategyReason).toContain(`${OWNER} may not create a database in ${db}'s tablespace ${TABLESPACE} (GRANT CREATE ON TABLESPACE "${TABLESPACE}" TO "${OWNER}";)`);
      const check = (await testTargetConnection(asOwner.toString())).reasons.find((r) => r.check === "swap.tablespace");
      expect(check).toMatchObject({ ok: false, grant: `GRANT CREATE ON TABLESPACE "${TABLESPACE}" TO "${OWNER}";` });
      await sql(adminUrl(), `GRANT CREATE ON TABLESPACE ${TABLESPACE} TO ${OWNER}`);
      expect((await previewRestore(env.ctx, id)).plan!.strategy).toBe("swap");
    } finally {
      env.ctx.targetUrl = env.targetUrl;
      await sql(adminUrl(), `REVOKE ALL ON TABLESPACE ${TABLESPACE} FROM ${OWNER}`);
    }
  });
});
