// The restore-drill schedule (issue 17 §1): which cron slots restore the newest FULL backup
// into a scratch database, and how large a table may be for its content checksum to be
// taken at backup time. Browser-safe: the settings form validates with it.
import { z } from "zod";
import { DrillStatus, DrillTrigger } from "../generated/prisma/enums";
import { cronSchema, timezoneSchema } from "./cron";

export { DrillStatus, DrillTrigger };
export const DRILL_STATUSES = Object.values(DrillStatus);
export const DRILL_TRIGGERS = Object.values(DrillTrigger);

export const drillSettingsSchema = z.strictObject({
  enabled: z.boolean(),
  cron: cronSchema,
  timezone: timezoneSchema,
  /**
   * Tables larger than this (on disk) are counted but not checksummed when a backup is
   * taken: hashing every row reads the table a second time beside pg_dump.
   */
  checksumMaxTableMb: z.number().int().min(0).max(1_048_576).default(4096),
});

export type DrillSettings = z.infer<typeof drillSettingsSchema>;

export const DEFAULT_DRILL_SETTINGS: DrillSettings = { enabled: false, cron: "0 4 * * 0", timezone: "UTC", checksumMaxTableMb: 4096 };

/**
 * The drill's state on GET /api/today. Red: "failed" (the newest drill failed) and
 * "overdue" (no successful drill within the schedule's interval plus grace).
 */
export const DRILL_STATES = ["ok", "running", "failed", "overdue", "pending", "none"] as const;
export type DrillState = (typeof DRILL_STATES)[number];
