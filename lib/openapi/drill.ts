// The restore drill's parts of the API answers (issue 17 §1): GET /api/today's `drill`
// and the settings' `drill` section. zod only: browser-safe.
import { z } from "zod";
import { DRILL_STATES, drillSettingsSchema } from "../validation/drill-settings";
import type { DrillSummary } from "../backup/drill-status";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <S extends z.ZodType>(_schema: S) => ({ is: <T>(_ok: Same<z.output<S>, T>) => {} });
const isoTime = z.string().meta({ format: "date-time" });

export const drillSummarySchema = z
  .object({
    state: z.enum(DRILL_STATES).meta({
      description:
        "ok: the newest drill passed (and, with the schedule on, within its interval + 3 h grace) · running: a drill is in progress · " +
        "failed: the newest drill failed (red) · overdue: the schedule is on and no drill passed within its interval + 3 h grace (red) · " +
        "pending: the schedule is on and its first interval has not elapsed · none: no drill has run and the schedule is off.",
    }),
    lastSuccessAt: isoTime.nullable().meta({ description: "When the newest successful drill finished: the last proven restore." }),
    durationSeconds: z.number().nullable().meta({ description: "That drill's recovery time in seconds: download + decrypt + restore." }),
    backupId: z.string().nullable().meta({ description: "The backup that drill proved." }),
    failureReason: z.string().nullable().meta({ description: "Why the newest drill failed, when it did." }),
    nextRunAt: isoTime.nullable(),
  })
  .meta({ id: "DrillSummary" });
check(drillSummarySchema).is<DrillSummary>(true);

export const drillSettingsViewSchema = drillSettingsSchema.meta({ id: "DrillSettings" });
