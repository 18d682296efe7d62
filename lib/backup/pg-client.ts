// One short-lived connection to a database the engine inspects or changes (the target, a
// fresh copy): opened, used, always closed.
import pg from "pg";

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, ...(applicationName ? { application_name: applicationName } : {}) });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
