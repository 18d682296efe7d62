// Backup request and filter schemas, shared by the browser and the API.
import { z } from "zod";

export const BACKUP_KINDS = ["FULL", "QUICK"] as const;
export const BACKUP_TRIGGERS = ["MANUAL", "SCHEDULED", "PRE_RESTORE", "PRE_DEPLOY", "API"] as const;
export const JOB_STATUSES = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;

export const commitShaSchema = z.string().trim().regex(/^[0-9a-fA-F]{7,40}$/, "7–40 hexadecimal characters").transform((s) => s.toLowerCase());

export const createBackupSchema = z.object({
  kind: z.enum(BACKUP_KINDS).default("FULL"),
  note: z.string().trim().max(500).optional(),
  includeFiles: z.boolean().optional(),
  commitSha: commitShaSchema.optional(),
  /** "Back up first" on the Deployments page: a PRE_DEPLOY backup of the commit about to go out. */
  trigger: z.enum(["PRE_DEPLOY"]).optional(),
});

export const listBackupsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  status: z.enum(JOB_STATUSES).optional(),
  kind: z.enum(BACKUP_KINDS).optional(),
  trigger: z.enum(BACKUP_TRIGGERS).optional(),
});

export const restoreConfirmSchema = z.object({ confirm: z.unknown() });

export type CreateBackupInput = z.infer<typeof createBackupSchema>;
export type ListBackupsInput = z.infer<typeof listBackupsSchema>;
export type BackupKind = (typeof BACKUP_KINDS)[number];
export type BackupTrigger = (typeof BACKUP_TRIGGERS)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The Backup JSON of DESIGN §6. */
export interface BackupDto {
  id: string;
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
  verifyStatus: "PASSED" | "FAILED" | null;
  phase: string | null;
  progressBytes: number;
  attempt: number;
  retryOfId: string | null;
}
