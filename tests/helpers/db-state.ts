// The database fingerprint (tests/helpers/db-fingerprint.ts) for Vitest files.
import { sql } from "./pg";
import { fingerprint } from "./db-fingerprint";

export function dbState(url: string, schema = "public"): Promise<Record<string, string>> {
  return fingerprint(sql, url, schema);
}
