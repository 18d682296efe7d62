// Settings schemas shared by the settings page and PUT /api/settings. Browser-safe:
// cron-parser and Intl are plain JS, so the form can validate and preview exactly as
// the server does.
import { z } from "zod";
import { CronExpressionParser } from "cron-parser";
import { backupKindSchema } from "./backups";
import { cronSchema, timezoneSchema } from "./cron";

export { cronProblem, isValidTimeZone } from "./cron";
import { DEFAULT_DRILL_SETTINGS, drillSettingsSchema } from "./drill-settings";

export const SETTINGS_SECTIONS = ["schedule", "retention", "notifications", "compression", "drill"] as const;
export type SettingsSection = (typeof SETTINGS_SECTIONS)[number];

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

// Where notifications go and for which events is per channel (NotificationChannel,
// lib/validation/notification-channels.ts); the single webhookUrl/emails/onSuccess/
// onFailure of earlier releases became channels (migration 20261201053000).
export const notificationsSchema = z.strictObject({
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
  drill: drillSettingsSchema,
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
    drill: drillSettingsSchema.optional(),
  })
  .refine((v) => SETTINGS_SECTIONS.some((s) => v[s] !== undefined), {
    message: `at least one of ${SETTINGS_SECTIONS.join(", ")} is required`,
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
    // A daily schedule plus two hours of slack, so one late run does not page anyone.
    missedBackupAfterHours: 26,
  },
  // Chosen by measurement (docs/decisions.md §50): level 1 keeps pace with pg_dump -Z0 on
  // one core and was already smaller than pg_dump's own zlib.
  compression: { codec: "zstd", level: 1 },
  drill: DEFAULT_DRILL_SETTINGS,
};
