// What the API answers, as zod schemas: the OpenAPI document's response bodies
// (lib/openapi/document.ts). The routes build their answers from the TypeScript types in
// lib/validation and lib/*; each schema here is checked against its type at compile time
// (`same<…>` below), so a field added to a type and not here fails `tsc`, and
// tests/openapi.integration.test.ts checks real answers against the document.
// zod only: browser-safe.
import { z } from "zod";
import { ERROR_STATUS } from "../errors";
import { BACKUP_KINDS, BACKUP_TRIGGERS, JOB_STATUSES, VerifyStatus, type BackupDto } from "../validation/backups";
import { checkRunSchema } from "../validation/checks";
import { DEPLOYMENT_STATUSES, type DeploymentDto, type DeployState, type StoredCheckRun } from "../validation/deploy";
import type { RestoreDto, RestorePreview } from "../validation/restores";
import { compressionSchema, retentionSchema, scheduleSchema, notificationsSchema, SETTINGS_SECTIONS } from "../validation/settings";
import { manifestSchema } from "../backup/manifest";
import { drillSummarySchema, drillSettingsViewSchema } from "./drill";
import type { TodaySummary } from "../backup/today";
import type { StorageUsage } from "../backup/storage-usage";
import type { AuditEventDto } from "../audit-query";
import { ROLES, SCOPES } from "../permissions";

/** Compile-time: the schema's output and the type the route answers are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check = <S extends z.ZodType>(_schema: S) => ({ is: <T>(_ok: Same<z.output<S>, T>) => {} });

const isoTime = z.string().meta({ format: "date-time" });
const checkRun = checkRunSchema.meta({ id: "CheckRun", description: "One run of the checks: drift, integrity rules, file sync." });
const count = z.number().int().nonnegative();

// ---- errors (DESIGN §6, lib/errors.ts) ----

export const errorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [keyof typeof ERROR_STATUS, ...(keyof typeof ERROR_STATUS)[]]);

export const errorSchema = z
  .object({
    error: z.object({
      code: errorCodeSchema,
      message: z.string(),
      /** VALIDATION_FAILED: `{fields: [{path, message}]}`; others: what the code needs (a tombstone, the expected word). */
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "Error", description: "Every error: a code from lib/errors.ts's table and a message for people." });

// ---- backups ----

const userRefSchema = z.object({ id: z.string(), displayName: z.string(), email: z.string(), role: z.string() });

/** The target a row belongs to (DESIGN §8): never its connection URL. */
export const targetRefSchema = z
  .object({ id: z.string(), name: z.string(), environment: z.string() })
  .meta({ id: "TargetRef", description: "The target (database) a backup, restore or deployment belongs to." });

export const backupSchema = z
  .object({
    id: z.string(),
    target: targetRefSchema,
    kind: z.enum(BACKUP_KINDS),
    trigger: z.enum(BACKUP_TRIGGERS),
    status: z.enum(JOB_STATUSES),
    initiatedBy: userRefSchema.nullable(),
    storageKey: z.string().nullable(),
    sizeBytes: z.number().nullable(),
    checksumSha256: z.string().nullable(),
    encrypted: z.boolean().meta({ description: "Whether the stored parts are encrypted (OpenPGP). False for a QUICK backup, which stores only its manifest, in plain JSON." }),
    durationSeconds: z.number().nullable(),
    startedAt: isoTime.nullable(),
    completedAt: isoTime.nullable(),
    createdAt: isoTime,
    failureReason: z.string().nullable(),
    commitSha: z.string().nullable(),
    note: z.string().nullable(),
    verifiedAt: isoTime.nullable(),
    verifyStatus: z.enum(VerifyStatus).nullable(),
    drillPassedAt: isoTime.nullable().meta({ description: "When a restore drill last proved this backup restorable." }),
    phase: z.string().nullable(),
    progressBytes: z.number(),
    attempt: z.number().int(),
    retryOfId: z.string().nullable(),
  })
  .meta({ id: "Backup" });
check(backupSchema).is<BackupDto>(true);

const page = { total: count, limit: count, offset: count };

export const backupListSchema = z.object({ backups: z.array(backupSchema), ...page }).meta({ id: "BackupList" });

export const backupQueuedSchema = z.object({ id: z.string(), status: z.enum(JOB_STATUSES) }).meta({ id: "BackupQueued" });

export const jobQueuedSchema = z.object({ id: z.string(), status: z.literal("QUEUED") }).meta({ id: "JobQueued" });

export const backupStatusSchema = backupSchema
  .pick({
    id: true,
    status: true,
    phase: true,
    progressBytes: true,
    sizeBytes: true,
    startedAt: true,
    completedAt: true,
    durationSeconds: true,
    failureReason: true,
    checksumSha256: true,
  })
  .meta({ id: "BackupStatus" });

/** Another session, as much as finds and ends it: never what it runs. */
const lockSessionSchema = z.object({
  pid: z.number().int(),
  user: z.string().nullable(),
  application: z.string().nullable(),
  state: z.string().nullable(),
  kind: z.string().nullable(),
  client: z.string().nullable(),
  transactionSeconds: z.number().nullable(),
});
const blockedSessionSchema = lockSessionSchema.extend({
  table: z.string().nullable(),
  mode: z.string().nullable().describe("The lock it waits for, e.g. AccessExclusiveLock"),
  seconds: z.number().describe("Seconds it has waited"),
  behind: z.number().int().describe("Sessions waiting behind it"),
});

/** The stored manifest (keyFingerprint never shown; the key id only to who may download), or why it could not be read. */
const manifestViewSchema = z.union([manifestSchema, z.object({ error: z.string() })]);

export const backupDetailSchema = backupSchema
  .extend({
    manifest: manifestViewSchema.nullable(),
    /** The catalogue row's metadata as the backup job wrote it (phases, parts). */
    metadata: z.unknown(),
    safetyFor: z
      .object({ restoreId: z.string(), backupId: z.string(), restoreStatus: z.string(), restoreFailureReason: z.string().nullable(), at: isoTime })
      .nullable(),
    locks: z
      .object({
        at: isoTime.nullable().describe("When the backup's sessions were last sampled; null once it has ended"),
        waiting: z
          .array(z.object({ pid: z.number().int(), table: z.string().nullable(), seconds: z.number(), heldBy: z.array(lockSessionSchema) }))
          .describe("The backup's sessions (pg_dump, the checksums) waiting now for a lock another session holds: a migration, a transaction left open"),
        blocking: z.array(blockedSessionSchema).describe("Other sessions waiting now for a lock the backup holds; behind = sessions queued behind each"),
        blocked: z.array(blockedSessionSchema).describe("Every session that waited a second or more for the backup's locks while it ran, at its longest wait; kept after the end"),
      })
      .nullable()
      .describe("A FULL backup's table locks on its database (pg_dump holds one on every table until it ends): live while it dumps, then who waited for it; null when nobody waited"),
  })
  .meta({ id: "BackupDetail" });

export const todaySchema = z
  .object({
    target: targetRefSchema,
    state: z.enum(["ok", "missing", "failed", "running"]),
    dayStartUtc: isoTime,
    lastSuccess: backupSchema.nullable(),
    todays: z.object({ latest: backupSchema.nullable(), codeOnly: backupSchema.nullable() }),
    running: backupSchema.nullable(),
    lastFailure: backupSchema.nullable(),
    hoursSinceLastSuccess: z.number().nullable(),
    schedule: z.object({ enabled: z.boolean(), cron: z.string(), timezone: z.string(), nextRunAt: isoTime.nullable(), lastRunAt: isoTime.nullable() }),
    drill: drillSummarySchema,
  })
  .meta({ id: "Today" });
check(todaySchema).is<TodaySummary>(true);

export const storageUsageSchema = z
  .object({
    totalBytes: z.number(),
    warnBytes: z.number().nullable(),
    overWarn: z.boolean(),
    backups: count,
    disk: z
      .object({
        dir: z.string(),
        freeBytes: z.number(),
        totalBytes: z.number(),
        reserveBytes: z.number().describe("DISK_RESERVE_MB: a backup stops before it takes this"),
        nextBackupBytes: z.number().describe("The largest FULL backup of the last 8 days, taken for what the next one needs (0: none)"),
        fits: z.boolean().describe("The next backup fits above the reserve"),
      })
      .nullable()
      .describe("Local storage's disk; null for S3"),
  })
  .meta({ id: "StorageUsage" });
check(storageUsageSchema).is<StorageUsage>(true);

// ---- restores ----

const objectDifferenceSchema = z.object({ added: z.array(z.string()), dropped: z.array(z.string()), changed: z.array(z.string()), ownerChanged: z.array(z.string()) });

export const restorePreviewSchema = z
  .object({
    backup: z.object({ id: z.string(), kind: z.string(), createdAt: isoTime, completedAt: isoTime.nullable(), sizeBytes: z.number().nullable(), commitSha: z.string().nullable() }),
    verified: z.object({ ok: z.boolean(), reason: z.string().nullable(), needsPrivateKey: z.literal(true).optional().meta({ description: "A write-only backup: the restore needs its private key (decryptionKey)." }) }),
    differences: z.object({
      tables: z.object({ added: z.array(z.string()), dropped: z.array(z.string()) }),
      columns: z.object({ added: z.array(z.string()), dropped: z.array(z.string()), changed: z.array(z.string()) }),
      migrations: z.object({ reverted: z.array(z.string()), reapplied: z.array(z.string()) }),
      database: z
        .array(z.string())
        .nullable()
        .optional()
        .meta({
          description:
            "The database's own owner, connection limit, grants, comment and settings, live against the backup's, one line each; the restore gives the backup's back (decision 194). Null for Vaultline's own database and backups that did not record them.",
        }),
      databaseReassigned: z
        .array(z.string())
        .nullable()
        .optional()
        .meta({
          description:
            "The same lines for a restore with ownership \"reassign\": the database keeps its owner, and its grants unless plan.ownership.reassignKeepsGrants (decision 196). Null where `database` is.",
        }),
    }),
    objects: z.record(z.string(), objectDifferenceSchema).nullable(),
    plan: z
      .object({
        strategy: z.enum(["swap", "in-place"]),
        strategyReason: z.string(),
        ownership: z.object({
          canKeep: z.boolean(),
          problems: z.array(z.string()),
          roles: z.array(z.string()).nullable(),
          reassignKeepsGrants: z
            .boolean()
            .optional()
            .describe('With "ownership":"reassign" (every object given to the connecting role), whether the backup\'s grants are kept: not when a grantee is missing or a grant was made by a role that does not own its object. Absent before decision 182.'),
        }),
        tempSpace: z
          .object({ dir: z.string(), neededBytes: z.number(), freeBytes: z.number().nullable() })
          .nullable()
          .optional()
          .describe("The swap restore's temporary copy of the decompressed archive: bytes needed (with 64 MiB of headroom) and free in the temp directory; null when the plan spools nothing"),
        serverDisk: z
          .object({
            neededBytes: z.number().describe("What the restored copy takes on the server's disk: the database's size when backed up (basis backup) or, for older backups, the live database's now (basis live)"),
            basis: z.enum(["backup", "live"]),
            tablespace: z.string(),
            reserveBytes: z.number().describe("Free space the restore leaves (DISK_RESERVE_MB): it stops before the copy or its WAL take it"),
            disks: z
              .array(
                z.object({
                  dir: z.string(),
                  holds: z.array(z.enum(["copy", "wal"])),
                  tablespaces: z
                    .array(z.string())
                    .optional()
                    .describe("The tablespaces whose part of the copy lands on this disk; set only when the database keeps relations in a tablespace other than its own"),
                  neededBytes: z.number().optional().describe("What the copy takes on this disk (0 for the WAL's alone)"),
                  freeBytes: z.number(),
                  totalBytes: z.number(),
                }),
              )
              .nullable()
              .describe("The server's disks as measured on this machine; null when they could not be"),
            unmeasured: z.string().nullable().describe("Why the disks were not measured (the server runs elsewhere, the role may not read data_directory); null when they were"),
          })
          .nullable()
          .optional()
          .describe("The server's disk: a restore writes a second copy of the data there before the first goes; null when the server could not be asked"),
        filesDisk: z
          .object({
            dir: z.string().describe("FILES_DIR"),
            neededBytes: z.number().describe("The files part's tar size: what the extracted files take"),
            freeBytes: z.number().nullable(),
            totalBytes: z.number().nullable(),
            reserveBytes: z.number().describe("Free space the restore leaves (DISK_RESERVE_MB); it refuses when the files will not fit above it"),
          })
          .nullable()
          .optional()
          .describe("FILES_DIR's disk: the backup's files are extracted there beside the files there now; null without a files part or FILES_DIR"),
        needsSuperuser: z
          .object({ user: z.string(), objects: z.array(z.string()) })
          .nullable()
          .optional()
          .describe("Null when Vaultline's role on the target is a superuser; otherwise that role and the backup's objects only a superuser may create (the restore fails on them)"),
        subscriptions: z
          .array(z.string())
          .optional()
          .describe("The live database's logical replication subscriptions: after the restore each is disabled (as pg_dump recreates them) and must be enabled again"),
        replicationSlots: z
          .array(z.object({ name: z.string(), plugin: z.string(), active: z.boolean(), retainedBytes: z.number().nullable() }))
          .optional()
          .describe("The live database's logical replication slots (a subscriber or a change-data-capture pipeline reads each): no restore carries them; a swap leaves them with the previous database, an in-place restore is decoded by them, and their consumers need a re-sync. retainedBytes: WAL the server keeps for the slot now"),
        extensionVersions: z
          .array(z.object({ name: z.string(), recorded: z.string().nullable(), restoredAs: z.string(), pinned: z.boolean(), installable: z.boolean(), serverDefault: z.string() }))
          .optional()
          .describe(
            "The backup's extensions whose version is not this server's default. pinned: restored at the recorded version (pg_dump alone would make the default); otherwise this server cannot install the recorded version (recorded null: the backup did not record it) and the extension is restored at restoredAs, the default",
          ),
        pinnedExtensions: z
          .array(z.object({ name: z.string(), setting: z.string(), database: z.string().nullable() }))
          .optional()
          .describe(
            "The backup's extensions that a server lets one database have, the one a server setting names (pg_cron: cron.database_name), and the database this server names (null: the server does not load the extension). Named this database: the swap's fresh copy cannot have it, so the restore runs in place; another, or null: the restore refuses until the setting is changed; a copy leaves it out",
          ),
        searchPath: z
          .array(z.object({ kind: z.string(), name: z.string(), error: z.string(), fn: z.string().nullable() }))
          .optional()
          .describe(
            "Expressions the restore evaluates (an expression or partial index, a CHECK constraint or a generated column, a materialized view) that, tried on the live database with the empty search_path a restore runs with, name something that is not found: the restore is likely to fail there. fn: the function whose body names it",
          ),
        keepHours: z.number().optional().describe("How long a swap restore keeps the previous database for Undo, hours (RESTORE_KEEP_PREVIOUS_HOURS)"),
        standby: z
          .boolean()
          .optional()
          .describe("The target's server is a standby (in recovery, read-only): nothing can be restored into it and the restore refuses to run; restore on the primary"),
        pooled: z
          .boolean()
          .optional()
          .describe("The target's URL goes through a connection pooler in transaction mode (two sessions shared one server process): the restore refuses to run through it; use the direct URL or the pooler's session mode"),
        preparedTransactions: z
          .array(z.object({ gid: z.string(), owner: z.string(), prepared: z.string() }))
          .optional()
          .describe("Transactions prepared for two-phase commit (pg_prepared_xacts) in the live database: they hold their locks until committed or rolled back, and the restore refuses to run while any is there"),
        locks: z
          .object({ perTransaction: z.number(), slots: z.number(), relations: z.number() })
          .optional()
          .describe("The server's lock table (max_locks_per_transaction × connections) and the live database's relations: an in-place restore locks about twice the relations in one transaction, and the warnings say when that may not fit"),
      })
      .nullable(),
    missingDatabase: z
      .object({ name: z.string(), user: z.string(), canCreate: z.boolean().describe("Vaultline's role may create databases (CREATEDB or superuser); when not, the restore refuses") })
      .optional()
      .describe("The target's database does not exist on its server: the restore creates it as the backup had it, then loads the backup (plan is null until then)"),
    missingRoles: z
      .object({
        creatable: z.array(z.string()).describe("Missing, with a definition the backup recorded: a restore with createRoles makes them first"),
        unknown: z.array(z.string()).describe("Missing, without a recorded definition (a backup from before decision 171): create them by hand first"),
        passwordless: z.array(z.string()).describe("Of the creatable, the roles that logged in with a password: a backup holds none, so they are made without one"),
        needSuperuser: z.array(z.string()).describe("Of the creatable, those only a superuser may make (SUPERUSER; REPLICATION or BYPASSRLS before PostgreSQL 16)"),
      })
      .nullable()
      .optional()
      .describe("Roles the backup's objects, database or memberships need that the target's server lacks (a rebuilt server); null when none is missing"),
    unavailableExtensions: z
      .array(z.string())
      .optional()
      .describe("Extensions the backup's database uses that the target's server cannot install (their packages are not installed there): the restore refuses until they are"),
    unloadedExtensions: z
      .array(z.string())
      .optional()
      .describe("Extensions the backup's database uses whose library the target's server does not load at its start (shared_preload_libraries), as they need (pgaudit): the restore refuses until it does"),
    untrustedExtensions: z
      .array(z.string())
      .optional()
      .describe("Extensions the backup's database uses that only a superuser may create (not trusted), when Vaultline connects as a role that is not one: every restore makes them again, so it refuses"),
    missingTablespaces: z
      .array(z.string())
      .optional()
      .describe('Tablespaces the backup\'s objects are placed in that the target\'s server lacks: the restore refuses unless asked for `"tablespaces": "default"`'),
    rowEstimates: z.record(z.string(), z.object({ live: z.number().nullable(), backup: z.number().nullable() })),
    ageSeconds: z.number(),
    targetIsVaultline: z.boolean(),
    safetyBackup: z.literal(true),
    warnings: z.array(z.string()),
    copyWarnings: z.array(z.string()).describe('What a restore into a copy (`"into": "copy"`) is warned of: nothing about the live database, which it does not change'),
  })
  .meta({ id: "RestorePreview" });
check(restorePreviewSchema).is<RestorePreview>(true);

const restoreFields = {
  id: z.string(),
  target: targetRefSchema,
  backupId: z.string(),
  safetyBackupId: z.string().nullable(),
  status: z.string(),
  phase: z.string().nullable(),
  startedAt: isoTime.nullable(),
  completedAt: isoTime.nullable(),
  createdAt: isoTime,
  durationSeconds: z.number().nullable(),
  failureReason: z.string().nullable(),
  /** The preview shown before the restore (RestorePreview), as stored. */
  preview: z.unknown(),
  /** The post-restore check run (CheckRun), as stored. */
  checks: z.unknown(),
  strategy: z.string().nullable(),
  ownership: z.string().nullable(),
  defaultTablespace: z.boolean().describe("Every object was placed in the database's own tablespace, not the one the backup named"),
  endBlockingSessions: z.boolean().describe("The restore was asked to end the sessions that held a lock it waited for, after a grace period, rather than wait for them"),
  createRoles: z.boolean().describe("The restore was asked to make the roles the target's server lacked, as the backup recorded them, before anything else"),
  previousDatabase: z.string().nullable(),
  copyFilesPath: z
    .string()
    .nullable()
    .describe("A restore into a copy: the directory on Vaultline's host its files part was extracted into, beside the live files; removed with the copy (previousDroppedAt). Null when the files were not restored"),
  keepUntil: isoTime.nullable(),
  previousDroppedAt: isoTime.nullable(),
  undoneAt: isoTime.nullable(),
  swapSeconds: z.number().nullable(),
  progress: z
    .object({ readBytes: z.number(), loadedBytes: z.number(), totalBytes: z.number() })
    .nullable()
    .describe("The database part's progress, written with each heartbeat: bytes of the archive read in and loaded into the database, of its total; null until the restore reaches its database part"),
  activity: z
    .object({
      at: isoTime,
      sessions: z.array(
        z.object({
          pid: z.number().int(),
          doing: z.enum(["index", "constraint", "copy", "other"]),
          name: z.string().nullable().describe("The index's or constraint's name"),
          table: z.string().nullable(),
          seconds: z.number().describe("Seconds since its statement began"),
          phase: z.string().nullable().describe("pg_stat_progress_create_index's phase while an index is built"),
          done: z.number().nullable(),
          total: z.number().nullable(),
          waitingFor: z
            .array(lockSessionSchema)
            .describe("Other sessions holding a lock this one waits for (pg_blocking_pids); empty when it does not wait"),
        }),
      ),
      items: z.object({ made: z.number().int(), of: z.number().int() }).nullable().describe("Indexes and constraints made, of the archive's (swap restore)"),
    })
    .nullable()
    .describe("While the database part runs: the restore's sessions on the server, what each builds and whose lock it waits for; null otherwise"),
  warnings: z.array(z.string()),
  canUndo: z.boolean(),
  initiatedBy: userRefSchema.nullable(),
};

export const restoreSchema = z
  .object({
    ...restoreFields,
    backupStatus: z.string().nullable().describe("The restored backup's status now; null when removed since"),
    safetyBackupStatus: z.string().nullable().describe("The safety backup's status now; null when none or removed since"),
    safetyBackup: z
      .object({ status: z.string(), phase: z.string().nullable(), progressBytes: z.number().int() })
      .nullable()
      .describe("The safety backup now: its phase and the bytes dumped so far, which move while it runs; null when none or removed since"),
  })
  .meta({ id: "Restore" });

export const restoreListItemSchema = z
  .object({ ...restoreFields, backupStatus: z.string().nullable(), safetyBackupStatus: z.string().nullable() })
  .meta({ id: "RestoreListItem", description: "A restore, with its backups' statuses now (null when removed since)." });
check(restoreListItemSchema.partial({ backupStatus: true, safetyBackupStatus: true })).is<RestoreDto>(true);

export const restoreListSchema = z.object({ restores: z.array(restoreListItemSchema), ...page }).meta({ id: "RestoreList" });

export const keptDroppedSchema = z.object({ restoreId: z.string(), database: z.string(), droppedAt: isoTime }).meta({ id: "KeptDatabaseDropped" });
export const keptLongerSchema = z
  .object({ restoreId: z.string(), database: z.string(), keepUntil: isoTime, before: isoTime.nullable() })
  .meta({ id: "KeptDatabaseKeptLonger", description: "keepUntil: when the sweep now drops it; before: when it would have." });
export const restoreStartedSchema = z
  .object({ restoreId: z.string(), preRestoreBackupId: z.string().nullable() })
  .meta({ id: "RestoreStarted", description: 'preRestoreBackupId is null for a restore into a copy (`"into": "copy"`): the live database is not touched.' });

export const undoneSchema = z.object({ restoreId: z.string(), undoneAt: isoTime, swapSeconds: z.number() }).meta({ id: "RestoreUndone" });

// ---- checks ----

export const storedCheckRunSchema = z
  .object({ run: checkRun, source: z.enum(["manual", "gate", "restore"]), by: z.string().nullable(), restoreId: z.string().nullable().optional() })
  .meta({ id: "StoredCheckRun" });
check(storedCheckRunSchema).is<StoredCheckRun>(true);

export const lastCheckRunSchema = z.object({ last: storedCheckRunSchema.nullable() }).meta({ id: "LastCheckRun" });

// ---- deploy ----

const hookKindSchema = z.enum(["command", "webhook", "command+webhook"]);

const gateFields = {
  backup: backupSchema.nullable(),
  checks: checkRun.nullable(),
  /** The Deployment row that records this decision. */
  deploymentId: z.string(),
  /** The PRE_DEPLOY backup this call queued or waited for, if any. */
  pendingBackupId: z.string().nullable(),
};

export const gateAllowedSchema = z.object({ allowed: z.literal(true), ...gateFields }).meta({ id: "GateAllowed" });

export const gateBlockedSchema = z
  .object({
    allowed: z.literal(false),
    ...gateFields,
    reasons: z.array(z.string()),
    error: z.object({ code: z.literal("BACKUP_REQUIRED"), message: z.string(), details: z.object({ reasons: z.array(z.string()) }) }),
  })
  .meta({ id: "GateBlocked", description: "428: no deploy. Carries the shared error shape too, so a generic client sees BACKUP_REQUIRED." });

export const deployStartedSchema = z
  .object({
    allowed: z.literal(true),
    deploymentId: z.string(),
    hook: hookKindSchema.nullable(),
    /** True when a hook was started (202); false when there is none to run (200). */
    running: z.boolean(),
    backup: backupSchema.nullable(),
    checks: checkRun.nullable(),
  })
  .meta({ id: "DeployStarted" });

export const deployStateSchema = z
  .object({
    gate: z.object({
      allowed: z.boolean(),
      reasons: z.array(z.string()),
      backup: backupSchema.nullable(),
      checksAt: isoTime.nullable(),
      checksStatus: z.string().nullable(),
      maxAgeMinutes: z.number().int(),
      require: z.enum(["FULL", "ANY"]),
    }),
    newestBackup: backupSchema.nullable(),
    staleWarning: z.string().nullable(),
    defaultCommit: z.string().nullable(),
    hooks: z.object({ deploy: hookKindSchema.nullable(), rollback: hookKindSchema.nullable(), timeoutSeconds: z.number() }),
    running: z.object({ id: z.string(), type: z.enum(["deploy", "rollback"]) }).nullable(),
  })
  .meta({ id: "DeployState" });
check(deployStateSchema).is<DeployState>(true);

const deploymentFields = {
  id: z.string(),
  target: targetRefSchema,
  type: z.enum(["gate", "deploy", "rollback", "record"]),
  commitSha: z.string(),
  environment: z.string(),
  gateDecision: z.boolean(),
  reasons: z.array(z.string()),
  checks: checkRun.nullable(),
  rollback: z
    .object({
      backupId: z.string(),
      backupKind: z.enum(BACKUP_KINDS),
      restoreId: z.string().nullable(),
      preRestoreBackupId: z.string().nullable(),
      phase: z.enum(["restoring", "code", "done"]).meta({ description: "Its database restore, then its code hook, then done." }),
    })
    .nullable(),
  backupId: z.string().nullable(),
  backup: z
    .object({ id: z.string(), kind: z.enum(BACKUP_KINDS), status: z.string(), trigger: z.string(), completedAt: isoTime.nullable(), commitSha: z.string().nullable() })
    .nullable(),
  status: z.enum(DEPLOYMENT_STATUSES),
  url: z.string().nullable(),
  actor: z.object({ id: z.string().nullable(), label: z.string().nullable() }),
  at: isoTime,
  completedAt: isoTime.nullable(),
  logBytes: count,
};

export const deploymentSchema = z
  .object({
    ...deploymentFields,
    /** The deploy command and its raw output: only for callers allowed `deployments.detail`. */
    log: z.string().optional(),
  })
  .meta({ id: "Deployment" });
check(deploymentSchema).is<DeploymentDto>(true);

export const deploymentListSchema = z
  .object({ deployments: z.array(z.object(deploymentFields).meta({ id: "DeploymentListItem" })), ...page })
  .meta({ id: "DeploymentList" });

export const rollbackStartedSchema = z
  .object({ deploymentId: z.string(), restoreId: z.string().optional(), preRestoreBackupId: z.string().optional() })
  .meta({ id: "RollbackStarted", description: "restoreId and preRestoreBackupId are absent for a QUICK (code-only) rollback." });

// ---- settings ----

const sectionMetaSchema = z.object({ version: z.number().int(), updatedAt: isoTime, updatedBy: z.string().nullable() }).nullable();

export const settingsViewSchema = z
  .object({
    settings: z.object({
      schedule: scheduleSchema,
      retention: retentionSchema,
      notifications: notificationsSchema,
      compression: compressionSchema,
      drill: drillSettingsViewSchema,
    }),
    meta: z.object(Object.fromEntries(SETTINGS_SECTIONS.map((s) => [s, sectionMetaSchema])) as Record<(typeof SETTINGS_SECTIONS)[number], typeof sectionMetaSchema>),
    nextRuns: z.array(isoTime),
  })
  .meta({ id: "SettingsView" });

export const settingsSavedSchema = settingsViewSchema
  .extend({ changed: z.array(z.enum(SETTINGS_SECTIONS)) })
  .meta({ id: "SettingsSaved", description: "The settings in force after the save, and the sections it changed." });

// ---- users, tokens, audit ----

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    disabledAt: isoTime.nullable(),
    lastLoginAt: isoTime.nullable(),
    createdAt: isoTime,
  })
  .meta({ id: "User" });

export const userListSchema = z.object({ users: z.array(userSchema) }).meta({ id: "UserList" });

const tokenFields = {
  id: z.string(),
  name: z.string(),
  /** The secret's first characters, to tell tokens apart. */
  prefix: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  lastUsedAt: isoTime.nullable(),
  expiresAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
  createdAt: isoTime,
  createdBy: z.object({ id: z.string(), email: z.string(), displayName: z.string() }),
};

export const tokenSchema = z.object(tokenFields).meta({ id: "ApiToken" });

export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) }).meta({ id: "ApiTokenList" });

export const tokenCreatedSchema = z
  .object({ ...tokenFields, token: z.string().meta({ description: "The secret: shown in this answer only. Send it as `Authorization: Bearer <token>`." }) })
  .meta({ id: "ApiTokenCreated" });

export const auditEventSchema = z
  .object({
    id: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    actorLabel: z.string().nullable(),
    action: z.string(),
    target: z.string().nullable().meta({ description: "What the event acted on (a backup's id, an email, a commit…), as text." }),
    targetId: z.string().nullable().meta({ description: "The target (database) the event concerns; null for events of none (sign-ins, users, tokens, settings)." }),
    targetRef: targetRefSchema.nullable().meta({ description: "That target's name and environment; null when none, or when the target has since been removed (`targetId` stays)." }),
    details: z.unknown(),
    ip: z.string().nullable(),
    at: isoTime,
  })
  .meta({ id: "AuditEvent" });
check(auditEventSchema).is<AuditEventDto>(true);

export const auditListSchema = z
  .object({ events: z.array(auditEventSchema), ...page, actions: z.array(z.string()).meta({ description: "Every action in the log, for the filter." }) })
  .meta({ id: "AuditList" });

// ---- health ----

const checkStateSchema = z.enum(["ok", "degraded", "down"]);

export const healthSchema = z
  .object({
    status: checkStateSchema,
    checks: z.record(z.string(), z.looseObject({ status: checkStateSchema, message: z.string().optional() })),
  })
  .meta({ id: "Health", description: "For a signed-in caller or a valid token: every check with its details." });

export const publicHealthSchema = z
  .object({ status: checkStateSchema, checks: z.record(z.string(), z.enum(["ok", "failing"])) })
  .meta({ id: "PublicHealth", description: "For anyone else: the state and which checks fail." });
