// Target databases to back up: a small application schema (customers, invoices with bytea),
// and optionally a table of incompressible blobs so the archive is big enough for a
// multipart upload or to overflow a small disk.
import { sql } from "./pg";

export async function seedTarget(url: string, opts: { rows?: number; blobMb?: number } = {}): Promise<void> {
  const rows = opts.rows ?? 2000;
  await sql(
    url,
    `CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text, created_at timestamptz DEFAULT now());
     CREATE TABLE invoices (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), amount numeric(12,2), pdf bytea);
     INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, ${rows}) g;
     INSERT INTO invoices (customer_id, amount, pdf) SELECT 1 + (g % ${rows}), g * 1.5, decode(md5(g::text), 'hex') FROM generate_series(1, ${rows * 2}) g;`,
  );
  if (opts.blobMb) {
    // 1 KiB of hash output per row: pg_dump's compression cannot shrink it.
    await sql(
      url,
      `CREATE TABLE blobs (id int PRIMARY KEY, data bytea NOT NULL);
       INSERT INTO blobs SELECT g, decode((SELECT string_agg(md5(g || ':' || i), '') FROM generate_series(1, 64) i), 'hex')
         FROM generate_series(1, ${Math.ceil(opts.blobMb * 1024)}) g;`,
    );
  }
}
