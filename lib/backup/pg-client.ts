// Connections to a database the engine inspects or changes (the target, a fresh copy, a
// drill's scratch copy): opened, used, always closed.
import pg from "pg";
import { componentLogger } from "../log";

const log = componentLogger("target-connection");

/**
 * Opens a connection whose session is free of the database's and role's own statement and
 * idle-in-transaction timeouts (ALTER DATABASE / ALTER ROLE … SET, meant for the
 * application), as pg_dump and pg_restore free theirs: the engine's work sets its own bounds
 * where it wants one (SET LOCAL). With a database's `idle_in_transaction_session_timeout`
 * the server ended the transaction whose snapshot pg_dump dumps while the dump ran, and its
 * `statement_timeout` cancelled the checksum of every table it outlasted (decision 141).
 *
 * A connection the server ends between queries is logged: an 'error' event without a
 * listener is an uncaught exception, which ended the worker in the middle of a backup.
 * Settings go by SET, not by startup parameters, which connection poolers refuse.
 */
export async function connectTarget(url: string, applicationName = "vaultline"): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: applicationName });
  c.on("error", (e: Error) => log.warn({ err: e.message, applicationName }, "the server ended a connection to the target"));
  try {
    await c.connect();
    await c.query("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0");
    return c;
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, applicationName?: string): Promise<T> {
  const c = await connectTarget(url, applicationName);
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
