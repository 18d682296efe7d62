// Logical replication between two databases of one test server (started with
// wal_level = logical): the publisher's slot made first, since a subscription to its own
// server cannot make it (CREATE SUBSCRIPTION would wait on itself), then the subscription.
import { sql } from "./pg";
import { withDatabase } from "../../lib/backup/swap";

export async function subscribe(adminUrl: string, o: { publisher: string; subscriber: string; publication: string; name: string }): Promise<void> {
  const publisher = withDatabase(adminUrl, o.publisher);
  await sql(publisher, `SELECT pg_create_logical_replication_slot('${o.name}', 'pgoutput')`);
  const u = new URL(adminUrl);
  const conninfo = `host=${u.hostname} port=${u.port} user=${decodeURIComponent(u.username)} password=${decodeURIComponent(u.password)} dbname=${o.publisher}`;
  await sql(
    withDatabase(adminUrl, o.subscriber),
    `CREATE SUBSCRIPTION ${o.name} CONNECTION '${conninfo}' PUBLICATION ${o.publication} WITH (create_slot = false, slot_name = '${o.name}')`,
  );
}
