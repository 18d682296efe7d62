// Per-test databases on the harness's embedded server.
import { inject } from "vitest";
import pg from "pg";
import { randomBytes } from "node:crypto";
import { migrate } from "../../lib/migrate";

export function adminUrl(): string {
  return inject("pgAdminUrl");
}

export function urlFor(database: string): string {
  const u = new URL(adminUrl());
  u.pathname = `/${database}`;
  return u.toString();
}

export async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

/** Creates an empty database and returns its URL. */
export async function createDatabase(prefix = "t"): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await sql(adminUrl(), `CREATE DATABASE "${name}"`);
  return urlFor(name);
}

/** Creates a database with every Vaultline migration applied. */
export async function createMigratedDatabase(prefix = "app"): Promise<string> {
  const url = await createDatabase(prefix);
  await migrate(url);
  return url;
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await sql(adminUrl(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
