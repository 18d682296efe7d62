// Settings schemas shared by the settings page and PUT /api/settings. Browser-safe:
// cron-parser and Intl are plain JS, so the form can validate and preview exactly as
// the server does.
import { z } from "zod";
import { CronExpressionParser } from "cron-parser";
import { backupKindSchema } from "./backups";

export const SETTINGS_SECTIONS = ["schedule", "retention", "notifications", "compression"] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

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

/**
 * The next `n` run times strictly after `from`, in the schedule's time zone (a daily
 * "0 2 * * *" in Europe/Berlin runs at 01:00Z in winter and 00:00Z in summer).
 * Ignores `enabled`: the form previews a schedule before it is switched on.
 */
export function cronNextRuns(
  schedule: { cron: string; timezone: string },
  from: Date,
  n: number,
): Date[] {
  if (n <= 0) return [];
  const it = CronExpressionParser.parse(schedule.cron.trim(), {
    tz: schedule.timezone,
    currentDate: from,
  });
  return it.take(n).map((d) => d.toDate());
}

const cronSchema = z
  .string()
  .trim()
  .max(120)
  .superRefine((v, ctx) => {
    const problem = cronProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `invalid cron expression: ${problem}` });
  });

const timezoneSchema = z
  .string()
  .trim()
  .max(64)
  .refine(isValidTimeZone, { message: "unknown time zone (use an IANA name such as UTC or Europe/Berlin)" });

export const scheduleSchema = z.strictObject({
  enabled: z.boolean(),
  cron: cronSchema,
  timezone: timezoneSchema,
  kind: backupKindSchema,
});

export const retentionSchema = z.strictObject({
  // 0 is legal: the newest successful FULL backup is kept regardless (retention.ts).
  days: z.number().int().min(0).max(3650),
  keepLast: z.number().int().min(0).max(1000),
  keepQuick: z.number().int().min(0).max(1000),
  // GFS (lib/backup/retention.ts): calendar periods in the schedule's time zone; 0 = off,
  // which is what a row saved before these existed reads as (lib/settings.ts merges defaults).
  keepDaily: z.number().int().min(0).max(1000),
  keepWeekly: z.number().int().min(0).max(1000),
  keepMonthly: z.number().int().min(0).max(1000),
  keepYearly: z.number().int().min(0).max(1000),
});

// The pattern browsers use for <input type="email">, so the form and the server agree
// and internal addresses such as ops@localhost are accepted.
const emailSchema = z.string().trim().max(320).pipe(z.email({ pattern: z.regexes.html5Email }));

export const notificationsSchema = z.strictObject({
  webhookUrl: z
    .string()
    .trim()
    .max(2048)
    .pipe(z.url({ protocol: /^https?$/, hostname: z.regexes.hostname, message: "must be an http(s) URL" }))
    .nullable(),
  emails: z
    .array(emailSchema)
    .max(50)
    .refine((list) => new Set(list.map((e) => e.toLowerCase())).size === list.length, {
      message: "duplicate address",
    }),
  onSuccess: z.boolean(),
  onFailure: z.boolean(),
  missedBackupAfterHours: z.number().int().min(1).max(8760),
});

export const COMPRESSION_CODECS = ["zstd", "gzip", "none"] as const;
/** Levels each codec accepts; zstd's 20–22 ("ultra") need far more memory than the backup budget. */
export const COMPRESSION_LEVELS = { zstd: { min: 1, max: 19 }, gzip: { min: 1, max: 9 } } as const;

/**
 * How FULL backups compress (lib/backup/compression.ts). "none": nothing outside pg_dump,
 * which then compresses with its own zlib as before issue 14 (level is null).
 */
export const compressionSchema = z.discriminatedUnion("codec", [
  z.strictObject({ codec: z.literal("zstd"), level: z.number().int().min(COMPRESSION_LEVELS.zstd.min).max(COMPRESSION_LEVELS.zstd.max) }),
  z.strictObject({ codec: z.literal("gzip"), level: z.number().int().min(COMPRESSION_LEVELS.gzip.min).max(COMPRESSION_LEVELS.gzip.max) }),
  z.strictObject({ codec: z.literal("none"), level: z.null() }),
]);

export const settingsSchema = z.strictObject({
  schedule: scheduleSchema,
  retention: retentionSchema,
  notifications: notificationsSchema,
  compression: compressionSchema,
});

/**
 * A PUT body: every section present replaces that section whole, so each must be
 * complete; a partial section would otherwise silently reset the fields left out.
 */
export const settingsUpdateSchema = z
  .strictObject({
    schedule: scheduleSchema.optional(),
    retention: retentionSchema.optional(),
    notifications: notificationsSchema.optional(),
    compression: compressionSchema.optional(),
  })
  .refine((v) => SETTINGS_SECTIONS.some((s) => v[s] !== undefined), {
    message: "at least one of schedule, retention, notifications, compression is required",
  });

export type ScheduleSettings = z.infer<typeof scheduleSchema>;
export type RetentionSettings = z.infer<typeof retentionSchema>;
export type NotificationSettings = z.infer<typeof notificationsSchema>;
export type CompressionSettings = z.infer<typeof compressionSchema>;
export type Settings = z.infer<typeof settingsSchema>;
export type SettingsUpdate = z.infer<typeof settingsUpdateSchema>;

export const DEFAULT_SETTINGS: Settings = {
  schedule: { enabled: true, cron: "0 2 * * *", timezone: "UTC", kind: "FULL" },
  retention: { days: 30, keepLast: 10, keepQuick: 10, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0 },
  notifications: {
    webhookUrl: null,
    emails: [],
    onSuccess: false,
    onFailure: true,
    // A daily schedule plus two hours of slack, so one late run does not page anyone.
    missedBackupAfterHours: 26,
  },
  // Chosen by measurement (docs/decisions.md §50): level 1 keeps pace with pg_dump -Z0 on
  // one core and was already smaller than pg_dump's own zlib.
  compression: { codec: "zstd", level: 1 },
};
