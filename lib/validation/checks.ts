// The CHECKS_FILE format and the shape of check results, shared by the server (which
// loads and runs checks) and the browser (which renders them). zod only: browser-safe.
//
// CHECKS_FILE is JSON or YAML. Either a list of integrity rules, or an object:
//   defaults:  { timeoutMs?, maxRows? }            applied to every rule and entry
//   integrity: [{ name, description?, sql, severity?: fail|warn, timeoutMs?, maxRows? }]
//   fileSync:  [{ name, description?, table, column, dir, prefix?, timeoutMs? }]
import { z } from "zod";

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ROWS = 1_000;
/** How many offending rows an integrity result carries. */
export const INTEGRITY_SAMPLE_SIZE = 10;
/** How many missing and orphan files a file-sync result carries, each. */
export const FILE_SYNC_SAMPLE_SIZE = 50;

// Names become check ids and URL fragments, so they stay plain.
const checkName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "letters, digits, . _ - only (like ads-without-slug), at most 100");

// Table and column names end up inside SQL. They are never interpolated raw: this
// pattern admits only plain identifiers, and the runner double-quotes them as well.
const IDENT = "[A-Za-z_][A-Za-z0-9_]{0,62}";
export const identifierPattern = new RegExp(`^${IDENT}$`);
export const tableNamePattern = new RegExp(`^${IDENT}(\\.${IDENT})?$`);

const timeoutMs = z.number().int().min(100).max(600_000);
const maxRows = z.number().int().min(1).max(100_000);

export const integrityRuleInputSchema = z.strictObject({
  name: checkName,
  description: z.string().max(500).optional(),
  sql: z.string().trim().min(1, "must not be empty"),
  severity: z.enum(["fail", "warn"]).default("fail"),
  timeoutMs: timeoutMs.optional(),
  maxRows: maxRows.optional(),
});

export const fileSyncEntryInputSchema = z.strictObject({
  name: checkName,
  description: z.string().max(500).optional(),
  table: z.string().regex(tableNamePattern, "a table name like ad_images or public.ad_images (letters, digits, _)"),
  column: z.string().regex(identifierPattern, "a column name like file_path (letters, digits, _)"),
  dir: z.string().min(1),
  prefix: z.string().optional(),
  timeoutMs: timeoutMs.optional(),
});

function uniqueNames(items: { name: string }[], ctx: z.RefinementCtx) {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) {
      ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate name "${item.name}" (also at [${first}])` });
    } else seen.set(item.name, i);
  });
}

const checksFileObjectSchema = z.strictObject({
  defaults: z.strictObject({ timeoutMs: timeoutMs.optional(), maxRows: maxRows.optional() }).optional(),
  integrity: z.array(integrityRuleInputSchema).superRefine(uniqueNames).default([]),
  fileSync: z.array(fileSyncEntryInputSchema).superRefine(uniqueNames).default([]),
});

/** Parses a CHECKS_FILE document into rules and entries with every default filled in. */
export const checksFileSchema = z
  .preprocess((v) => (Array.isArray(v) ? { integrity: v } : v), checksFileObjectSchema)
  .transform(({ defaults, integrity, fileSync }) => {
    const t = defaults?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const m = defaults?.maxRows ?? DEFAULT_MAX_ROWS;
    return {
      integrity: integrity.map((r) => ({ ...r, timeoutMs: r.timeoutMs ?? t, maxRows: r.maxRows ?? m })),
      fileSync: fileSync.map((e) => ({ ...e, timeoutMs: e.timeoutMs ?? t })),
    };
  });

export type ChecksConfig = z.output<typeof checksFileSchema>;
export type IntegrityRule = ChecksConfig["integrity"][number];
export type FileSyncEntry = ChecksConfig["fileSync"][number];

// ---- results ----

export const checkStatusSchema = z.enum(["pass", "warn", "fail", "error"]);
export const checkKindSchema = z.enum(["drift", "integrity", "files"]);
export type CheckStatus = z.infer<typeof checkStatusSchema>;
export type CheckKind = z.infer<typeof checkKindSchema>;

const names = z.array(z.string());

// A plain union: the error shape shares `against` values with the others.
export const driftDetailsSchema = z.union([
  z.object({
    against: z.literal("disk"),
    dir: z.string(),
    targetTracksMigrations: z.boolean(),
    onDisk: z.number(),
    applied: z.number(),
    appliedNotOnDisk: names,
    onDiskNotApplied: names,
    failed: names,
    rolledBack: names,
    checksumMismatch: names,
  }),
  z.object({
    against: z.literal("backup"),
    targetTracksMigrations: z.boolean(),
    inBackup: z.number(),
    applied: z.number(),
    appliedSinceBackup: names,
    missingFromTarget: names,
    checksumMismatch: names,
    failedInTarget: names,
    failedInBackup: names,
  }),
  z.object({
    against: z.literal("vaultline"),
    applied: z.number(),
    missing: names,
    failed: names,
    modified: names,
    unknown: names,
  }),
  z.object({ against: z.enum(["disk", "backup", "vaultline"]), error: z.string() }),
]);

// sql, severity and the limits are absent only on the result that reports an unusable
// checks file (then `file` names it).
export const integrityDetailsSchema = z.object({
  description: z.string().optional(),
  file: z.string().optional(),
  sql: z.string().optional(),
  severity: z.enum(["fail", "warn"]).optional(),
  timeoutMs: z.number().optional(),
  maxRows: z.number().optional(),
  count: z.number().optional(),
  /** True when more than maxRows rows matched: count is then a lower bound. */
  capped: z.boolean().optional(),
  columns: names.optional(),
  sample: z.array(z.record(z.string(), z.unknown())).optional(),
  error: z.string().optional(),
});

export const fileSyncDetailsSchema = z.object({
  description: z.string().optional(),
  table: z.string(),
  column: z.string(),
  dir: z.string(),
  prefix: z.string().optional(),
  referenced: z.number().optional(),
  filesOnDisk: z.number().optional(),
  /** Values that do not start with the prefix (for example external URLs); not checked. */
  skipped: z.number().optional(),
  missingCount: z.number().optional(),
  orphanCount: z.number().optional(),
  /** Column values whose file is not in dir, first FILE_SYNC_SAMPLE_SIZE. */
  missing: names.optional(),
  /** Paths relative to dir that no row references, first FILE_SYNC_SAMPLE_SIZE. */
  orphans: names.optional(),
  error: z.string().optional(),
});

const resultBase = {
  id: z.string(),
  name: z.string(),
  status: checkStatusSchema,
  summary: z.string(),
  durationMs: z.number(),
};

export const checkResultSchema = z.discriminatedUnion("kind", [
  z.object({ ...resultBase, kind: z.literal("drift"), details: driftDetailsSchema }),
  z.object({ ...resultBase, kind: z.literal("integrity"), details: integrityDetailsSchema }),
  z.object({ ...resultBase, kind: z.literal("files"), details: fileSyncDetailsSchema }),
]);

export const checkRunSchema = z.object({
  status: checkStatusSchema,
  startedAt: z.string(),
  finishedAt: z.string(),
  results: z.array(checkResultSchema),
});

export type DriftDetails = z.infer<typeof driftDetailsSchema>;
export type IntegrityDetails = z.infer<typeof integrityDetailsSchema>;
export type FileSyncDetails = z.infer<typeof fileSyncDetailsSchema>;
export type CheckResult = z.infer<typeof checkResultSchema>;
export type DriftResult = Extract<CheckResult, { kind: "drift" }>;
export type IntegrityResult = Extract<CheckResult, { kind: "integrity" }>;
export type FileSyncResult = Extract<CheckResult, { kind: "files" }>;
export type CheckRun = z.infer<typeof checkRunSchema>;

// A definite failure outranks "could not check": the banner should say what is known
// to be broken before what is unknown.
const RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, error: 2, fail: 3 };

export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = "pass";
  for (const s of statuses) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}
