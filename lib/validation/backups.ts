// Backup request and filter schemas, shared by the browser and the API.
import { z } from "zod";
import { BackupKind, BackupTrigger, JobStatus, VerifyStatus } from "../generated/prisma/enums";
import { targetSelectorSchema } from "./target-selector";

// The enums come from prisma/schema.prisma through the generated client's browser-safe
// enums module: the API's zod schemas, the UI's filters and the database share one list.
export { BackupKind, BackupTrigger, JobStatus, VerifyStatus };
export const BACKUP_KINDS = Object.values(BackupKind);
export const BACKUP_TRIGGERS = Object.values(BackupTrigger);
export const JOB_STATUSES = Object.values(JobStatus);
/** A job in flight: it holds its slot until it ends. */
export const ACTIVE_JOB_STATUSES = [JobStatus.QUEUED, JobStatus.RUNNING] as const satisfies readonly JobStatus[];
/** A job that has ended, one way or another. */
export const FINISHED_JOB_STATUSES = [JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED] as const satisfies readonly JobStatus[];

export const backupKindSchema = z.enum(BackupKind);
export const backupTriggerSchema = z.enum(BackupTrigger);
export const jobStatusSchema = z.enum(JobStatus);

export const commitShaSchema = z.string().trim().regex(/^[0-9a-fA-F]{7,40}$/, "7–40 hexadecimal characters").transform((s) => s.toLowerCase());

export const createBackupSchema = z.strictObject({
  kind: backupKindSchema.default("FULL"),
  note: z.string().trim().max(500).optional(),
  includeFiles: z.boolean().optional(),
  commitSha: commitShaSchema.optional(),
  /** "Back up first" on the Deployments page: a PRE_DEPLOY backup of the commit about to go out. */
  trigger: z.enum(["PRE_DEPLOY"]).optional(),
  /** The target to back up, by id or name; omitted = `default` (DESIGN §8). */
  target: targetSelectorSchema.optional(),
});

export const listBackupsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  status: jobStatusSchema.optional(),
  kind: backupKindSchema.optional(),
  trigger: backupTriggerSchema.optional(),
  /** Only this target's backups, by id or name; omitted = `default` (DESIGN §8). */
  target: targetSelectorSchema.optional(),
});

/** `?target=` on a read route: a target's id or name; omitted = `default`. */
export { targetQuerySchema } from "./target-selector";

export const restoreConfirmSchema = z.object({ confirm: z.unknown() });

export type CreateBackupInput = z.infer<typeof createBackupSchema>;
export type ListBackupsInput = z.infer<typeof listBackupsSchema>;

/** A backup's phases while its dump holds (or is about to take) its table locks; after them (its files part, its manifest) it holds none. */
export const BACKUP_PHASE = { starting: "starting", inspecting: "inspecting database", dumping: "dumping" } as const;
export const DUMP_PHASES: string[] = Object.values(BACKUP_PHASE);

/** A backup's trigger as words take it: "scheduled", "pre-deploy". */
export const triggerWord = (trigger: string): string => trigger.toLowerCase().replace("_", "-");

/** The target a backup, restore or deployment belongs to, as every row names it (DESIGN §8). */
export interface TargetRefDto {
  id: string;
  name: string;
  environment: string;
}

/** The Backup JSON of DESIGN §6. */
/** A session in words: enough to find and end it, never what it runs (as RestoreActivityDto's blockers). */
export interface LockSessionDto {
  pid: number;
  user: string | null;
  application: string | null;
  state: string | null;
  kind: string | null;
  client: string | null;
  transactionSeconds: number | null;
}

/**
 * A running FULL backup's locks on its database (decision 175; lib/backup/backup-locks.ts):
 * pg_dump holds a share lock on every table it dumps until it ends, and waits for one a
 * migration or an open transaction holds.
 */
export interface BackupLocksDto {
  /** When the backup's sessions were last sampled; null once the backup has ended. */
  at: string | null;
  /** The backup's sessions waiting now for another session's lock (live). */
  waiting: { pid: number; table: string | null; seconds: number; heldBy: LockSessionDto[] }[];
  /** Other sessions waiting now for a lock the backup holds (live). */
  blocking: (LockSessionDto & { table: string | null; mode: string | null; seconds: number; behind: number })[];
  /** Every session that waited a second or more for the backup's locks while it ran, each at its longest wait (kept after the end). */
  blocked: (LockSessionDto & { table: string | null; mode: string | null; seconds: number; behind: number })[];
}

export interface BackupDto {
  id: string;
  target: TargetRefDto;
  kind: BackupKind;
  trigger: BackupTrigger;
  status: JobStatus;
  initiatedBy: { id: string; displayName: string; email: string; role: string } | null;
  storageKey: string | null;
  sizeBytes: number | null;
  checksumSha256: string | null;
  encrypted: boolean;
  durationSeconds: number | null;
  startedAt: string | null;
  completedAt: string | null;
  createdAt: string;
  failureReason: string | null;
  commitSha: string | null;
  note: string | null;
  verifiedAt: string | null;
  verifyStatus: VerifyStatus | null;
  /** When a restore drill last proved this backup restorable; null when none has. */
  drillPassedAt: string | null;
  phase: string | null;
  progressBytes: number;
  attempt: number;
  retryOfId: string | null;
}
