// GET /api/retention/preview: the query (a proposed retention policy, each field optional
// and laid over the saved one) and the answer. Shared by the route, the Settings page's
// live preview and the OpenAPI document.
import { z } from "zod";
import { backupKindSchema } from "./backups";
import { retentionSchema, type RetentionSettings } from "./settings";
import { targetSelectorSchema } from "./target-selector";

export const RETENTION_FIELDS = ["days", "keepLast", "keepQuick", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const satisfies readonly (keyof RetentionSettings)[];

// A query value is text: only digits, then the settings' own bounds (so "", "1.5", "-1"
// and "1e3" are refused with the field named, where z.coerce would read "" as 0).
const countParam = (field: (typeof RETENTION_FIELDS)[number]) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, { message: "must be a whole number, 0 or more" })
    .transform(Number)
    .pipe(retentionSchema.shape[field]);

export const retentionPreviewQuerySchema = z.strictObject({
  /** Whose plan, by that target's own policy (id or name; omitted: `default`). */
  target: targetSelectorSchema.optional(),
  ...(Object.fromEntries(RETENTION_FIELDS.map((f) => [f, countParam(f).optional()])) as {
    [F in (typeof RETENTION_FIELDS)[number]]: z.ZodOptional<ReturnType<typeof countParam>>;
  }),
  // Not a policy field: at most this many entries in each list (the counts and bytes stay
  // whole). The Settings page asks for a screenful rather than megabytes of JSON.
  limit: z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, { message: "must be a whole number, 1 or more" })
    .transform(Number)
    .pipe(z.number().int().min(1).max(100_000))
    .optional(),
});

export type RetentionPreviewQuery = z.infer<typeof retentionPreviewQuerySchema>;

/** The query for a policy (and list length) as the Settings page sends it. */
export function retentionPreviewParams(policy: Partial<RetentionSettings>, limit?: number): URLSearchParams {
  const q = new URLSearchParams();
  for (const f of RETENTION_FIELDS) if (policy[f] !== undefined) q.set(f, String(policy[f]));
  if (limit !== undefined) q.set("limit", String(limit));
  return q;
}

const isoTime = z.string().meta({ format: "date-time" });

export const retentionPreviewSchema = z
  .object({
    policy: retentionSchema.meta({ description: "The policy previewed: the query's fields over the saved ones." }),
    timeZone: z.string().meta({ description: "The schedule's time zone, in which GFS days, ISO weeks, months and years are counted." }),
    at: isoTime.meta({ description: "The moment the plan is for." }),
    keep: z.array(
      z.object({
        id: z.string(),
        kind: backupKindSchema,
        createdAt: isoTime,
        reasons: z.array(z.string()).meta({ description: 'Every rule that keeps it: "within 30 days", "last 10", "daily 2026-11-30", "weekly 2026-W48", "monthly 2026-11", "yearly 2026", "newest full", "newest verified full", "restoring", "drilling", "safety backup < 7 days", "running", …' }),
      }),
    ),
    prune: z.array(z.object({ id: z.string(), kind: backupKindSchema, createdAt: isoTime, sizeBytes: z.number().int().nonnegative(), reason: z.string() })),
    prunedBytes: z.number().int().nonnegative(),
    keptCount: z.number().int().nonnegative().meta({ description: "How many are kept (the whole list's length, whatever `limit` cut)." }),
    prunedCount: z.number().int().nonnegative().meta({ description: "How many would be pruned; `prunedBytes` is theirs." }),
  })
  .meta({ id: "RetentionPreview", description: "What retention would keep (with why) and prune now; newest first. Pruning runs this same plan." });

export type RetentionPreview = z.infer<typeof retentionPreviewSchema>;
