// Targets (DESIGN §8): the databases one Vaultline protects. Parsed here, at the boundary;
// the domain's view is lib/backup/targets.ts.
import { isInsidePosix } from "../path-segments";
import { z } from "zod";
import { readDbUrlOrNull, SESSION_ATTRS, SOCKET_HINT } from "../pg-hosts";
import { retentionSchema, scheduleSchema } from "./settings";

/** A target's name: a path segment of its storage keys, so lower-case letters, digits and '-'. */
export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const DEFAULT_TARGET_ID = "default";
export const DEFAULT_TARGET_NAME = "default";

export const targetNameSchema = z
  .string()
  .regex(TARGET_NAME_PATTERN, "lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters");

export const targetEnvironmentSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,62}$/, "letters, digits, . _ - only, not starting with . (prod, staging, …); a path segment of storage keys, as BACKUP_ENV");

import { RESERVED_TARGET_SEGMENTS, targetSelectorSchema } from "./target-selector";
export { targetSelectorSchema };

/** libpq's SSL modes: the URL reaches pg_dump, which refuses any other (node-pg's `no-verify`). */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

/** libpq's failover form, `postgresql://h1:5432,h2:5432/db`: several hosts in one URL. */
export const SEVERAL_HOSTS_MESSAGE =
  "one host for Vaultline's own database: a URL with several hosts (libpq's failover form, h1,h2) is taken for targets only — the pools of Vaultline's own database connect to one. Name the primary's host, or a DNS name or proxy that follows it (decision 183)";

export const SERVICE_MESSAGE =
  "service= names a pg_service.conf entry, which pg_dump reads and Vaultline's own sessions (node-pg) do not — they would connect elsewhere: write the host, port, user and database in the URL";

export const databaseUrlSchema = z
  .string()
  .max(2048)
  .refine((u) => {
    const p = readDbUrlOrNull(u);
    return p !== null && (p.protocol === "postgres:" || p.protocol === "postgresql:") && p.pathname.length > 1;
  }, { message: `a postgres:// or postgresql:// URL naming a database (several hosts as host:port,host:port)${SOCKET_HINT}`, abort: true })
  // pg_dump would read the connection from ~/.pg_service.conf and node-pg would not: two servers.
  .refine((u) => !readDbUrlOrNull(u)?.searchParams.has("service"), SERVICE_MESSAGE)
  // libpq takes a list in the host parameter too; Vaultline reads the one in the URL's host part (decision 183).
  .refine((u) => !(readDbUrlOrNull(u)?.searchParams.get("host") ?? "").includes(","), "several hosts go in the URL's host part (postgresql://user@h1:5432,h2:5432/db), not in its host parameter")
  .refine((u) => {
    const mode = readDbUrlOrNull(u)?.searchParams.get("sslmode") ?? null;
    return mode === null || (SSL_MODES as readonly string[]).includes(mode);
  }, `sslmode must be one libpq knows: ${SSL_MODES.join(", ")}`)
  .refine((u) => {
    const attrs = readDbUrlOrNull(u)?.searchParams.get("target_session_attrs") ?? null;
    return attrs === null || (SESSION_ATTRS as readonly string[]).includes(attrs);
  }, `target_session_attrs must be one libpq knows: ${SESSION_ATTRS.join(", ")}`);

/**
 * What each target may set for itself. Absent means:
 * - schedule: the `default` target follows Settings → Schedule; any other has no schedule;
 * - retention: Settings → Retention, applied to the target's own backups;
 * - checksFile / filesDir: CHECKS_FILE / FILES_DIR for `default`; none for the others;
 * - notify.channelIds: every channel subscribed to the event;
 * - gate: the gate request's own values (maxAgeMinutes 60, require ANY, duringBackup block);
 * - giveWaySeconds: BACKUP_GIVE_WAY_SECONDS;
 * - copyFilesDir: RESTORE_COPY_FILES_DIR.
 */
export const targetSettingsSchema = z
  .strictObject({
    schedule: scheduleSchema.optional(),
    retention: retentionSchema.optional(),
    checksFile: z.string().min(1).max(1024).optional(),
    filesDir: z.string().min(1).max(1024).optional(),
    notify: z.strictObject({ channelIds: z.array(z.string().min(1).max(64)).max(100) }).optional(),
    gate: z
      .strictObject({
        maxAgeMinutes: z.number().int().positive().max(60 * 24 * 30).optional(),
        require: z.enum(["FULL", "ANY"]).optional(),
        /** A deploy while a FULL backup of the target runs: refused ("block", the default) or let through (decision 175). */
        duringBackup: z.enum(["block", "allow"]).optional(),
      })
      .optional(),
    /**
     * A scheduled backup of this target that a session has waited this long for stops and is
     * retried; 0 = never (decision 189). Absent: BACKUP_GIVE_WAY_SECONDS.
     */
    giveWaySeconds: z.number().int().nonnegative().max(86_400).optional(),
    /**
     * Where a restore into a copy of this target puts the backup's files, each copy in a
     * directory of its own name (decision 192). Absent: RESTORE_COPY_FILES_DIR.
     */
    copyFilesDir: z
      .string()
      .min(1)
      .max(1024)
      .refine((p) => p.startsWith("/"), { message: "an absolute path: the worker and the dashboard may not share a working directory" })
      .optional(),
  })
  .superRefine((s, ctx) => {
    if (s.copyFilesDir && s.filesDir && isInsidePosix(s.copyFilesDir, s.filesDir)) {
      ctx.addIssue({
        code: "custom",
        path: ["copyFilesDir"],
        message: "inside the files directory, which the application serves and backs up: choose a directory outside it",
      });
    }
  });

export type TargetSettings = z.infer<typeof targetSettingsSchema>;

/** A stored settings value, read leniently: an unreadable section is dropped, not fatal. */
export function readTargetSettings(value: unknown): TargetSettings {
  const r = targetSettingsSchema.safeParse(value ?? {});
  if (r.success) return r.data;
  const out: Record<string, unknown> = {};
  const obj = (value && typeof value === "object" ? value : {}) as Record<string, unknown>;
  for (const [k, schema] of Object.entries(targetSettingsSchema.shape)) {
    const one = (schema as z.ZodType).safeParse(obj[k]);
    if (one.success && one.data !== undefined) out[k] = one.data;
  }
  return out as TargetSettings;
}

// ---- Managing targets (Settings → Targets, /api/targets) ----

/**
 * Names a target may not take: `default` is the environment's target; `test` is the path
 * segment of POST /api/targets/test (a target named so could not be addressed by name);
 * `audit`, `restores`, `deployments` and `targets` are folders beside the targets' under
 * `<prefix>/<environment>/` (RESERVED_TARGET_SEGMENTS). A four-digit
 * name would sit beside the years of the layout before targets (`<prefix>/<env>/YYYY/…`).
 */
export const RESERVED_TARGET_NAMES: readonly string[] = [DEFAULT_TARGET_NAME, "test", ...RESERVED_TARGET_SEGMENTS];

const newTargetNameSchema = targetNameSchema
  .refine((n) => !RESERVED_TARGET_NAMES.includes(n), {
    message: `reserved: ${RESERVED_TARGET_NAMES.join(", ")} cannot name a new target`,
  })
  .refine((n) => !/^\d{4}$/.test(n), { message: "a four-digit name would sit beside the years of older backups in storage; choose another" });

export const createTargetSchema = z.strictObject({
  name: newTargetNameSchema,
  environment: targetEnvironmentSchema,
  databaseUrl: databaseUrlSchema,
  settings: targetSettingsSchema.optional(),
});
export type CreateTargetInput = z.infer<typeof createTargetSchema>;

/** Each field given replaces the stored one; `settings` replaces the settings whole. */
export const updateTargetSchema = z
  .strictObject({
    name: newTargetNameSchema.optional(),
    environment: targetEnvironmentSchema.optional(),
    databaseUrl: databaseUrlSchema.optional(),
    settings: targetSettingsSchema.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: "nothing to change: send name, environment, databaseUrl or settings" });
export type UpdateTargetInput = z.infer<typeof updateTargetSchema>;

/** POST /api/targets/test: a URL tested before it is saved. */
export const testTargetUrlSchema = z.strictObject({ databaseUrl: databaseUrlSchema });

/** DELETE /api/targets/:id?force=true: also delete its backups (objects and rows), restores, deployments, drills. */
export const deleteTargetQuerySchema = z.object({
  force: z.enum(["true", "false"]).optional().transform((v) => v === "true"),
});

/** `?target=` of GET /api/checks. */
export { targetQuerySchema } from "./target-selector";
/** The body of POST /api/checks/run (may be empty). */
export const targetBodySchema = z.strictObject({ target: targetSelectorSchema.optional() });

/** RuntimeState key of a target's last check run: the default target keeps the original key. */
export function checksStateKey(targetId: string | undefined, base: string): string {
  return !targetId || targetId === DEFAULT_TARGET_ID ? base : `${base}:${targetId}`;
}
