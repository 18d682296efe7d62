// A database restored by its own role, not a superuser, that grants to a reporting role it is
// no member of (decision 182) — the everyday setup: the application's role owns everything and
// gives a read-only role SELECT, a column, USAGE, a policy and default privileges. Every grant
// there is the owner's to make. The restore refused it all the same ("vl_gr_owner may not give
// objects to vl_gr_reader"): it asked for membership in every role the backup named, grantees
// included, where PostgreSQL asks it only of owners. And a grant passed on by a role that does
// not own the object (WITH GRANT OPTION), which pg_dump writes under SET SESSION AUTHORIZATION,
// was let through and failed the restore later; now the preview and the refusal name it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, makeEnv, sql, type TestEnv } from "./support/vitest-env";
import { urlAs } from "./support/pg";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { manifestCatalog } from "../lib/backup/catalog-snapshot";
import { keysForJob } from "../lib/backup/manifest";
import { databaseOf, swapNames } from "../lib/backup/swap";
import { stopBosses } from "../lib/queue";

const OWNER = "vl_gr_owner";
const READER = "vl_gr_reader";
const PASSER = "vl_gr_passer";
/** A hyphenated role, as many are named: PostgreSQL prints it quoted in an ACL. */
const ANALYST = "vl-gr-analyst";

const FIXTURE = `
CREATE EXTENSION citext;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, email citext NOT NULL UNIQUE, tenant text NOT NULL, notes text);
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com', 't' || (g % 3), 'note ' || g FROM generate_series(1, 3000) g;
CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers, total numeric(10,2));
INSERT INTO shop.orders (customer_id, total) SELECT 1 + g % 3000, g / 10.0 FROM generate_series(1, 20000) g;
CREATE VIEW shop.revenue AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
CREATE FUNCTION shop.order_count(c int) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM shop.orders WHERE customer_id = c $$;
ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY by_tenant ON shop.customers FOR SELECT TO ${READER} USING (tenant = 't1');
GRANT USAGE ON SCHEMA shop TO ${READER};
GRANT SELECT ON shop.orders, shop.revenue TO ${READER};
GRANT SELECT (id, email, tenant) ON shop.customers TO ${READER};
GRANT USAGE ON SEQUENCE shop.orders_id_seq TO ${READER};
GRANT EXECUTE ON FUNCTION shop.order_count(int) TO ${READER};
GRANT SELECT ON shop.orders TO "${ANALYST}";
REVOKE EXECUTE ON FUNCTION shop.order_count(int) FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO ${READER};
CREATE TABLE shop.refunds (id int PRIMARY KEY, order_id bigint REFERENCES shop.orders, amount numeric(10,2));`;

const LATER_MIGRATION = `
ALTER TABLE shop.customers ADD COLUMN tier text;
DELETE FROM shop.orders WHERE id % 5 = 0;
DROP VIEW shop.revenue;
REVOKE SELECT ON shop.orders FROM ${READER};
REVOKE SELECT (email) ON shop.customers FROM ${READER};
DROP POLICY by_tenant ON shop.customers;`;

afterAll(async () => {
  await stopBosses();
});

/** Each test role's password is its name and "-pw". */
const as = (url: string, user: string) => urlAs(url, user, `${user}-pw`);

describe("restored by the database's own role, which grants to a role it is no member of", () => {
  beforeAll(async () => {
    await sql(
      adminUrl(),
      [OWNER, READER, PASSER]
        .map((r) => `DO $$ BEGIN CREATE ROLE ${r} LOGIN PASSWORD '${r}-pw'; EXCEPTION WHEN duplicate_object THEN NULL; END $$`)
        .concat([
          `DO $$ BEGIN CREATE ROLE "${ANALYST}" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
          `ALTER ROLE ${OWNER} CREATEDB`,
          `GRANT pg_signal_backend TO ${OWNER}`,
        ])
        .join(";\n"),
    );
    const [{ member }] = await sql<{ member: boolean }>(adminUrl(), `SELECT pg_has_role('${OWNER}', '${READER}', 'MEMBER') AS member`);
    expect(member, "the owner must not be a member of the reader for this test to mean anything").toBe(false);
  });

  describe.each(["swap", "in-place"] as const)("%s", (strategy) => {
    let env: TestEnv;
    let ownerUrl: string;

    beforeAll(async () => {
      env = await makeEnv({ seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
      await sql(adminUrl(), `ALTER DATABASE "${databaseOf(env.targetUrl)}" OWNER TO ${OWNER}`);
      await sql(env.targetUrl, `ALTER SCHEMA public OWNER TO ${OWNER}`);
      ownerUrl = as(env.targetUrl, OWNER);
      env.ctx.targetUrl = ownerUrl;
      await sql(ownerUrl, FIXTURE);
    }, 120_000);
    afterAll(async () => {
      const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`]);
      for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      await env?.cleanup();
    });

    it("keeps owners and grants: exact, and the reader reads what it was given", async () => {
      const original = await catalogFingerprint(sql, env.targetUrl);
      const backupId = await fullBackup(env);
      // The manifest names the reader, but only as a grantee: the owner acts for itself alone.
      const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
      const catalog = manifestCatalog(JSON.parse((await env.ctx.storage.getBytes(keysForJob(env.ctx, job).manifest)).toString("utf8")) as object);
      // The hyphenated grantee by its name: before, by its quoted one, which no server has ("Role "vl-gr-analyst" … does not exist").
      expect(catalog?.roles).toEqual([ANALYST, OWNER, READER].sort());
      expect(catalog?.owners).toEqual([OWNER]);
      expect(catalog?.otherGrantors).toEqual([]);

      await sql(ownerUrl, LATER_MIGRATION);
      const preview = await previewRestore(env.ctx, backupId);
      expect(preview.plan?.ownership).toMatchObject({ canKeep: true, problems: [], reassignKeepsGrants: true });
      expect(preview.plan?.strategy).toBe(strategy);

      const { status, row } = await restore(env, backupId);
      expect(row.failureReason).toBeNull();
      expect(status).toBe("SUCCEEDED");
      expect(row.ownership).toBe("keep");
      expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(original);
      // The reader's grants and policy at work: its columns, its tenant, its function.
      const reader = as(env.targetUrl, READER);
      const [r] = await sql<{ n: string; o: string; c: string }>(
        reader,
        "SELECT (SELECT count(*) FROM shop.customers)::text AS n, (SELECT count(*) FROM shop.orders)::text AS o, shop.order_count(1)::text AS c",
      );
      expect(r).toEqual({ n: "1000", o: "20000", c: "6" });
      await expect(sql(reader, "SELECT notes FROM shop.customers LIMIT 1")).rejects.toThrow(/permission denied/);
    });

    it("a grant passed on by a role that does not own the object: named before anything runs, and nothing changes", async () => {
      await sql(adminUrl(), `GRANT ${PASSER} TO ${OWNER}`).catch(() => undefined);
      try {
        // The owner gives the passer SELECT with the grant option; the passer passes it on.
        await sql(ownerUrl, `GRANT USAGE ON SCHEMA shop TO ${PASSER}; GRANT SELECT ON shop.refunds TO ${PASSER} WITH GRANT OPTION`);
        await sql(as(env.targetUrl, PASSER), `GRANT SELECT ON shop.refunds TO ${READER}`);
        const backupId = await fullBackup(env);
        const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
        const catalog = manifestCatalog(JSON.parse((await env.ctx.storage.getBytes(keysForJob(env.ctx, job).manifest)).toString("utf8")) as object);
        expect(catalog?.otherGrantors).toEqual([PASSER]);
        await sql(ownerUrl, "DELETE FROM shop.orders WHERE id % 3 = 0");
        const now = await catalogFingerprint(sql, env.targetUrl);
        const words = `${PASSER} granted privileges on objects it does not own (passing on a grant option); pg_restore makes such a grant as its grantor (SET SESSION AUTHORIZATION), which only a superuser may: restore through a superuser's connection.`;
        // Being a member of the passer does not help: only a superuser may become another role.
        const preview = await previewRestore(env.ctx, backupId);
        expect(preview.plan?.ownership).toMatchObject({ canKeep: false, problems: [words], reassignKeepsGrants: false });
        expect(preview.warnings).toContain(
          `Owners and grants cannot be restored as they were: ${words} Choose "reassign" to give every object to Vaultline's role instead (without the backup's grants), or fix the roles first.`,
        );
        const { status, row } = await restore(env, backupId);
        expect(status).toBe("FAILED");
        expect(row.failureReason).toBe(
          `Owners and grants cannot be restored as they were: ${words} Fix the roles, or restore with ownership "reassign" to give every object to ${OWNER} (without the backup's grants). Nothing was changed.`,
        );
        expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(now);
        // Given to the owner instead, as offered: the rows are back, and no grant is made as another role.
        const reassigned = await restore(env, backupId, "reassign");
        expect(reassigned.row.failureReason).toBeNull();
        expect(reassigned.status).toBe("SUCCEEDED");
        const [g] = await sql<{ orders: string; reader: boolean; owners: string }>(
          env.targetUrl,
          `SELECT (SELECT count(*) FROM shop.orders)::text AS orders, has_table_privilege('${READER}', 'shop.refunds', 'SELECT') AS reader,
                  (SELECT string_agg(DISTINCT pg_get_userbyid(relowner)::text, ',') FROM pg_class WHERE relnamespace = 'shop'::regnamespace) AS owners`,
        );
        expect(g).toEqual({ orders: "20000", reader: false, owners: OWNER });
      } finally {
        await sql(env.targetUrl, `REVOKE SELECT ON shop.refunds FROM ${PASSER} CASCADE; REVOKE USAGE ON SCHEMA shop FROM ${PASSER}`);
        await sql(adminUrl(), `REVOKE ${PASSER} FROM ${OWNER}`);
      }
    });
  });
});
