// A database as an ORM and a managed host make them: every name one that must be quoted.
// Prisma writes "User", "createdAt", "_PostToTag"("A", "B") and "_prisma_migrations"; hosts
// and teams name databases "Shop-Prod" and roles "shop-app"; reports go to a role named
// "Report Reader"; an ETL role is "etl.loader". Owned by "shop-app" (not a superuser), with
// "uuid-ossp" and citext, a schema "Billing" with row-level security, a policy, a trigger and
// a view whose names hold spaces, a partitioned "Event" with a DEFAULT partition, a
// materialized view, column grants, default privileges, a large object with a grant,
// database and role-in-database settings whose values hold quotes and semicolons, and
// comments with quotes and newlines. The test built on it: tests/restore-quoted-names.
import { createRoleOnce, type Exec } from "./app-fixture";
import { urlAs } from "./pg";

export const OWNER = "shop-app";
export const OWNER_PASSWORD = "shop-app-password-1";
export const REPORTER = "Report Reader";
export const LOADER = "etl.loader";
/** The large object's OID (dumps keep large object OIDs). */
export const PRISMA_LO_OID = 525252;

export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function ensurePrismaRoles(exec: Exec, adminUrl: string): Promise<void> {
  // CREATEDB and pg_signal_backend, as a managed server's application role has them: a swap
  // through it makes the fresh database and ends the sessions on the live one.
  await createRoleOnce(exec, adminUrl, `CREATE ROLE ${q(OWNER)} LOGIN CREATEDB PASSWORD '${OWNER_PASSWORD}'`);
  await exec(adminUrl, `GRANT pg_signal_backend TO ${q(OWNER)}`);
  await createRoleOnce(exec, adminUrl, `CREATE ROLE ${q(REPORTER)} NOLOGIN`);
  await createRoleOnce(exec, adminUrl, `CREATE ROLE ${q(LOADER)} LOGIN CONNECTION LIMIT 3`);
}

/** Run as the superuser on an empty database. */
export function prismaSuperuserSetup(dbName: string): string {
  return `
    ALTER DATABASE ${q(dbName)} OWNER TO ${q(OWNER)};
    ALTER SCHEMA public OWNER TO ${q(OWNER)};
    CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
    CREATE EXTENSION IF NOT EXISTS citext;
    ALTER DATABASE ${q(dbName)} SET app.greeting = 'it''s; "quoted"';
    ALTER ROLE ${q(OWNER)} IN DATABASE ${q(dbName)} SET search_path = "$user", public, "Billing";
    ALTER ROLE ${q(REPORTER)} IN DATABASE ${q(dbName)} SET statement_timeout = '17s';
    COMMENT ON DATABASE ${q(dbName)} IS 'Prisma''s "shop"; live';
    GRANT CONNECT, TEMPORARY ON DATABASE ${q(dbName)} TO ${q(REPORTER)};
    GRANT CONNECT ON DATABASE ${q(dbName)} TO ${q(LOADER)};
  `;
}

/** Run as the owner: what `prisma migrate deploy` and the app made. */
export const PRISMA_SCHEMA_SQL = `
  CREATE TABLE "_prisma_migrations" (
    id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz,
    migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz,
    started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count int NOT NULL DEFAULT 0
  );
  INSERT INTO "_prisma_migrations" VALUES ('5d0b4f2e-0000-4000-8000-000000000001', 'c0ffee', '2026-01-01', '20260101000000_init', NULL, NULL, '2026-01-01', 1);
  CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');
  CREATE TABLE "User" (
    id SERIAL PRIMARY KEY,
    email CITEXT NOT NULL,
    "displayName" TEXT,
    role "Role" NOT NULL DEFAULT 'USER',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "apiKey" UUID NOT NULL DEFAULT uuid_generate_v4()
  );
  CREATE UNIQUE INDEX "User_email_key" ON "User"(email);
  COMMENT ON TABLE "User" IS 'People; "customers" too';
  COMMENT ON COLUMN "User"."displayName" IS E'shown\\nin the header';
  CREATE TABLE "Post" (id TEXT PRIMARY KEY, "authorId" INT NOT NULL, title TEXT NOT NULL, body TEXT, "publishedAt" TIMESTAMP(3));
  ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"(id) ON DELETE RESTRICT ON UPDATE CASCADE;
  CREATE INDEX "Post_authorId_publishedAt_idx" ON "Post"("authorId", "publishedAt" DESC);
  CREATE TABLE "Tag" (id SERIAL PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE "_PostToTag" ("A" TEXT NOT NULL REFERENCES "Post"(id) ON DELETE CASCADE ON UPDATE CASCADE, "B" INT NOT NULL REFERENCES "Tag"(id) ON DELETE CASCADE ON UPDATE CASCADE);
  CREATE UNIQUE INDEX "_PostToTag_AB_unique" ON "_PostToTag"("A", "B");
  CREATE INDEX "_PostToTag_B_index" ON "_PostToTag"("B");

  CREATE SCHEMA "Billing";
  CREATE TABLE "Billing"."Invoice" (
    id BIGSERIAL PRIMARY KEY,
    "userId" INT NOT NULL REFERENCES public."User"(id),
    "amountCents" BIGINT NOT NULL CONSTRAINT "amount is not negative" CHECK ("amountCents" >= 0),
    "issuedOn" DATE NOT NULL,
    tenant TEXT NOT NULL DEFAULT 'eu-west',
    "updatedAt" TIMESTAMPTZ
  );
  ALTER TABLE "Billing"."Invoice" ENABLE ROW LEVEL SECURITY;
  CREATE POLICY "Tenant sees its own" ON "Billing"."Invoice" TO "Report Reader" USING (tenant = current_setting('app.tenant', true));
  CREATE FUNCTION "Billing"."touchUpdatedAt"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."updatedAt" := '2026-01-01'; RETURN NEW; END $$;
  CREATE TRIGGER "Invoice touch" BEFORE UPDATE ON "Billing"."Invoice" FOR EACH ROW EXECUTE FUNCTION "Billing"."touchUpdatedAt"();
  CREATE VIEW "Billing"."Monthly Revenue" AS SELECT date_trunc('month', "issuedOn") AS month, sum("amountCents") AS cents FROM "Billing"."Invoice" GROUP BY 1;

  CREATE TABLE "Event" (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    "occurredAt" TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    payload JSONB,
    PRIMARY KEY (id, "occurredAt")
  ) PARTITION BY RANGE ("occurredAt");
  CREATE TABLE "Event_2026-H1" PARTITION OF "Event" FOR VALUES FROM ('2026-01-01 00:00Z') TO ('2026-07-01 00:00Z');
  CREATE TABLE "Event_2026-H2" PARTITION OF "Event" FOR VALUES FROM ('2026-07-01 00:00Z') TO ('2027-01-01 00:00Z');
  CREATE TABLE "Event default" PARTITION OF "Event" DEFAULT;
  CREATE INDEX "Event_kind_idx" ON "Event"(kind);

  INSERT INTO "User" (email, "displayName", role, "createdAt")
    SELECT 'user' || g || '@Example.com', 'User «' || g || '»', (CASE WHEN g % 50 = 0 THEN 'ADMIN' ELSE 'USER' END)::"Role", TIMESTAMP '2026-01-01' + g * interval '1 minute'
      FROM generate_series(1, 20000) g;
  INSERT INTO "Post" SELECT 'post-' || g, 1 + g % 20000, 'Title ' || g, repeat('body ', g % 40), CASE WHEN g % 3 = 0 THEN NULL ELSE TIMESTAMP '2026-02-01' + g * interval '1 second' END
    FROM generate_series(1, 60000) g;
  INSERT INTO "Tag" (name) SELECT 'tag ' || g FROM generate_series(1, 30) g;
  INSERT INTO "_PostToTag" SELECT 'post-' || g, 1 + g % 30 FROM generate_series(1, 60000) g;
  INSERT INTO "Billing"."Invoice" ("userId", "amountCents", "issuedOn", tenant)
    SELECT 1 + g % 20000, g * 7, DATE '2026-01-01' + g % 300, CASE WHEN g % 4 = 0 THEN 'us-east' ELSE 'eu-west' END FROM generate_series(1, 40000) g;
  INSERT INTO "Event" ("occurredAt", kind, payload)
    SELECT TIMESTAMPTZ '2026-01-01 00:00Z' + g * interval '7 minutes', CASE WHEN g % 2 = 0 THEN 'login' ELSE 'purchase' END, jsonb_build_object('n', g, 'note', 'it''s "ok"')
      FROM generate_series(1, 100000) g;
  CREATE MATERIALIZED VIEW "UserStats" AS SELECT u.id, count(p.id) AS posts FROM "User" u LEFT JOIN "Post" p ON p."authorId" = u.id GROUP BY u.id;
  CREATE UNIQUE INDEX "UserStats_id_key" ON "UserStats"(id);
  SELECT lo_from_bytea(${PRISMA_LO_OID}, '\\x255044462d312e37'::bytea);

  GRANT USAGE ON SCHEMA "Billing" TO "Report Reader";
  GRANT SELECT ON "User", "Billing"."Invoice", "Billing"."Monthly Revenue", "UserStats" TO "Report Reader";
  GRANT SELECT (id, title) ON "Post" TO "Report Reader";
  GRANT INSERT ON "Event" TO "etl.loader";
  GRANT SELECT ON LARGE OBJECT ${PRISMA_LO_OID} TO "Report Reader";
  ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" GRANT SELECT ON TABLES TO "Report Reader";
`;

/** The migration after the backup, and what a bad night does besides (as the owner). */
export const PRISMA_DAMAGE_SQL = `
  CREATE VIEW "ActiveAdmin" AS SELECT id, email FROM "User" WHERE role = 'ADMIN';
  ALTER TABLE "User" ADD COLUMN "lastSeenAt" TIMESTAMP(3);
  DELETE FROM "Post" WHERE "publishedAt" IS NULL;
  UPDATE "Billing"."Invoice" SET "amountCents" = 0 WHERE tenant = 'us-east';
  DROP MATERIALIZED VIEW "UserStats";
  REVOKE SELECT ON "User" FROM "Report Reader";
  ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" REVOKE SELECT ON TABLES FROM "Report Reader";
  COMMENT ON TABLE "User" IS 'changed';
  ALTER TYPE "Role" ADD VALUE 'OWNER';
  DROP POLICY "Tenant sees its own" ON "Billing"."Invoice";
  SELECT lo_unlink(${PRISMA_LO_OID});
`;

/** Damage to the database's own state: its settings, the owner's there, its comment and grants (the owner may do it). */
export function prismaDatabaseDamage(dbName: string): string {
  return `
    ALTER DATABASE ${q(dbName)} SET work_mem = '1MB';
    ALTER ROLE ${q(OWNER)} IN DATABASE ${q(dbName)} RESET search_path;
    COMMENT ON DATABASE ${q(dbName)} IS 'changed';
    REVOKE TEMPORARY ON DATABASE ${q(dbName)} FROM ${q(REPORTER)};
  `;
}

export const asOwner = (url: string): string => urlAs(url, OWNER, OWNER_PASSWORD);

/** Builds the fixture in an empty database at url (a superuser connection). */
export async function buildPrismaDatabase(exec: Exec, adminUrl: string, url: string): Promise<void> {
  await ensurePrismaRoles(exec, adminUrl);
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  await exec(url, prismaSuperuserSetup(dbName));
  await exec(asOwner(url), PRISMA_SCHEMA_SQL);
}
