// One query on its own connection: the tests' (and e2e's) direct line to a database. The
// URL means what it means to libpq, as it does to the application (decision 146).
import pg from "pg";
import { sessionConfig } from "../../lib/backup/pg-url";

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client(await sessionConfig(url));
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}
