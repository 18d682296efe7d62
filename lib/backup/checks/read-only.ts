// Every check reads someone's production database, so every query runs inside a
// READ ONLY transaction with a server-side statement_timeout, and is always rolled back.
import type pg from "pg";
import { quoteIdent } from "../quote";
import { newClient } from "../pg-client";

const APPLICATION_NAME = "vaultline-checks";

export class CheckConnection {
  /** Set when the connection can no longer be trusted to be idle (a timed-out read, a failed rollback). */
  broken = false;

  private constructor(private readonly client: pg.Client) {
    client.on("error", () => {
      this.broken = true;
    });
  }

  /**
   * `backstopMs` is a client-side limit for when the server stops answering altogether;
   * the real limit is statement_timeout, which the server enforces.
   */
  static async open(url: string, backstopMs: number): Promise<CheckConnection> {
    const client = await newClient(url, { application_name: APPLICATION_NAME, connectionTimeoutMillis: 10_000, query_timeout: backstopMs });
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => {});
      throw e;
    }
    return new CheckConnection(client);
  }

  async readOnly<T>(timeoutMs: number, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    await this.client.query("BEGIN TRANSACTION READ ONLY");
    try {
      // set_config(..., true) is SET LOCAL, parameterised.
      await this.client.query("SELECT set_config('statement_timeout', $1, true)", [String(timeoutMs)]);
      return await fn(this.client);
    } finally {
      await this.client.query("ROLLBACK").catch(() => {
        this.broken = true;
      });
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/** Opens a connection, runs one read-only transaction, closes. */
export async function readOnlyOnce<T>(
  url: string,
  timeoutMs: number,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const conn = await CheckConnection.open(url, timeoutMs + 5_000);
  try {
    return await conn.readOnly(timeoutMs, fn);
  } finally {
    await conn.close();
  }
}

/** Double-quotes an identifier already checked against the strict pattern; the escape is a second line of defence. */
export { quoteIdent };

export function quoteTable(name: string): string {
  return name.split(".").map(quoteIdent).join(".");
}

/** A readable message for an error from pg or the file system. */
export function errorMessage(e: unknown, timeoutMs?: number): string {
  const err = e as { code?: string; message?: string };
  if (err?.code === "57014" && timeoutMs !== undefined) {
    return `timed out after ${formatMs(timeoutMs)} (statement_timeout): ${err.message}`;
  }
  if (err?.code === "25006") {
    return `it tried to write, and checks run read-only: ${err.message}`;
  }
  // Integrity rules are wrapped in a CTE, so a bare UPDATE or a second statement shows
  // up as an error about our wrapper; say what the rule did instead.
  if (err?.message?.includes('does not have a RETURNING clause')) {
    return "it tried to write (INSERT, UPDATE or DELETE), and checks run read-only";
  }
  if (err?.code === "42601" && err.message?.includes('at or near ";"')) {
    return `a rule must be a single SQL statement: ${err.message}`;
  }
  if (err?.message === "Query read timeout") {
    return "the database stopped answering (client read timeout)";
  }
  return err?.message ?? String(e);
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
