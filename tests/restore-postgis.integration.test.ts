// A database like a mapping application's, on PostGIS — the extension the embedded server
// cannot load, so on Debian's own PostgreSQL 15 with postgresql-15-postgis-3 (decision 182):
// owned by its role, geometry and geography columns with type modifiers and an SRID of its
// own in spatial_ref_sys (an extension's configuration table, whose added rows pg_dump keeps),
// GiST indexes, a partitioned table, a view, a materialized view and an SQL function over
// PostGIS's functions, grants to a reader. Migrated after the backup (a column, a view, an
// index, rows, a second SRID added and the first removed), then restored on both strategies:
// by a superuser, exact by the catalogue-and-data fingerprint; by the database's owner, which
// may not create PostGIS, warned by the preview and refused with nothing changed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "./support/vitest-env";
import { backupEnv, type TestEnv } from "./support/backup-env";
import { debianPgWith, startDebianPg } from "./support/debian-pg";
import { urlAs, type PgServer } from "./support/pg";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { fullBackup, restore } from "./support/restore-steps";
import { previewRestore } from "../lib/backup/preview";
import { databaseOf } from "../lib/backup/swap";
import { stopBosses } from "../lib/queue";

const OWNER = "geo_app";
const OWNER_PASSWORD = "geo-app-password-1";

const ROLES = `
CREATE ROLE ${OWNER} LOGIN CREATEDB PASSWORD '${OWNER_PASSWORD}';
CREATE ROLE geo_reader NOLOGIN;`;

// Run by the superuser in the new database; the application's objects are made as its role.
const FIXTURE = `
CREATE EXTENSION postgis;
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text, srtext)
  VALUES (990001, 'site', 990001, '+proj=longlat +datum=WGS84 +no_defs', 'GEOGCS["site grid"]');
CREATE SCHEMA geo AUTHORIZATION ${OWNER};
SET ROLE ${OWNER};
CREATE TABLE geo.places (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  area geography(Polygon, 4326),
  site geometry(Point, 990001)
);
CREATE INDEX places_geom ON geo.places USING gist (geom);
CREATE INDEX places_area ON geo.places USING gist (area);
INSERT INTO geo.places (name, geom, area, site)
  SELECT 'place ' || g,
         ST_SetSRID(ST_MakePoint(g % 360 - 180, g % 170 - 85), 4326),
         CASE WHEN g % 10 = 0 THEN ST_Buffer(ST_SetSRID(ST_MakePoint(g % 300 - 150, g % 160 - 80), 4326)::geography, 1000)::geography END,
         ST_SetSRID(ST_MakePoint(g % 100, g % 50), 990001)
    FROM generate_series(1, 40000) g;
CREATE TABLE geo.readings (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at timestamptz NOT NULL,
  spot geometry(Point, 4326),
  value double precision,
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE geo.readings_2026_11 PARTITION OF geo.readings FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE geo.readings_2026_12 PARTITION OF geo.readings FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE INDEX readings_spot ON geo.readings USING gist (spot);
INSERT INTO geo.readings (at, spot, value)
  SELECT '2026-11-20'::timestamptz + (g || ' minutes')::interval, ST_SetSRID(ST_MakePoint(g % 90, g % 45), 4326), g / 7.0
    FROM generate_series(1, 20000) g;
CREATE VIEW geo.near_origin AS
  SELECT id, name, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(0, 0), 4326)::geography) AS metres
    FROM geo.places WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(0, 0), 4326), 10);
CREATE MATERIALIZED VIEW geo.extent AS SELECT ST_Extent(geom) AS box, count(*) AS n FROM geo.places;
CREATE FUNCTION geo.places_within(lon float8, lat float8, km float8) RETURNS SETOF geo.places LANGUAGE sql STABLE AS $f$
  SELECT * FROM geo.places WHERE ST_DWithin(geom::geography, ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography, km * 1000)
$f$;
GRANT USAGE ON SCHEMA geo TO geo_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA geo TO geo_reader;
RESET ROLE;`;

const LATER_MIGRATION = `
SET ROLE ${OWNER};
ALTER TABLE geo.places ADD COLUMN rating int;
DELETE FROM geo.places WHERE id % 7 = 0;
UPDATE geo.places SET geom = ST_SetSRID(ST_MakePoint(1, 1), 4326) WHERE id % 11 = 0;
DROP VIEW geo.near_origin;
CREATE VIEW geo.rated AS SELECT id, rating FROM geo.places WHERE rating IS NOT NULL;
DROP INDEX geo.places_area;
REVOKE SELECT ON geo.readings FROM geo_reader;
RESET ROLE;
DELETE FROM spatial_ref_sys WHERE srid = 990001;
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text, srtext)
  VALUES (990002, 'site', 990002, '+proj=longlat +datum=WGS84 +no_defs', 'GEOGCS["other grid"]');`;

/** What the application asks of its data, answered by PostGIS's functions. */
async function answers(url: string) {
  const [r] = await sql<{ near: string; box: string; srids: string; version: string }>(
    url,
    `SELECT (SELECT count(*) FROM geo.places_within(10, 10, 500))::text AS near,
            (SELECT ST_AsText(box::geometry) || ' ' || n FROM geo.extent) AS box,
            (SELECT string_agg(srid || ' ' || srtext, ', ' ORDER BY srid) FROM spatial_ref_sys WHERE srid >= 990000) AS srids,
            (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS version`,
  );
  return r;
}

const asOwner = (url: string) => urlAs(url, OWNER, OWNER_PASSWORD);

const canRun = debianPgWith("postgis");

describe.skipIf(!canRun)("a PostGIS database (Debian's PostgreSQL 15 with postgresql-15-postgis-3)", () => {
  let server: PgServer;

  beforeAll(async () => {
    server = await startDebianPg();
    await sql(server.adminUrl, ROLES);
  }, 120_000);
  afterAll(async () => {
    await stopBosses();
    await server?.stop();
  });

  /** A target on the Debian server built from the fixture, backed up, then migrated. */
  async function migratedAfterBackup(strategy: "swap" | "in-place") {
    const env = await backupEnv(server, { seed: false, overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
    await sql(env.targetUrl, FIXTURE);
    await sql(server.adminUrl, `ALTER DATABASE "${databaseOf(env.targetUrl)}" OWNER TO ${OWNER}`);
    const original = await catalogFingerprint(sql, env.targetUrl);
    const before = await answers(env.targetUrl);
    const backupId = await fullBackup(env);
    await sql(env.targetUrl, LATER_MIGRATION);
    return { env, original, before, backupId };
  }

  async function done(env: TestEnv) {
    await stopBosses();
    await env.cleanup();
  }

  describe.each(["swap", "in-place"] as const)("%s", (strategy) => {
    it("restored through a superuser's connection: exact, the site's own SRID back, the other gone, and the application's queries answer as before", async () => {
      const { env, original, before, backupId } = await migratedAfterBackup(strategy);
      try {
        expect(before.srids).toBe('990001 GEOGCS["site grid"]');
        const changed = await answers(env.targetUrl);
        expect(changed.srids, "the migration changed what this test checks").toBe('990002 GEOGCS["other grid"]');
        const preview = await previewRestore(env.ctx, backupId);
        expect(preview.warnings.join("\n")).not.toMatch(/superuser/);

        const { status, row } = await restore(env, backupId);
        expect(row.failureReason).toBeNull();
        expect(status).toBe("SUCCEEDED");
        expect(row.strategy).toBe(strategy);
        expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(original);
        expect(await answers(env.targetUrl)).toEqual(before);
        // The owner goes on writing geometries, in the site's own SRID too.
        await sql(
          asOwner(env.targetUrl),
          "INSERT INTO geo.places (name, geom, site) VALUES ('after', ST_SetSRID(ST_MakePoint(2, 2), 4326), ST_SetSRID(ST_MakePoint(3, 3), 990001))",
        );
      } finally {
        await done(env);
      }
    });

    it("restored through the owner's connection, which may not create PostGIS: the preview says so, the restore is refused, nothing changes", async () => {
      const { env, backupId } = await migratedAfterBackup(strategy);
      try {
        (env.ctx as { targetUrl: string }).targetUrl = asOwner(env.targetUrl);
        const now = await catalogFingerprint(sql, env.targetUrl);
        const preview = await previewRestore(env.ctx, backupId);
        expect(preview.warnings).toContain(
          `The backup holds an object only a superuser may create (extension postgis), and Vaultline connects to this target as ${OWNER}, which is not a superuser: the restore will fail on it and change nothing. Restore through a superuser's connection to this target.`,
        );
        // Refused before the safety backup (decision 209): it failed at pg_restore's
        // "permission denied to create extension "postgis"", after the safety backup and the load.
        const words = `The backup's database uses an extension only a superuser may create (postgis), and Vaultline connects to this target as ${OWNER}, which is not one: every restore makes it again, and PostgreSQL would refuse. Restore through a superuser's connection to this target`;
        expect(preview.untrustedExtensions).toEqual(["postgis"]);
        expect(preview.warnings).toContain(`${words}. Until then the restore refuses to run.`);
        const safetyBefore = await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } });
        const { status, row } = await restore(env, backupId);
        expect(status).toBe("FAILED");
        expect(row.failureReason).toBe(`${words}. Nothing was changed.`);
        expect(await env.db.backupJob.count({ where: { trigger: "PRE_RESTORE", status: "SUCCEEDED" } })).toBe(safetyBefore);
        expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(now);
        expect((await answers(env.targetUrl)).srids).toBe('990002 GEOGCS["other grid"]');
      } finally {
        await done(env);
      }
    });
  });
});
