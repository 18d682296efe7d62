// Restore shapes shared by the browser and the API.
import { z } from "zod";

/** Exactly "RESTORE": case-sensitive, no trimming (issue 4). */
export const RESTORE_WORD = "RESTORE";
export const restoreRequestSchema = z.object({ confirm: z.unknown().optional() });

export interface RestorePreview {
  backup: { id: string; kind: string; createdAt: string; completedAt: string | null; sizeBytes: number | null; commitSha: string | null };
  verified: { ok: boolean; reason: string | null };
  differences: {
    tables: { added: string[]; dropped: string[] };
    columns: { added: string[]; dropped: string[]; changed: string[] };
    migrations: { reverted: string[]; reapplied: string[] };
  };
  rowEstimates: Record<string, { live: number | null; backup: number | null }>;
  ageSeconds: number;
  targetIsVaultline: boolean;
  safetyBackup: true;
  warnings: string[];
}

export interface RestoreDto {
  id: string;
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
  initiatedBy: { id: string; displayName: string; email: string; role: string } | null;
}
