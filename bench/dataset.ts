// A synthetic application database of about N MB, generated server-side with
// generate_series (no rows cross the wire): customers, orders, order items, documents with
// text bodies and binary attachments, and a JSON event log — with primary keys, foreign
// keys and secondary indexes, and row widths like a typical SaaS schema.
import { spawn } from "node:child_process";
import { sql } from "../tests/support/pg";
import { libpqConnection } from "../lib/backup/libpq";

/** Rows per "unit"; one unit is about 1 MB of pg_database_size (calibrated on PG 15):
 * customers 8 %, orders 17 %, order items 20 %, documents 40 %, events 15 %. */
const PER_UNIT = {
  customers: 290,
  orders: 950,
  items: 1700,
  documents: 190,
  events: 570,
};

/** A paragraph of words to slice document bodies from: compresses like real text. */
const LOREM =
  "invoice shipment refund customer account balance payment settlement ledger warehouse " +
  "delivery quantity discount subscription renewal upgrade downgrade support ticket escalation " +
  "priority resolved pending archived region europe america asia pacific north south east west " +
  "product catalogue variant colour size weight dimension supplier contract agreement clause " +
  "the a of to and in is for on with as by at from that this be are was it an or not ";

export interface DatasetInfo {
  requestedMb: number;
  units: number;
  sizeBytes: number;
  tables: Record<string, { rows: number; bytes: number }>;
  buildSeconds: number;
}

export async function buildDataset(url: string, requestedMb: number, log: (s: string) => void = () => {}): Promise<DatasetInfo> {
  const t0 = Date.now();
  // An empty database is ~7.5 MB; a unit adds ~1 MB of tables and indexes.
  const units = Math.max(1, Math.round(requestedMb - EMPTY_DB_MB));
  const n = Object.fromEntries(Object.entries(PER_UNIT).map(([k, v]) => [k, v * units])) as typeof PER_UNIT;
  const lorem = LOREM.repeat(40);
  log(`building ~${requestedMb} MB: ${Object.entries(n).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  await sql(
    url,
    `CREATE TABLE customers (
       id bigint PRIMARY KEY, email text NOT NULL, full_name text NOT NULL, country char(2) NOT NULL,
       plan text NOT NULL, created_at timestamptz NOT NULL, profile jsonb NOT NULL);
     CREATE TABLE orders (
       id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL,
       total_cents bigint NOT NULL, currency char(3) NOT NULL, created_at timestamptz NOT NULL, shipping_address text);
     CREATE TABLE order_items (
       id bigint PRIMARY KEY, order_id bigint NOT NULL, sku text NOT NULL,
       quantity int NOT NULL, unit_price numeric(12,2) NOT NULL);
     CREATE TABLE documents (
       id bigint PRIMARY KEY, customer_id bigint NOT NULL, title text NOT NULL,
       body text NOT NULL, attachment bytea, created_at timestamptz NOT NULL);
     CREATE TABLE events (
       id bigint PRIMARY KEY, at timestamptz NOT NULL, kind text NOT NULL, customer_id bigint, payload jsonb NOT NULL);`,
  );
  const step = async (name: string, text: string) => {
    const t = Date.now();
    await sql(url, text);
    log(`  ${name} ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await step(
    "customers",
    `INSERT INTO customers
     SELECT g, 'user' || g || '@' || (ARRAY['example.com','mail.test','corp.io','shop.dev'])[1 + g % 4],
            initcap(substr(md5(g::text), 1, 8)) || ' ' || initcap(substr(md5((g * 7)::text), 1, 10)),
            (ARRAY['DE','FR','US','GB','JP','BR','IN','NL'])[1 + g % 8], (ARRAY['free','pro','team','enterprise'])[1 + g % 4],
            timestamptz '2022-01-01' + (g % 100000) * interval '13 minutes',
            jsonb_build_object('newsletter', g % 3 = 0, 'locale', (ARRAY['de-DE','en-US','fr-FR'])[1 + g % 3], 'score', g % 977,
                               'tags', jsonb_build_array('t' || g % 11, 't' || g % 17))
       FROM generate_series(1, ${n.customers}) g`,
  );
  await step(
    "orders",
    `INSERT INTO orders
     SELECT g, 1 + (g::bigint * 7919) % ${n.customers}, (ARRAY['paid','shipped','delivered','refunded','pending'])[1 + g % 5],
            (g * 37) % 500000, (ARRAY['EUR','USD','GBP'])[1 + g % 3], timestamptz '2022-01-01' + g * interval '3 minutes',
            (g % 9999) || ' ' || initcap(substr(md5(g::text), 3, 9)) || ' Street, ' || (10000 + g % 89999) || ' ' || initcap(substr(md5((g+1)::text), 1, 7))
       FROM generate_series(1, ${n.orders}) g`,
  );
  await step(
    "order_items",
    `INSERT INTO order_items
     SELECT g, 1 + (g::bigint * 104729) % ${n.orders}, 'SKU-' || upper(substr(md5((g % 5000)::text), 1, 8)), 1 + g % 7, ((g * 13) % 100000) / 100.0
       FROM generate_series(1, ${n.items}) g`,
  );
  // Bodies: ~1.5 KB of text (compressible); attachments: 320 bytes of hash output (not).
  await step(
    "documents",
    `INSERT INTO documents
     SELECT g, 1 + (g * 31) % ${n.customers}, 'Document ' || g || ' — ' || substr(md5(g::text), 1, 12),
            substr($lorem$${lorem}$lorem$, 1 + (g * 53) % 4000, 1400 + g % 200) || ' ' || md5(g::text),
            CASE WHEN g % 5 = 0 THEN NULL ELSE decode((SELECT string_agg(md5(g::text || ':' || i), '') FROM generate_series(1, 10) i), 'hex') END,
            timestamptz '2023-01-01' + g * interval '7 minutes'
       FROM generate_series(1, ${n.documents}) g`,
  );
  await step(
    "events",
    `INSERT INTO events
     SELECT g, timestamptz '2024-01-01' + g * interval '11 seconds', (ARRAY['login','logout','order.created','payment.failed','export'])[1 + g % 5],
            CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + g % ${n.customers} END,
            jsonb_build_object('ip', '10.' || g % 255 || '.' || (g / 255) % 255 || '.' || g % 7, 'ua', 'Mozilla/5.0 (' || (ARRAY['X11','Macintosh','Windows NT 10.0'])[1 + g % 3] || ')',
                               'latency_ms', g % 1500, 'trace', substr(md5(g::text), 1, 16))
       FROM generate_series(1, ${n.events}) g`,
  );
  await step(
    "indexes and foreign keys",
    `ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers(id);
     ALTER TABLE order_items ADD FOREIGN KEY (order_id) REFERENCES orders(id);
     ALTER TABLE documents ADD FOREIGN KEY (customer_id) REFERENCES customers(id);
     CREATE UNIQUE INDEX customers_email_key ON customers(email);
     CREATE INDEX customers_country_plan_idx ON customers(country, plan);
     CREATE INDEX orders_customer_idx ON orders(customer_id);
     CREATE INDEX orders_created_idx ON orders(created_at DESC);
     CREATE INDEX order_items_order_idx ON order_items(order_id);
     CREATE INDEX documents_customer_idx ON documents(customer_id);
     CREATE INDEX events_at_idx ON events(at);
     CREATE INDEX events_kind_at_idx ON events(kind, at DESC);`,
  );
  // Hint bits and statistics set now, so the first dump does not pay for them.
  await step("vacuum analyze", `VACUUM (FREEZE, ANALYZE)`);
  return describeDataset(url, { requestedMb, units, t0 });
}

/** Its size, and each public table's rows and bytes, once built. */
async function describeDataset(url: string, o: { requestedMb?: number; units: number; t0: number }): Promise<DatasetInfo> {
  const sizes = await sql<{ t: string; rows: string; bytes: string }>(
    url,
    `SELECT c.relname AS t, c.reltuples::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
  );
  const [{ size }] = await sql<{ size: string }>(url, `SELECT pg_database_size(current_database())::text AS size`);
  return {
    requestedMb: o.requestedMb ?? Math.round(Number(size) / 1e6),
    units: o.units,
    sizeBytes: Number(size),
    tables: Object.fromEntries(sizes.map((s) => [s.t, { rows: Number(s.rows), bytes: Number(s.bytes) }])),
    buildSeconds: (Date.now() - o.t0) / 1000,
  };
}

const EMPTY_DB_MB = 7.5;

/**
 * The second dataset, one no one tuned for (issue 14 §6): `pgbench -i -s <scale>` (narrow
 * rows of integers and blank-padded chars: compresses very well) plus `random_blobs`, a table
 * of incompressible bytes (pgcrypto's gen_random_bytes, 1 KiB per row, stored uncompressed
 * in-line) of `randomMb` MB. The codec gains nothing on the blobs: it must not lose much either.
 */
export async function buildPgbenchDataset(
  url: string,
  opts: { scale: number; randomMb: number; pgbench?: string },
  log: (s: string) => void = () => {},
): Promise<DatasetInfo> {
  const t0 = Date.now();
  log(`building pgbench -i -s ${opts.scale} + ${opts.randomMb} MB of random bytes`);
  const conn = libpqConnection(url);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(opts.pgbench ?? "pgbench", ["-i", "-s", String(opts.scale), "-q", "--no-vacuum", conn.dbname], {
      env: { ...process.env, ...conn.env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`pgbench -i exited ${code}: ${err.trim()}`))));
  });
  log(`  pgbench -i ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const rows = Math.round((opts.randomMb * 1e6) / 1024);
  const t1 = Date.now();
  await sql(
    url,
    `CREATE EXTENSION IF NOT EXISTS pgcrypto;
     CREATE TABLE random_blobs (id bigint PRIMARY KEY, bytes bytea NOT NULL);
     ALTER TABLE random_blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;
     INSERT INTO random_blobs SELECT g, gen_random_bytes(1024) FROM generate_series(1, ${rows}) g;`,
  );
  log(`  random_blobs (${rows} rows) ${((Date.now() - t1) / 1000).toFixed(1)} s`);
  await sql(url, `VACUUM (FREEZE, ANALYZE)`);
  return describeDataset(url, { units: opts.scale, t0 });
}
