// Cron expressions and time zones as schedules take them (the backup schedule, the drill
// schedule). Browser-safe: cron-parser and Intl are plain JS.
import { z } from "zod";
import { CronExpressionParser } from "cron-parser";

const CRON_FIELDS = ["minute", "hour", "day of month", "month", "day of week"] as const;
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** True when the runtime (Node or browser) knows the IANA zone. */
export function isValidTimeZone(tz: string): boolean {
  // Node 24's Intl (and current browsers) also accept UTC offsets such as "+01:00"; a
  // schedule needs a named zone, whose offset follows daylight saving time.
  if (!tz || /^[+\-\u2212]/.test(tz)) return false;
  try {
    // Intl.supportedValuesOf omits aliases such as "UTC", so constructing a formatter
    // is the reliable test, and it is the same check luxon (used by cron-parser) makes.
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a 5-field cron expression is unacceptable, or null when it is fine.
 * Only the portable subset (numbers, names, `*`, ranges, lists, steps) is allowed:
 * cron-parser also takes seconds, `@daily`, `L`, `H`, `#` and `?`, which other cron
 * readers (pg-boss bundles cron-parser 4) reject or read differently.
 */
export function cronProblem(cron: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 || fields[0] === "") {
    return "must have 5 fields: minute hour day-of-month month day-of-week";
  }
  for (let i = 0; i < 5; i++) {
    const field = fields[i];
    if (!/^[0-9A-Za-z*,/-]+$/.test(field)) {
      return `${CRON_FIELDS[i]}: only numbers, *, ranges (a-b), lists (a,b) and steps (/n) are allowed`;
    }
    const names = i === 3 ? MONTH_NAMES : i === 4 ? DAY_NAMES : [];
    for (const word of field.match(/[A-Za-z]+/g) ?? []) {
      if (!names.includes(word.toLowerCase())) {
        return `${CRON_FIELDS[i]}: "${word}" is not allowed here`;
      }
    }
  }
  try {
    CronExpressionParser.parse(fields.join(" "), { tz: "UTC" }).next();
  } catch (e) {
    return e instanceof Error ? e.message : "invalid cron expression";
  }
  return null;
}

export const cronSchema = z
  .string()
  .trim()
  .max(120)
  .superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `invalid cron expression: ${problem}` });
  });

export const timezoneSchema = z
  .string()
  .trim()
  .max(64)
  .refine(isValidTimeZone, { message: "unknown time zone (use an IANA name such as UTC or Europe/Berlin)" });
