// Every environment variable Vaultline reads, parsed once with zod (DESIGN §7).
// A bad value stops start-up with a message naming the variable.
import { z } from "zod";
import path from "node:path";
import { parseTrustProxy, type TrustProxy } from "./client-ip";
import { checkOidcEnv, oidcEnvShape } from "./oidc-config";
import { keyEnv } from "./validation/keys";
import { hasSeveralHosts, readDbUrlOrNull, SOCKET_HINT, SOCKET_IN_HOST_HINT, socketHostInline } from "./pg-hosts";
import { SERVICE_MESSAGE, SEVERAL_HOSTS_MESSAGE } from "./validation/targets";
import { isWithin } from "./path-within";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalUrl = z.string().url().optional();
/** Vaultline's own database: one host (its pools connect without asking which), then a URL. */
const oneHostUrl = z
  .string()
  .refine((u) => !hasSeveralHosts(u), { message: SEVERAL_HOSTS_MESSAGE, abort: true })
  // Vaultline's own pools take the socket directory in the host part only (decision 203 rewrites a target's).
  .pipe(z.string().url({ message: `a URL${SOCKET_IN_HOST_HINT}` }))
  .optional();
/** The default target's URL: one host, or libpq's failover form (decision 183). */
const targetUrl = z
  .string()
  .refine((u) => readDbUrlOrNull(u) !== null, { message: `a URL (several hosts as host:port,host:port)${SOCKET_HINT}`, abort: true })
  .refine((u) => !readDbUrlOrNull(u)?.searchParams.has("service"), SERVICE_MESSAGE)
  .optional();
const positiveInt = z.coerce.number().int().positive();

const schema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    // Above the idle timeout of load balancers in front (AWS ALB: 60 s), so that they, not
    // we, close idle connections — otherwise a request can race our close and be reset.
    HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: positiveInt.max(3600).default(65),
    HTTP_HEADERS_TIMEOUT_SECONDS: positiveInt.max(3601).optional(),
    TRUST_PROXY: z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        try {
          parseTrustProxy(v);
        } catch (e) {
          ctx.addIssue({ code: "custom", message: `a hop count or comma-separated IPs/CIDRs: ${(e as Error).message}` });
        }
      }),
    DATA_DIR: z.string().min(1).default(".data"),
    DATABASE_URL: oneHostUrl,
    TARGET_DATABASE_URL: targetUrl,
    STORAGE: z.enum(["local", "s3"]).default("local"),
    LOCAL_STORAGE_DIR: z.string().min(1).optional(),
    S3_ENDPOINT: optionalUrl,
    S3_REGION: z.string().min(1).default("us-east-1"),
    S3_BUCKET: z.string().min(1).optional(),
    S3_ACCESS_KEY_ID: z.string().min(1).optional(),
    S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    S3_FORCE_PATH_STYLE: bool.default(false),
    STORAGE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, "letters, digits, . _ - and / only")
      .refine((p) => !p.split("/").some((s) => s === "." || s === ".."), "no . or .. segments")
      .default("backups"),
    BACKUP_ENV: z
      .string()
      .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, "letters, digits, . _ - only, not starting with .")
      .default("prod"),
    BACKUP_ENCRYPTION_PASSPHRASE: z.string().min(12, "at least 12 characters").optional(),
    BACKUP_ENCRYPTION_KEY_ID: z.string().regex(/^[0-9a-f]{16}$/, "16 lowercase hex digits").optional(),
    ...keyEnv,
    BACKUP_TIMEOUT_MINUTES: positiveInt.default(60),
    /** How long pg_dump waits for a table lock another session holds before the backup fails naming it (decision 175). */
    BACKUP_LOCK_WAIT_SECONDS: positiveInt.max(86_400).default(300),
    /** A session that waits this long for a running backup's lock is notified (BACKUP_BLOCKING), once per backup; 0 = never (decision 175). */
    BACKUP_BLOCKING_ALERT_SECONDS: z.coerce.number().int().nonnegative().max(86_400).default(30),
    /** A scheduled backup a session has waited this long for gives way: it stops, fails naming that session, and is retried; 0 = never (decision 187). */
    BACKUP_GIVE_WAY_SECONDS: z.coerce.number().int().nonnegative().max(86_400).default(0),
    NEXTAUTH_SECRET: z.string().min(16).optional(),
    /** Encrypts target connection URLs at rest (lib/backup/target-secret.ts); default NEXTAUTH_SECRET. */
    TARGET_URL_SECRET: z.string().min(16).optional(),
    NEXTAUTH_URL: optionalUrl,
    SESSION_MAX_DAYS: z.coerce.number().positive().max(365).default(7),
    ADMIN_EMAIL: z.string().email().optional(),
    ADMIN_PASSWORD: z.string().min(10, "at least 10 characters").optional(),
    PG_BIN_DIR: z.string().min(1).optional(),
    FILES_DIR: z.string().min(1).optional(),
    /** Where a restore into a copy puts the backup's files, in a directory named as the copy (decision 191); unset: a copy restores the database only. */
    RESTORE_COPY_FILES_DIR: z.string().min(1).optional(),
    APP_COMMIT_SHA: z.string().regex(/^[0-9a-f]{7,40}$/i).optional(),
    APP_REPO_DIR: z.string().min(1).optional(),
    // Shorter names many CI systems and Dockerfiles already set; the APP_ ones win.
    COMMIT_SHA: z.string().regex(/^[0-9a-f]{7,40}$/i).optional(),
    APP_DIR: z.string().min(1).optional(),
    APP_MIGRATIONS_DIR: z.string().min(1).optional(),
    CHECKS_FILE: z.string().min(1).optional(),
    DRILL_DATABASE_URL: optionalUrl,
    RESTORE_STRATEGY: z.enum(["auto", "swap", "in-place"]).default("auto"),
    RESTORE_KEEP_PREVIOUS_HOURS: z.coerce.number().nonnegative().default(24),
    RESTORE_JOBS: positiveInt.max(64).default(2),
    /** How long an in-place restore waits for a lock another session holds before it fails, rolled back (decision 157). */
    RESTORE_LOCK_TIMEOUT_SECONDS: positiveInt.max(86_400).default(300),
    /** Free space Vaultline leaves on a disk it writes a copy to: the database server's (restores, drills, where it can see it) and local storage's (backups). Decision 159. */
    DISK_RESERVE_MB: z.coerce.number().int().nonnegative().max(1_048_576).default(1024),
    STORAGE_WARN_BYTES: z.coerce.number().int().nonnegative().optional(),
    WEBHOOK_SECRET: z.string().min(1).optional(),
    SMTP_URL: optionalUrl,
    SMTP_FROM: z.string().min(3).default("vaultline@localhost"),
    DEPLOY_COMMAND: z.string().min(1).optional(),
    DEPLOY_WEBHOOK_URL: optionalUrl,
    ROLLBACK_COMMAND: z.string().min(1).optional(),
    ROLLBACK_WEBHOOK_URL: optionalUrl,
    HOOK_TIMEOUT_SECONDS: positiveInt.default(600),
    WORKER_IN_WEB: bool.default(true),
    // Web server processes sharing the port (node:cluster, scripts/serve.ts): one Node
    // thread answers ~100 catalogue requests/s at most; a second uses a second core.
    WEB_CONCURRENCY: positiveInt.max(32).default(1),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    ...oidcEnvShape,
  })
  .superRefine((c, ctx) => {
    checkOidcEnv(c, ctx);
    if (c.HTTP_HEADERS_TIMEOUT_SECONDS !== undefined && c.HTTP_HEADERS_TIMEOUT_SECONDS <= c.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS) {
      ctx.addIssue({ code: "custom", path: ["HTTP_HEADERS_TIMEOUT_SECONDS"], message: "must be above HTTP_KEEP_ALIVE_TIMEOUT_SECONDS" });
    }
    if (c.RESTORE_COPY_FILES_DIR && c.FILES_DIR && isWithin(c.RESTORE_COPY_FILES_DIR, c.FILES_DIR)) {
      ctx.addIssue({ code: "custom", path: ["RESTORE_COPY_FILES_DIR"], message: "must be outside FILES_DIR: the application serves and backs up what is there" });
    }
    if (c.STORAGE === "s3") {
      for (const k of ["S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
        if (!c[k]) ctx.addIssue({ code: "custom", path: [k], message: "required when STORAGE=s3" });
      }
    }
  });

export type Config = z.infer<typeof schema> & {
  databaseUrl: string;
  targetDatabaseUrl: string;
  localStorageDir: string;
  dataDir: string;
  encryptionPassphrase: string;
  nextAuthSecret: string;
  trustProxy: TrustProxy;
  /** Node's server.headersTimeout, above keepAliveTimeout. */
  httpHeadersTimeoutSeconds: number;
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses `env` (process.env by default). Throws ConfigError naming each bad variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const r = schema.safeParse(cleaned);
  if (!r.success) {
    throw new ConfigError(
      r.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`),
    );
  }
  const c = r.data;
  const problems: string[] = [];
  if (!c.DATABASE_URL) problems.push("DATABASE_URL: required (npm start sets it for the embedded server)");
  if (!c.BACKUP_ENCRYPTION_PASSPHRASE && !c.BACKUP_ENCRYPTION_PUBLIC_KEY)
    problems.push("BACKUP_ENCRYPTION_PASSPHRASE: required (or BACKUP_ENCRYPTION_PUBLIC_KEY); backups are never stored unencrypted");
  if (!c.NEXTAUTH_SECRET) problems.push("NEXTAUTH_SECRET: required (at least 16 characters)");
  if (problems.length) throw new ConfigError(problems);
  const dataDir = path.resolve(/*turbopackIgnore: true*/ c.DATA_DIR);
  return {
    ...c,
    APP_COMMIT_SHA: c.APP_COMMIT_SHA ?? c.COMMIT_SHA,
    APP_REPO_DIR: c.APP_REPO_DIR ?? c.APP_DIR,
    dataDir,
    databaseUrl: c.DATABASE_URL!,
    // As written, or libpq's user@/db?host= form in the one every reader here reads (decision 203).
    targetDatabaseUrl: socketHostInline(c.TARGET_DATABASE_URL ?? c.DATABASE_URL!),
    localStorageDir: path.resolve(/*turbopackIgnore: true*/ c.LOCAL_STORAGE_DIR ?? path.join(dataDir, "backups")),
    encryptionPassphrase: c.BACKUP_ENCRYPTION_PASSPHRASE ?? "",
    nextAuthSecret: c.NEXTAUTH_SECRET!,
    trustProxy: parseTrustProxy(c.TRUST_PROXY),
    httpHeadersTimeoutSeconds: c.HTTP_HEADERS_TIMEOUT_SECONDS ?? c.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS + 1,
  };
}

let cached: Config | undefined;
/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig();
  return cached;
}

/** For tests that change the environment between cases. */
export function resetConfigForTests(): void {
  cached = undefined;
}
