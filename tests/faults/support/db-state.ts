// The database fingerprint (tests/helpers/db-fingerprint.ts) for the standalone fault
// suite: proves a refused or killed restore left the target as it was.
import { sql } from "./pg";
import { fingerprint } from "../../helpers/db-fingerprint";

export function dbState(url: string, schema = "public"): Promise<Record<string, string>> {
  return fingerprint(sql, url, schema);
}

export function sameState(a: Record<string, string>, b: Record<string, string>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
