// Deployment Control Center shapes (issue 7), shared by the browser and the API: the
// pre-deploy gate, deploy records, deploy runs, rollback. zod only: browser-safe.
import { z } from "zod";
import { commitShaSchema, type BackupDto, type BackupKind, type TargetRefDto } from "./backups";
import { targetSelectorSchema } from "./target-selector";
import type { CheckRun } from "./checks";
import { DeploymentStatus, DeploymentType } from "../generated/prisma/enums";

/** Exactly "ROLLBACK": case-sensitive, no trimming (like RESTORE). */
export const ROLLBACK_WORD = "ROLLBACK";

/** The longest a gate call may wait for the backup it queued. */
export const MAX_GATE_WAIT_SECONDS = 900;

export { DeploymentStatus, DeploymentType };
export const DEPLOYMENT_STATUSES = Object.values(DeploymentStatus);

const environmentSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, . _ - (like production or staging-eu)");

/** The gate's freshness when neither the request nor the target's settings.gate say. */
export const GATE_DEFAULTS = { maxAgeMinutes: 60, require: "ANY", duringBackup: "block" } as const;

/**
 * maxAgeMinutes and require, when omitted, come from the target's `settings.gate`, then
 * GATE_DEFAULTS (lib/deploy/gate.ts resolveGateRequest).
 */
export const gateRequestSchema = z.strictObject({
  commitSha: commitShaSchema,
  /** The target whose backups the gate asks about, by id or name; omitted = `default`. */
  target: targetSelectorSchema.optional(),
  maxAgeMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  require: z.enum(["FULL", "ANY"]).optional(),
  createIfMissing: z.boolean().default(false),
  waitSeconds: z.number().int().min(0).max(MAX_GATE_WAIT_SECONDS).default(0),
  environment: environmentSchema.optional(),
  /**
   * While a FULL backup of the target runs, its dump holds a lock on every table: "block"
   * (the default, else the target's settings.gate) refuses the deploy until it has finished,
   * "allow" lets through a deploy that alters no table (decision 175).
   */
  duringBackup: z.enum(["block", "allow"]).optional(),
});
export type GateRequest = z.infer<typeof gateRequestSchema>;
/** A gate request with the target resolved and its defaults applied. */
export type ResolvedGateRequest = Omit<GateRequest, "target" | "maxAgeMinutes" | "require" | "duringBackup"> & {
  targetId: string;
  maxAgeMinutes: number;
  require: "FULL" | "ANY";
  duringBackup: "block" | "allow";
};
export type GateRequestInput = z.input<typeof gateRequestSchema>;

/**
 * A deploy that happened elsewhere (CI), reported to the history once it has ended: there
 * is no later update, so a reported RUNNING would stay RUNNING and hold the deploy slot.
 */
export const createDeploymentSchema = z.strictObject({
  commitSha: commitShaSchema,
  /** The target deployed against, by id or name; omitted = `default`. */
  target: targetSelectorSchema.optional(),
  environment: environmentSchema.optional(),
  status: z.enum([DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK]).default("SUCCEEDED"),
  url: z.string().trim().url().max(2000).optional(),
});
export type CreateDeploymentInput = z.infer<typeof createDeploymentSchema>;

export const runDeploySchema = z.strictObject({
  commitSha: commitShaSchema,
  environment: environmentSchema.optional(),
});
export type RunDeployInput = z.infer<typeof runDeploySchema>;

// The word is checked by the handler (422 CONFIRMATION_REQUIRED), not by zod (400).
export const rollbackRequestSchema = z.strictObject({
  backupId: z.string().regex(/^[a-z0-9]{20,40}$/i, "a backup id"),
  confirm: z.unknown().optional(),
});

/** Query for the page's read-only gate preview. */
export const gatePreviewQuerySchema = z.object({
  commitSha: commitShaSchema.optional(),
  target: targetSelectorSchema.optional(),
  maxAgeMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).optional(),
  require: z.enum(["FULL", "ANY"]).optional(),
});

/** GET /api/deployments: a page of one target's history (omitted = `default`). */
export const listDeploymentsSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  target: targetSelectorSchema.optional(),
});

export type HookKind = "command" | "webhook" | "command+webhook";

/** What a rollback record carries beside the plain Deployment columns (see docs/decisions.md). */
export interface RollbackInfo {
  backupId: string;
  backupKind: BackupKind;
  restoreId: string | null;
  preRestoreBackupId: string | null;
  /** Its database restore, then its code hook, then done. */
  phase: "restoring" | "code" | "done";
}

export interface DeploymentBackupSummary {
  id: string;
  kind: BackupKind;
  status: string;
  trigger: string;
  completedAt: string | null;
  commitSha: string | null;
}

export interface DeploymentDto {
  id: string;
  /** The target the deploy was gated on or recorded for (DESIGN §8). */
  target: TargetRefDto;
  /** DeploymentType in lower case, as the API has always spelled it. */
  type: Lowercase<DeploymentType>;
  commitSha: string;
  environment: string;
  gateDecision: boolean;
  reasons: string[];
  checks: CheckRun | null;
  rollback: RollbackInfo | null;
  backupId: string | null;
  backup: DeploymentBackupSummary | null;
  status: DeploymentStatus;
  url: string | null;
  actor: { id: string | null; label: string | null };
  at: string;
  completedAt: string | null;
  logBytes: number;
  /** Only on the single-deployment answer: the list leaves it out. */
  log?: string;
}

export interface GateAnswer {
  allowed: boolean;
  reasons: string[];
  backup: BackupDto | null;
  checks: CheckRun | null;
  deploymentId?: string;
}

export interface DeployState {
  gate: {
    allowed: boolean;
    reasons: string[];
    backup: BackupDto | null;
    checksAt: string | null;
    checksStatus: string | null;
    /** The freshness the page's Deploy button demands, for wording that matches the reasons. */
    maxAgeMinutes: number;
    require: "FULL" | "ANY";
  };
  newestBackup: BackupDto | null;
  /** Shown when the newest successful backup is older than an hour (seed 002). */
  staleWarning: string | null;
  defaultCommit: string | null;
  hooks: { deploy: HookKind | null; rollback: HookKind | null; timeoutSeconds: number };
  running: { id: string; type: "deploy" | "rollback" } | null;
}

export interface StoredCheckRun {
  run: CheckRun;
  source: "manual" | "gate" | "restore";
  by: string | null;
  restoreId?: string | null;
}
