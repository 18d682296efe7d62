// Restore shapes shared by the browser and the API.
import { z } from "zod";
import { suppliedPrivateKeySchema } from "./keys";
import type { LockSessionDto, TargetRefDto } from "./backups";
import { targetSelectorSchema } from "./target-selector";

/** The restore's phase while its safety backup runs (the pages show that backup's own progress then). */
export const SAFETY_BACKUP_PHASE = "safety backup";

/** GET /api/restores: a page of one target's restores (omitted = `default`). */
export const listRestoresSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  target: targetSelectorSchema.optional(),
});

/** Exactly "RESTORE": case-sensitive, no trimming (issue 4). */
export const RESTORE_WORD = "RESTORE";
export const UNDO_WORD = "UNDO";
/** How long a session may hold a lock an in-place restore waits for before the restore, when asked, ends it (decision 185). */
export const END_BLOCKING_AFTER_SECONDS = 10;

export const restoreRequestSchema = z.strictObject({
  confirm: z.unknown().optional(),
  /** "keep" (default): owners and grants as in the backup; "reassign": every object to Vaultline's role. */
  ownership: z.enum(["keep", "reassign"]).optional(),
  /**
   * With ownership "keep": first make the roles the backup needs and the server lacks, as the
   * backup recorded them (attributes, memberships, settings, comment; no password), in one
   * transaction; dropped again if the restore fails before it replaces anything (decision 171).
   */
  createRoles: z.boolean().optional(),
  /**
   * "as-recorded" (default): each object in the tablespace the backup names; a server without
   * one refuses the restore before anything. "default": every object in the database's own
   * tablespace (pg_restore --no-tablespaces; decision 173).
   */
  tablespaces: z.enum(["as-recorded", "default"]).optional(),
  /**
   * End a session (another role's, a report or a console left idle in a transaction) that has
   * held a lock the restore waits for for END_BLOCKING_AFTER_SECONDS (10), rather than wait for
   * it up to RESTORE_LOCK_TIMEOUT_SECONDS; each one is named in the restore's warnings and the
   * audit log (decision 185). Not with "into": "copy", which nothing else uses.
   */
  endBlockingSessions: z.boolean().optional(),
  /** A write-only backup's private key, for this one restore: held in memory, never stored or logged (issue 16 §3). */
  decryptionKey: suppliedPrivateKeySchema.optional(),
  /**
   * "live" (default): the backup replaces the live database. "copy": it is restored into a
   * database of its own beside the live one, which is never touched, and kept for
   * RESTORE_KEEP_PREVIOUS_HOURS (decision 169); no safety backup.
   */
  into: z.enum(["live", "copy"]).optional(),
});
export const undoRequestSchema = z.strictObject({ confirm: z.unknown().optional() });
/** Drops the database a restore keeps beside the live one, now (decision 170). */
export const DROP_WORD = "DROP";
export const dropKeptRequestSchema = z.strictObject({ confirm: z.unknown().optional() });
/** Keeps the database a restore keeps beside the live one longer (decision 172): until `hours` from now, 1 hour to 30 days. */
export const KEEP_MAX_HOURS = 720;
export const keepLongerRequestSchema = z.strictObject({ hours: z.number().int().min(1).max(KEEP_MAX_HOURS) });

/** The object kinds a preview compares (lib/backup/catalog-snapshot.ts). */
export interface ObjectDifference {
  added: string[];
  dropped: string[];
  changed: string[];
  ownerChanged: string[];
}

export interface RestorePreview {
  backup: { id: string; kind: string; createdAt: string; completedAt: string | null; sizeBytes: number | null; commitSha: string | null };
  /** needsPrivateKey: a write-only backup; the restore asks for its private key (issue 16 §3). */
  verified: { ok: boolean; reason: string | null; needsPrivateKey?: true };
  differences: {
    tables: { added: string[]; dropped: string[] };
    columns: { added: string[]; dropped: string[]; changed: string[] };
    migrations: { reverted: string[]; reapplied: string[] };
    /**
     * The database's own owner, connection limit, grants, comment and settings, live against the backup's, one line each
     * (decision 194); null for Vaultline's own database and backups that did not record them; absent in restores recorded before.
     */
    database?: string[] | null;
    /**
     * The same lines for a restore with ownership "reassign": the database keeps its owner, and its grants
     * unless `plan.ownership.reassignKeepsGrants` (decision 196). Absent in restores recorded before.
     */
    databaseReassigned?: string[] | null;
  };
  /** Every object kind; null for a backup made before objects were recorded. */
  objects: Record<string, ObjectDifference> | null;
  plan: {
    strategy: "swap" | "in-place";
    strategyReason: string;
    /** `reassignKeepsGrants`: absent in restores recorded before decision 182. */
    ownership: { canKeep: boolean; problems: string[]; roles: string[] | null; reassignKeepsGrants?: boolean };
    /** The swap restore's spool of the decompressed archive (lib/backup/temp-space.ts); null when nothing is spooled. Absent in restores recorded before it. */
    tempSpace?: { dir: string; neededBytes: number; freeBytes: number | null } | null;
    /**
     * The server's disk (lib/backup/server-disk.ts): what the restored copy takes there, the free space the restore
     * leaves, and the disks as measured (null, with the reason, when the server is not on this machine). Absent before decision 159.
     */
    serverDisk?: {
      neededBytes: number;
      basis: "backup" | "live";
      tablespace: string;
      reserveBytes: number;
      /** `tablespaces` and `neededBytes` (the copy's part on that disk) are set where the copy is split by tablespace; absent in restores recorded before. */
      disks: { dir: string; holds: ("copy" | "wal")[]; tablespaces?: string[]; neededBytes?: number; freeBytes: number; totalBytes: number }[] | null;
      unmeasured: string | null;
    } | null;
    /** FILES_DIR's disk, where the backup's files part is extracted beside the files there now (lib/backup/files-disk.ts); null without a files part or FILES_DIR. Absent before decision 161. */
    filesDisk?: { dir: string; neededBytes: number; freeBytes: number | null; totalBytes: number | null; reserveBytes: number } | null;
    /** Null when the connecting role is a superuser; else the backup's objects only a superuser may create (empty: none, or a backup that did not record them). */
    needsSuperuser?: { user: string; objects: string[] } | null;
    /** The live database's logical replication subscriptions, which the restore leaves disabled (decision 142). Absent in restores recorded before it. */
    subscriptions?: string[];
    /** The live database's logical replication slots, which no restore carries (decision 149). Absent in restores recorded before it. */
    replicationSlots?: { name: string; plugin: string; active: boolean; retainedBytes: number | null }[];
    /** How long a swap keeps the previous database for Undo, hours. Absent in restores recorded before it. */
    keepHours?: number;
    /** The target's server is a standby: the restore refuses to run (decision 144). Absent in restores recorded before it. */
    standby?: boolean;
    /** The URL goes through a connection pooler in transaction mode: the restore refuses to run (decision 148). Absent in restores recorded before it. */
    pooled?: boolean;
    /** Transactions prepared for two-phase commit holding the database: the restore refuses to run (decision 151). Absent in restores recorded before it. */
    preparedTransactions?: { gid: string; owner: string; prepared: string }[];
    /** The backup's extensions whose version is not this server's default, and what the restore makes of each (decision 152). Absent in restores recorded before it. */
    extensionVersions?: { name: string; recorded: string | null; restoredAs: string; pinned: boolean; installable: boolean; serverDefault: string }[];
    /** The backup's extensions a server lets one database have, and the one this server names (null: not loaded) (decision 201). Absent in restores recorded before it. */
    pinnedExtensions?: { name: string; setting: string; database: string | null }[];
    /** Expressions the restore evaluates (indexes, CHECK constraints, generated columns, materialized views) that fail on the live database under the restore's empty search_path (decision 153). Absent in restores recorded before it. */
    searchPath?: { kind: string; name: string; error: string; fn: string | null }[];
    /** The server's lock table and the live database's relations, which an in-place restore locks in one transaction (decision 145). Absent in restores recorded before it. */
    locks?: { perTransaction: number; slots: number; relations: number };
  } | null;
  /** The target's database is not on its server: the restore creates it first (decision 165); the plan is then null. Absent otherwise. */
  missingDatabase?: { name: string; user: string; canCreate: boolean };
  /** Roles the backup needs that the server lacks (decision 171); null when none is missing or the backup recorded no roles. Absent in restores recorded before it. */
  missingRoles?: MissingRolesDto | null;
  /** Tablespaces the backup's objects are placed in that the server lacks (decision 173). Absent in restores recorded before it. */
  missingTablespaces?: string[];
  /** Extensions the backup's database uses that the server cannot install (decision 174): the restore refuses. Absent in restores recorded before it. */
  unavailableExtensions?: string[];
  /** Extensions the server has installed but does not load where they must be, at its start (decision 206): the restore refuses. Absent in restores recorded before it. */
  unloadedExtensions?: string[];
  /** Extensions only a superuser may create, when Vaultline connects as a role that is not one (decision 209): the restore refuses. Absent in restores recorded before it. */
  untrustedExtensions?: string[];
  rowEstimates: Record<string, { live: number | null; backup: number | null }>;
  ageSeconds: number;
  targetIsVaultline: boolean;
  safetyBackup: true;
  warnings: string[];
  /** What a restore into a copy beside the live database is warned of (decision 169): nothing about the live database, which it does not change. */
  copyWarnings: string[];
}

/** The roles a backup needs that the server lacks (lib/backup/role-definitions.ts). */
export interface MissingRolesDto {
  /** Missing, with a definition the backup recorded: a restore with createRoles makes them. */
  creatable: string[];
  /** Missing, named by the backup's objects without a recorded definition (a backup from before decision 171, or the bootstrap superuser under another name): created by hand first. */
  unknown: string[];
  /** Of the creatable, those that logged in with a password: made without one. */
  passwordless: string[];
  /** Of the creatable, those only a superuser may make (SUPERUSER, or REPLICATION / BYPASSRLS before PostgreSQL 16). */
  needSuperuser: string[];
}

/** What the server is doing for a running restore (decision 157; lib/backup/server-activity.ts). */
export interface RestoreActivityDto {
  at: string;
  sessions: {
    pid: number;
    doing: "index" | "constraint" | "copy" | "other";
    name: string | null;
    table: string | null;
    seconds: number;
    phase: string | null;
    done: number | null;
    total: number | null;
    waitingFor: LockSessionDto[];
  }[];
  items: { made: number; of: number } | null;
}

/** Bytes of the archive read in and loaded into the database, of its total. */
export interface RestoreProgressDto {
  readBytes: number;
  loadedBytes: number;
  totalBytes: number;
}

export interface RestoreDto {
  id: string;
  /** The target restored into (DESIGN §8). */
  target: TargetRefDto;
  backupId: string;
  safetyBackupId: string | null;
  status: string;
  phase: string | null;
  startedAt: string | null;
  completedAt: string | null;
  createdAt: string;
  durationSeconds: number | null;
  failureReason: string | null;
  preview: unknown;
  checks: unknown;
  strategy: string | null;
  ownership: string | null;
  /** The restore was asked to make the roles the server lacked, as the backup recorded them (decision 171). */
  createRoles: boolean;
  /** Every object was placed in the database's own tablespace, not the backup's (decision 173). */
  defaultTablespace: boolean;
  /** Asked to end the sessions blocking it (decision 185). */
  endBlockingSessions: boolean;
  previousDatabase: string | null;
  /** A copy's files, beside the live ones (decision 192); removed with the copy. */
  copyFilesPath: string | null;
  keepUntil: string | null;
  previousDroppedAt: string | null;
  undoneAt: string | null;
  swapSeconds: number | null;
  /** The database part's progress (decision 136): null until it starts, and for restores before it. */
  progress: RestoreProgressDto | null;
  /** While the database part runs: the restore's sessions on the server (decision 157); null otherwise. */
  activity: RestoreActivityDto | null;
  warnings: string[];
  /** An Undo is possible now. */
  canUndo: boolean;
  initiatedBy: { id: string; displayName: string; email: string; role: string } | null;
  /** In the list only: the backups' statuses now; null when removed from the catalogue since. */
  backupStatus?: string | null;
  safetyBackupStatus?: string | null;
  /** In GET /api/restores/:id only: the safety backup now, its phase and bytes dumped; null when there is none or it was removed. */
  safetyBackup?: { status: string; phase: string | null; progressBytes: number } | null;
}
