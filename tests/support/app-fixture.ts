// A database that looks like a real application's: owned by the app's own (non-superuser)
// role, with extensions, a second schema, an enum, a domain, partitions, a materialized
// view, a trigger, row-level security, grants to a read-only role, comments, sequences
// with values and a large object. Vaultline connects as a superuser, as it usually does.
// The same SQL is used by the Vitest suites and the fault suite (it takes only a runner).

export type Exec = (url: string, text: string) => Promise<unknown>;

/** The roles every fixture database shares (roles are per server, not per database). */
export const APP_ROLE = "vl_app";
export const READER_ROLE = "vl_reader";
export const APP_PASSWORD = "app-role-password-1";

/**
 * Runs a CREATE ROLE, a role already there being no error. CREATE ROLE has no IF NOT EXISTS,
 * and test files run in parallel on one server: two may make the same role at once (23505).
 */
export async function createRoleOnce(exec: Exec, adminUrl: string, stmt: string): Promise<void> {
  await exec(adminUrl, stmt).catch((e: Error & { code?: string }) => {
    if (e.code !== "42710" && e.code !== "23505" && !/already exists/.test(e.message)) throw e;
  });
}

export async function ensureRoles(exec: Exec, adminUrl: string): Promise<void> {
  for (const stmt of [`CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${APP_PASSWORD}'`, `CREATE ROLE ${READER_ROLE} NOLOGIN`]) await createRoleOnce(exec, adminUrl, stmt);
}

/** Run as the superuser on an empty database: the extensions and what the app role may not do. */
export function superuserSetup(dbName: string): string {
  return `
    ALTER DATABASE "${dbName}" OWNER TO ${APP_ROLE};
    ALTER SCHEMA public OWNER TO ${APP_ROLE};
    CREATE EXTENSION IF NOT EXISTS pgcrypto;
    CREATE EXTENSION IF NOT EXISTS citext;
    ALTER DATABASE "${dbName}" SET statement_timeout = '42s';
    COMMENT ON DATABASE "${dbName}" IS 'the shop database';
    GRANT CONNECT ON DATABASE "${dbName}" TO ${READER_ROLE};
  `;
}

/** Run as the app role: the application's own schema, as its migrations made it. */
export const APP_SCHEMA_SQL = `
  CREATE SCHEMA billing;
  CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
  CREATE DOMAIN positive_cents AS bigint CHECK (VALUE > 0);
  CREATE TABLE customers (
    id serial PRIMARY KEY,
    email citext NOT NULL UNIQUE,
    name text NOT NULL,
    token uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT '2026-01-01'
  );
  COMMENT ON TABLE customers IS 'people who buy';
  CREATE TABLE orders (
    id bigserial,
    customer_id int NOT NULL REFERENCES customers(id),
    status order_status NOT NULL DEFAULT 'new',
    amount positive_cents NOT NULL,
    placed_on date NOT NULL,
    PRIMARY KEY (id, placed_on)
  ) PARTITION BY RANGE (placed_on);
  CREATE TABLE orders_2025 PARTITION OF orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  CREATE TABLE orders_2026 PARTITION OF orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE billing.invoices (
    id serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    total_cents bigint NOT NULL,
    tenant text NOT NULL DEFAULT 'a'
  );
  ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
  CREATE POLICY tenant_a ON billing.invoices USING (tenant = 'a');
  CREATE TABLE audit_log (id serial PRIMARY KEY, what text NOT NULL, at timestamptz NOT NULL DEFAULT now());
  CREATE FUNCTION log_customer() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO audit_log (what, at) VALUES ('customer ' || NEW.email, '2026-01-01'); RETURN NEW; END $$;
  CREATE TRIGGER customers_log AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION log_customer();
  CREATE VIEW paying_customers AS SELECT c.id, c.email FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.status <> 'new');
  CREATE MATERIALIZED VIEW billing.revenue AS SELECT customer_id, sum(total_cents) AS cents FROM billing.invoices GROUP BY customer_id;
  ALTER TABLE audit_log SET (fillfactor = 80, autovacuum_enabled = false);
  ALTER TABLE customers SET (autovacuum_vacuum_scale_factor = 0.02, toast.autovacuum_enabled = false);
  CREATE TABLE "odd.name" ("a.b" int PRIMARY KEY);
  INSERT INTO "odd.name" VALUES (1), (2);
  CREATE SEQUENCE ticket_numbers START 1000;
  SELECT setval('ticket_numbers', 1234);
  INSERT INTO customers (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 300) g;
  INSERT INTO orders (customer_id, status, amount, placed_on)
    SELECT 1 + g % 300, (ARRAY['new','paid','shipped']::order_status[])[1 + g % 3], 100 + g, DATE '2025-06-01' + (g % 400)
      FROM generate_series(1, 2000) g;
  INSERT INTO billing.invoices (customer_id, total_cents, tenant) SELECT 1 + g % 300, g * 10, CASE WHEN g % 5 = 0 THEN 'b' ELSE 'a' END FROM generate_series(1, 1000) g;
  REFRESH MATERIALIZED VIEW billing.revenue;
  SELECT lo_from_bytea(0, 'contract.pdf bytes');
  GRANT USAGE ON SCHEMA billing TO ${READER_ROLE};
  GRANT SELECT ON customers, billing.invoices TO ${READER_ROLE};
  GRANT SELECT ON billing.revenue TO ${READER_ROLE};
`;

/** A migration made after the backup, as a real one would be (run as the app role). */
export const LATER_MIGRATION_SQL = `
  CREATE VIEW recent_orders AS SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.placed_on > '2026-06-01';
  ALTER TABLE customers ADD COLUMN phone text;
  CREATE SCHEMA reports;
  CREATE TABLE "later.table" (id int);
  DELETE FROM "odd.name" WHERE "a.b" = 2;
  CREATE TABLE reports.daily (day date PRIMARY KEY, n int);
  CREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(t) $$;
  ALTER TYPE order_status ADD VALUE 'refunded';
  ALTER TABLE billing.invoices DISABLE ROW LEVEL SECURITY;
  REVOKE SELECT ON customers FROM ${READER_ROLE};
  UPDATE customers SET name = 'changed' WHERE id <= 10;
  DELETE FROM billing.invoices WHERE id > 900;
  SELECT lo_unlink(oid) FROM pg_largeobject_metadata;
  SELECT setval('ticket_numbers', 5000);
  COMMENT ON TABLE customers IS 'changed comment';
`;

/** A URL for the same database connecting as the app role. */
export function asAppRole(url: string): string {
  const u = new URL(url);
  u.username = APP_ROLE;
  u.password = APP_PASSWORD;
  return u.toString();
}

/** Builds the fixture in an empty database at url (a superuser connection). */
export async function buildAppDatabase(exec: Exec, adminUrl: string, url: string): Promise<void> {
  await ensureRoles(exec, adminUrl);
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  await exec(url, superuserSetup(dbName));
  await exec(asAppRole(url), APP_SCHEMA_SQL);
}
