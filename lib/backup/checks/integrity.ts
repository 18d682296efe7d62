// Integrity rules: operator-written queries that must find nothing (seed 004's NULL
// slugs). The operator's SQL is run as written, but it cannot change anything:
//  - it runs in a READ ONLY transaction that is always rolled back;
//  - it is wrapped as a CTE and sent with a bind parameter, so the extended protocol
//    rejects a second statement (no "SELECT 1; COMMIT; DELETE ..."), and
//    SET TRANSACTION READ WRITE cannot be smuggled in;
//  - statement_timeout bounds its time and LIMIT bounds the rows it returns.
import type pg from "pg";
import {
  INTEGRITY_SAMPLE_SIZE,
  type IntegrityDetails,
  type IntegrityResult,
  type IntegrityRule,
} from "../../validation/checks";
import { CheckConnection, errorMessage } from "./read-only";

// int2, int4, int8, numeric
const INTEGER_TYPES = new Set([21, 23, 20, 1700]);
const MAX_VALUE_CHARS = 500;

function stripTrailingSemicolons(sql: string): string {
  return sql.replace(/[\s;]+$/, "");
}

// The newlines keep a trailing "-- comment" in the rule from swallowing the closing paren.
function wrap(sql: string): string {
  return `WITH vaultline_rule AS (\n${stripTrailingSemicolons(sql)}\n)\nSELECT * FROM vaultline_rule LIMIT $1`;
}

/**
 * `SELECT count(*) ...` returning 0 is a pass, so a lone integer is read as a count.
 * A lone id column is not a count, hence the name test.
 */
function countColumn(fields: pg.FieldDef[], rows: unknown[][]): number | null {
  if (rows.length !== 1 || fields.length !== 1) return null;
  const f = fields[0];
  if (!INTEGER_TYPES.has(f.dataTypeID) || /^id$|_id$|Id$/.test(f.name)) return null;
  const v = rows[0][0];
  if (v === null) return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Makes a cell safe and small enough to put in a JSON result. */
export function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v.length > MAX_VALUE_CHARS ? `${v.slice(0, MAX_VALUE_CHARS)}…` : v;
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v === "boolean") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  if (Buffer.isBuffer(v)) return jsonSafe(`\\x${v.subarray(0, MAX_VALUE_CHARS / 2).toString("hex")}`);
  if (Array.isArray(v)) return v.slice(0, 50).map(jsonSafe);
  const text = JSON.stringify(v);
  return text.length > MAX_VALUE_CHARS ? jsonSafe(text) : v;
}

// Row objects keyed by column name would silently merge `a.id` and `b.id`.
function columnNames(fields: pg.FieldDef[]): string[] {
  const used = new Map<string, number>();
  return fields.map((f) => {
    const n = (used.get(f.name) ?? 0) + 1;
    used.set(f.name, n);
    return n === 1 ? f.name : `${f.name}_${n}`;
  });
}

const rowsWord = (n: number) => (n === 1 ? "1 row violates" : `${n} rows violate`);

async function runRule(conn: CheckConnection, rule: IntegrityRule, base: IntegrityDetails) {
  return conn.readOnly(rule.timeoutMs, async (client) => {
    const res = await client.query<unknown[]>({ text: wrap(rule.sql), values: [rule.maxRows + 1], rowMode: "array" });
    const columns = columnNames(res.fields);
    const counted = countColumn(res.fields, res.rows);
    const capped = counted === null && res.rows.length > rule.maxRows;
    const count = counted ?? Math.min(res.rows.length, rule.maxRows);
    const sample =
      counted === null
        ? res.rows
            .slice(0, INTEGRITY_SAMPLE_SIZE)
            .map((r) => Object.fromEntries(columns.map((c, i) => [c, jsonSafe(r[i])])))
        : [];
    const status: IntegrityResult["status"] = count === 0 ? "pass" : rule.severity;
    const why = rule.description ? `: ${rule.description}` : ".";
    const summary =
      count === 0
        ? `No rows violate ${rule.name}.`
        : capped
          ? `More than ${rule.maxRows} rows violate ${rule.name}${why}`
          : `${rowsWord(count)} ${rule.name}${why}`;
    return { status, summary, details: { ...base, count, capped, columns, sample } };
  });
}

export async function runIntegrityRules(url: string, rules: IntegrityRule[]): Promise<IntegrityResult[]> {
  const backstopMs = Math.max(0, ...rules.map((r) => r.timeoutMs)) + 5_000;
  const results: IntegrityResult[] = [];
  let conn: CheckConnection | null = null;
  // An unreachable database fails every rule the same way; do not wait for it once per rule.
  let connectError: unknown;
  try {
    for (const rule of rules) {
      const started = performance.now();
      const base: IntegrityDetails = {
        ...(rule.description ? { description: rule.description } : {}),
        sql: rule.sql,
        severity: rule.severity,
        timeoutMs: rule.timeoutMs,
        maxRows: rule.maxRows,
      };
      const head = { id: `integrity:${rule.name}`, name: rule.name, kind: "integrity" as const };
      try {
        if (connectError) throw connectError;
        conn ??= await CheckConnection.open(url, backstopMs).catch((e: unknown) => {
          connectError = e;
          throw e;
        });
        const r = await runRule(conn, rule, base);
        results.push({ ...head, ...r, durationMs: Math.round(performance.now() - started) });
      } catch (e) {
        const error = errorMessage(e, rule.timeoutMs);
        results.push({
          ...head,
          status: "error",
          summary: `${rule.name} could not run: ${error}`,
          details: { ...base, error },
          durationMs: Math.round(performance.now() - started),
        });
      }
      if (conn?.broken) {
        await conn.close();
        conn = null;
      }
    }
  } finally {
    await conn?.close();
  }
  return results;
}
