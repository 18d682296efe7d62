// The OpenAPI 3.1 document of every route under app/api (issue 13 §6), built from the same
// zod schemas the handlers parse with (lib/validation) and the response schemas beside
// this file. One entry per handler in ENDPOINTS; who may call it comes from
// lib/permissions.ts, the error answers from lib/errors.ts. GET /api/openapi.json serves
// it and /api-docs renders it; lib/openapi/document.test.ts fails when a handler under
// app/api is missing here or a path here has no handler.
import { z } from "zod";
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from "zod-openapi";
import { ERROR_STATUS, type ErrorCode } from "../errors";
import { PERMISSIONS, ROLES, SCOPES, type Action } from "../permissions";
import { createBackupSchema, listBackupsSchema, targetQuerySchema } from "../validation/backups";
import { createDeploymentSchema, gatePreviewQuerySchema, gateRequestSchema, listDeploymentsSchema, rollbackRequestSchema, runDeploySchema } from "../validation/deploy";
import { dropKeptRequestSchema, keepLongerRequestSchema, listRestoresSchema, restoreRequestSchema, undoRequestSchema } from "../validation/restores";
import { settingsUpdateSchema } from "../validation/settings";
import { retentionPreviewQuerySchema, retentionPreviewSchema } from "../validation/retention";
import { createTokenSchema, createUserSchema, endSessionsSchema, updateUserSchema } from "../validation/users";
import { listAuditSchema } from "../audit-query";
import * as r from "./responses";
import { createChannelSchema, updateChannelSchema } from "../validation/notification-channels";
import * as nc from "./notification-channels";
import * as keys from "./keys";
import { reencryptRequestSchema, retireKeyRequestSchema, rotateKeyRequestSchema } from "../validation/keys";
import * as tg from "./targets";
import { createTargetSchema, deleteTargetQuerySchema, targetBodySchema, testTargetUrlSchema, updateTargetSchema } from "../validation/targets";

export const TAGS = [
  { name: "Backups", description: "Take, list, verify, download and remove backups." },
  { name: "Restores", description: "Preview, run and undo restores." },
  { name: "Deploy", description: "The pre-deploy gate, deploy records and runs, rollback." },
  { name: "Checks", description: "Schema drift, integrity rules and file sync." },
  { name: "Settings", description: "Schedule, retention and notifications." },
  { name: "Users and tokens", description: "Accounts and API tokens (ADMIN, sessions only)." },
  { name: "Audit", description: "Who did what, newest first." },
  { name: "System", description: "Health, metrics and this document." },
  { name: "Auth", description: "next-auth's sign-in endpoints, used by the dashboard's sign-in form." },
] as const;
export type Tag = (typeof TAGS)[number]["name"];

type Method = "get" | "post" | "put" | "patch" | "delete";

/** Who may call: an action of lib/permissions.ts, any valid session or token, or anyone. */
export type Gate = Action | "signed-in" | "public";

interface Success {
  status: number;
  description: string;
  /** JSON body; absent for 204/302. */
  schema?: z.ZodType;
  /** A body that is not (or not only) JSON: content type → what it is (the archive, Prometheus text). */
  raw?: Record<string, string>;
}

export interface Endpoint {
  method: Method;
  /** OpenAPI form: `/api/backups/{id}`. */
  path: string;
  gate: Gate;
  tag: Tag;
  summary: string;
  description?: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** No body is the request `{}` and a whole one (all its fields optional): the body is documented optional. */
  bodyOptional?: true;
  success: Success[];
  /** Codes this handler can answer beyond those every handler of its kind can (below). */
  errors?: ErrorCode[];
  /** JSON answers for a status that is not an error body (the gate's 428). */
  other?: { status: number; description: string; schema: z.ZodType }[];
}

const json = (status: number, description: string, schema: z.ZodType): Success => ({ status, description, schema });
const empty = (status: number, description: string): Success => ({ status, description });

const TARGET_PARAM = " `target` (id or name) omitted = `default`; an unknown target answers 404 NOT_FOUND.";

export const ENDPOINTS: Endpoint[] = [
  // ---- backups ----
  { method: "get", path: "/api/backups", gate: "backups.read", tag: "Backups", summary: "List one target's backups, newest first", description: "`total` counts the target's backups only." + TARGET_PARAM, query: listBackupsSchema, success: [json(200, "A page of backups.", r.backupListSchema)], errors: ["NOT_FOUND"] },
  {
    method: "post",
    path: "/api/backups",
    gate: "backups.create",
    tag: "Backups",
    summary: "Queue a backup",
    description: "A token's backup is recorded with trigger API, a session's with MANUAL (or PRE_DEPLOY when asked). Without a body, a FULL backup of `default`." + TARGET_PARAM,
    body: createBackupSchema,
    bodyOptional: true,
    success: [json(202, "Queued.", r.backupQueuedSchema)],
    errors: ["OPERATION_IN_PROGRESS", "BACKUPS_NOT_READY", "NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/backups/{id}",
    gate: "backups.read",
    tag: "Backups",
    summary: "One backup with its manifest",
    description: "A backup removed from the catalogue answers 404 with `details.tombstone`: when, how (deleted or pruned) and by whom.",
    success: [json(200, "The backup, its manifest and the restore it was a safety backup for.", r.backupDetailSchema)],
  },
  { method: "delete", path: "/api/backups/{id}", gate: "backups.delete", tag: "Backups", summary: "Remove a backup (objects, then row)", success: [empty(204, "Removed.")], errors: ["CONFLICT", "STORAGE_UNAVAILABLE"] },
  { method: "get", path: "/api/backups/{id}/status", gate: "backups.read", tag: "Backups", summary: "The small, pollable view of a backup job", success: [json(200, "Status and progress.", r.backupStatusSchema)] },
  { method: "post", path: "/api/backups/{id}/cancel", gate: "backups.cancel", tag: "Backups", summary: "Cancel a queued or running backup", success: [json(202, "Cancelled (or cancelling).", r.backupSchema)], errors: ["CONFLICT"] },
  { method: "post", path: "/api/backups/{id}/verify", gate: "backups.verify", tag: "Backups", summary: "Queue a verification (re-read, checksum, decrypt, list)", success: [json(202, "Queued.", r.jobQueuedSchema)], errors: ["CONFLICT"] },
  { method: "post", path: "/api/backups/{id}/drill", gate: "backups.verify", tag: "Backups", summary: "Queue a restore drill into a scratch database", success: [json(202, "Queued.", r.jobQueuedSchema)], errors: ["CONFLICT"] },
  {
    method: "get",
    path: "/api/backups/{id}/download",
    gate: "backups.download",
    tag: "Backups",
    summary: "Download the archive",
    description: "S3 storage answers 302 to a presigned URL; local storage streams the archive.",
    success: [
      empty(302, "Redirect to a presigned URL (S3 storage)."),
      {
        status: 200,
        description: "The stored object (local storage).",
        raw: { "application/pgp-encrypted": "FULL: the encrypted archive, as stored.", "application/json": "QUICK: its manifest." },
      },
    ],
    errors: ["CONFLICT", "STORAGE_UNAVAILABLE"],
  },
  { method: "get", path: "/api/today", gate: "backups.read", tag: "Backups", summary: "Did today's (UTC) backup of a target run", description: TARGET_PARAM.trim(), query: targetQuerySchema, success: [json(200, "Today's state, the last success and failure, the schedule.", r.todaySchema)], errors: ["NOT_FOUND"] },
  { method: "get", path: "/api/storage", gate: "backups.read", tag: "Backups", summary: "How much the stored backups take", success: [json(200, "Usage against STORAGE_WARN_BYTES.", r.storageUsageSchema)] },

  // ---- restores ----
  {
    method: "get",
    path: "/api/backups/{id}/restore-preview",
    gate: "restores.run",
    tag: "Restores",
    summary: "What a restore of this backup would change",
    success: [json(200, "The preview, after verifying the backup.", r.restorePreviewSchema)],
    errors: ["CONFLICT", "STORAGE_UNAVAILABLE"],
  },
  {
    method: "post",
    path: "/api/backups/{id}/restore",
    gate: "restores.run",
    tag: "Restores",
    summary: "Restore this backup (a safety backup first), or restore it into a copy beside the live database",
    description:
      'Send `{"confirm":"RESTORE"}` (exactly); anything else answers 422 CONFIRMATION_REQUIRED. With `"into": "copy"` the backup is restored into a database of its own ' +
      "on the target's server (`<db>__copy_<restoreId>`, named in the restore's `previousDatabase`), kept until `keepUntil`; the live database is not touched and no safety backup is taken.",
    body: restoreRequestSchema,
    success: [json(202, "Started: the restore and its safety backup.", r.restoreStartedSchema)],
    errors: ["CONFIRMATION_REQUIRED", "CONFLICT", "OPERATION_IN_PROGRESS"],
  },
  { method: "get", path: "/api/restores", gate: "restores.read", tag: "Restores", summary: "One target's restore history, newest first", description: TARGET_PARAM.trim(), query: listRestoresSchema, success: [json(200, "A page of restores.", r.restoreListSchema)], errors: ["NOT_FOUND"] },
  { method: "get", path: "/api/restores/{id}", gate: "restores.read", tag: "Restores", summary: "One restore with its preview and checks", success: [json(200, "The restore.", r.restoreSchema)] },
  {
    method: "post",
    path: "/api/restores/{id}/undo",
    gate: "restores.run",
    tag: "Restores",
    summary: "Swap the database a swap restore kept back in",
    description: 'Send `{"confirm":"UNDO"}` (exactly).',
    body: undoRequestSchema,
    success: [json(202, "Undone.", r.undoneSchema)],
    errors: ["CONFIRMATION_REQUIRED", "CONFLICT", "OPERATION_IN_PROGRESS"],
  },
  {
    method: "post",
    path: "/api/restores/{id}/drop-kept",
    gate: "restores.run",
    tag: "Restores",
    summary: "Drop the database a restore keeps beside the live one, now",
    description:
      'Send `{"confirm":"DROP"}` (exactly). Drops the copy a restore into a copy made, or the previous database a swap restore kept for Undo (which can then no longer be undone), before its `keepUntil`.',
    body: dropKeptRequestSchema,
    success: [json(200, "Dropped.", r.keptDroppedSchema)],
    errors: ["CONFIRMATION_REQUIRED", "CONFLICT", "OPERATION_IN_PROGRESS"],
  },
  {
    method: "post",
    path: "/api/restores/{id}/keep",
    gate: "restores.run",
    tag: "Restores",
    summary: "Keep the database a restore keeps beside the live one longer",
    description:
      'Send `{"hours": n}` (1–720): the copy a restore into a copy made, or the previous database a swap restore kept for Undo, is kept until n hours from now instead of its `keepUntil` (never sooner than that). For the copy still being read back, or an Undo that must stay possible, when the sweep would drop it.',
    body: keepLongerRequestSchema,
    success: [json(200, "Kept longer.", r.keptLongerSchema)],
    errors: ["VALIDATION_FAILED", "CONFLICT", "OPERATION_IN_PROGRESS"],
  },

  // ---- deploy ----
  {
    method: "post",
    path: "/api/deploy/gate",
    gate: "deploy.gate",
    tag: "Deploy",
    summary: "May I deploy commit X?",
    description:
      "Allowed when the newest successful backup (FULL with `require: FULL`, any kind with ANY) finished less than `maxAgeMinutes` ago and the checks pass. With `createIfMissing` the gate queues a PRE_DEPLOY backup of the commit and, with `waitSeconds`, waits for it (up to 15 minutes). Every decision is recorded as a deployment. Only the target's own backups count; `maxAgeMinutes` and `require`, when omitted, come from the target's `settings.gate`, else 60 and ANY. While a FULL backup of the target runs, its dump holds a lock on every table, so a migration would wait for it with the application's queries queued behind: the gate refuses then (`waitSeconds` waits for it), unless `duringBackup` (else the target's `settings.gate.duringBackup`) is `allow`." + TARGET_PARAM,
    body: gateRequestSchema,
    success: [json(200, "Allowed.", r.gateAllowedSchema)],
    other: [{ status: 428, description: "Blocked: `reasons` says why (BACKUP_REQUIRED).", schema: r.gateBlockedSchema }],
    errors: ["OPERATION_IN_PROGRESS", "NOT_FOUND"],
  },
  { method: "get", path: "/api/deploy/state", gate: "deployments.read", tag: "Deploy", summary: "A target's gate as it stands (read-only)", description: TARGET_PARAM.trim(), query: gatePreviewQuerySchema, success: [json(200, "Gate preview, newest backup, hooks, running deploy.", r.deployStateSchema)], errors: ["NOT_FOUND"] },
  { method: "get", path: "/api/deployments", gate: "deployments.read", tag: "Deploy", summary: "One target's deploy history, newest first", description: TARGET_PARAM.trim(), query: listDeploymentsSchema, success: [json(200, "A page of gate decisions, deploys, rollbacks and records.", r.deploymentListSchema)], errors: ["NOT_FOUND"] },
  {
    method: "post",
    path: "/api/deployments",
    gate: "deployments.write",
    tag: "Deploy",
    summary: "Record a deploy done elsewhere (CI)",
    description: "Linked to the newest ALLOWED gate decision of the same target for the commit." + TARGET_PARAM,
    body: createDeploymentSchema,
    success: [json(201, "Recorded.", r.deploymentSchema)],
    errors: ["NOT_FOUND"],
  },
  {
    method: "get",
    path: "/api/deployments/{id}",
    gate: "deployments.read",
    tag: "Deploy",
    summary: "One deployment record",
    description: "`log` (the deploy command and its output) only for callers allowed `deployments.detail` (OPERATOR, `deploy` scope).",
    success: [json(200, "The record.", r.deploymentSchema)],
  },
  {
    method: "post",
    path: "/api/deployments/run",
    gate: "deployments.write",
    tag: "Deploy",
    summary: "Gate, then run DEPLOY_COMMAND / DEPLOY_WEBHOOK_URL",
    body: runDeploySchema,
    success: [json(202, "Allowed; the hook is running.", r.deployStartedSchema), json(200, "Allowed; no hook is configured.", r.deployStartedSchema)],
    other: [{ status: 428, description: "Blocked by the gate.", schema: r.gateBlockedSchema }],
    errors: ["OPERATION_IN_PROGRESS"],
  },
  {
    method: "post",
    path: "/api/rollback",
    gate: "rollback.run",
    tag: "Deploy",
    summary: "Roll back to a backup: database (FULL) through the restore path, then the code hook",
    description: 'Send `{"backupId": …, "confirm":"ROLLBACK"}` (exactly).',
    body: rollbackRequestSchema,
    success: [json(202, "Started.", r.rollbackStartedSchema)],
    errors: ["CONFIRMATION_REQUIRED", "NOT_FOUND", "CONFLICT", "OPERATION_IN_PROGRESS"],
  },

  // ---- checks ----
  { method: "get", path: "/api/checks", gate: "checks.read", tag: "Checks", summary: "The last check run (manual, gate or post-restore)", description: "Of `target` (id or name; omitted: `default`).", query: targetQuerySchema, success: [json(200, "The run, or `last: null`.", r.lastCheckRunSchema)], errors: ["NOT_FOUND"] },
  { method: "post", path: "/api/checks/run", gate: "checks.run", tag: "Checks", summary: "Run the checks now (stored and audited)", description: "Of `target` (id or name; omitted: `default`), with its checks file and files directory. The body may be empty.", body: targetBodySchema, bodyOptional: true, success: [json(200, "The run.", r.lastCheckRunSchema)], errors: ["NOT_FOUND"] },

  // ---- settings ----
  { method: "get", path: "/api/keys", gate: "keys.manage", tag: "Settings", summary: "Encryption keys: which encrypts, which backups still need which key", success: [json(200, "The keys, without any secret.", keys.keysOverviewSchema)] },
  { method: "post", path: "/api/keys/reencrypt", gate: "keys.manage", tag: "Settings", summary: "Queue the move of backups to the current key (audited)", body: reencryptRequestSchema, success: [json(202, "Queued.", keys.reencryptQueuedSchema)] },
  {
    method: "post",
    path: "/api/keys/rotate",
    gate: "keys.manage",
    tag: "Settings",
    summary: "Embedded mode: a new current passphrase, answered once (audited)",
    description: 'Send `{"confirm":"ROTATE"}`. With keys from the environment answers 409: rotate there.',
    body: rotateKeyRequestSchema,
    success: [json(201, "Rotated; the old key still decrypts.", keys.keyRotatedSchema)],
    errors: ["CONFLICT", "CONFIRMATION_REQUIRED"],
  },
  {
    method: "post",
    path: "/api/keys/retire",
    gate: "keys.manage",
    tag: "Settings",
    summary: "Embedded mode: forget an old key no backup needs (audited)",
    description: 'Send `{"keyId":"…","confirm":"RETIRE"}`. Refused (409) while any backup still needs the key.',
    body: retireKeyRequestSchema,
    success: [json(200, "Retired.", keys.keyRetiredSchema)],
    errors: ["CONFLICT", "CONFIRMATION_REQUIRED", "NOT_FOUND", "OPERATION_IN_PROGRESS"],
  },
  { method: "get", path: "/api/settings", gate: "settings.read", tag: "Settings", summary: "The settings in force, versions and next runs", success: [json(200, "Settings.", r.settingsViewSchema)] },
  {
    method: "put",
    path: "/api/settings",
    gate: "settings.write",
    tag: "Settings",
    summary: "Replace settings sections (audited)",
    description: "Each section sent replaces that section whole.",
    body: settingsUpdateSchema,
    success: [json(200, "Saved.", r.settingsSavedSchema)],
  },
  {
    method: "get",
    path: "/api/retention/preview",
    gate: "backups.read",
    tag: "Settings",
    summary: "What a retention policy keeps and prunes now",
    description: "Of `target` (id or name; omitted: `default`), among its own backups and by its own policy. Without a policy field, the saved policy; each field given replaces the saved one. The plan is the one pruning executes (docs/operations.md, GFS retention).",
    query: retentionPreviewQuerySchema,
    success: [json(200, "The plan, newest first.", retentionPreviewSchema)],
    errors: ["NOT_FOUND"],
  },

  // ---- targets (DESIGN §8) ----
  { method: "get", path: "/api/targets", gate: "targets.read", tag: "Settings", summary: "Every target with its today (never a connection URL)", success: [json(200, "The default target first, then by name.", tg.targetListSchema)] },
  { method: "post", path: "/api/targets", gate: "targets.write", tag: "Settings", summary: "Add a target (its connection tested first; audited)", description: "A URL that cannot connect answers 400 with the reason (nothing saved); missing privileges do not block, and are in `test`. Names `default` and `test` are reserved.", body: createTargetSchema, success: [json(201, "Added; the URL is stored encrypted and never returned.", tg.targetCreatedSchema)], errors: ["CONFLICT"] },
  { method: "post", path: "/api/targets/test", gate: "targets.write", tag: "Settings", summary: "Test a connection URL before saving it", description: "Connects (5 s), compares the server with the local pg_dump, and lists each missing privilege with the SQL that grants it. The URL is neither stored nor echoed.", body: testTargetUrlSchema, success: [json(200, "The result (ok false when it cannot connect or back up).", tg.targetTestSchema)] },
  { method: "get", path: "/api/targets/{id}", gate: "targets.read", tag: "Settings", summary: "One target (by id or name)", success: [json(200, "The target.", tg.targetSchema)] },
  { method: "patch", path: "/api/targets/{id}", gate: "targets.write", tag: "Settings", summary: "Change a target (audited)", description: "Each field sent replaces the stored one (`settings` whole). A new URL is tested first (400 when it cannot connect). The default target: only `settings`. A new name or environment affects new backups' storage keys only.", body: updateTargetSchema, success: [json(200, "Changed.", tg.targetUpdatedSchema)], errors: ["CONFLICT"] },
  { method: "delete", path: "/api/targets/{id}", gate: "targets.write", tag: "Settings", summary: "Remove a target (audited)", description: "409 while it has backups, unless `?force=true`: then its backups (objects and rows), restores, deployments and drills are removed too. The default target cannot be removed.", query: deleteTargetQuerySchema, success: [empty(204, "Removed.")], errors: ["CONFLICT", "OPERATION_IN_PROGRESS", "STORAGE_UNAVAILABLE"] },
  { method: "post", path: "/api/targets/{id}/test", gate: "targets.test", tag: "Settings", summary: "Test a stored target's connection and privileges (audited)", success: [json(200, "The result.", tg.targetTestSchema)], errors: ["CONFLICT"] },

  // ---- notification channels ----
  { method: "get", path: "/api/notification-channels", gate: "settings.read", tag: "Settings", summary: "Notification channels and their delivery health (never their secrets)", success: [json(200, "Channels, oldest first.", nc.channelListSchema)] },
  { method: "post", path: "/api/notification-channels", gate: "settings.write", tag: "Settings", summary: "Add a notification channel (audited)", description: "Slack, Discord, Teams (Workflows), ntfy, generic signed JSON webhook or email, routed for the events listed.", body: createChannelSchema, success: [json(201, "Created.", nc.channelSchema)], errors: ["CONFLICT"] },
  { method: "patch", path: "/api/notification-channels/{id}", gate: "settings.write", tag: "Settings", summary: "Change a notification channel (audited)", description: "Secret fields are write-only: omitted keeps the stored value, null clears an optional one.", body: updateChannelSchema, success: [json(200, "Changed.", nc.channelSchema)], errors: ["CONFLICT"] },
  { method: "delete", path: "/api/notification-channels/{id}", gate: "settings.write", tag: "Settings", summary: "Remove a notification channel (audited)", success: [empty(204, "Removed.")] },
  { method: "post", path: "/api/notification-channels/{id}/test", gate: "settings.write", tag: "Settings", summary: "Send a test message to one channel", description: "One attempt, 10 s timeout; at most one test per channel every 5 seconds. The outcome is recorded in the channel's health.", success: [json(200, "What the receiver answered (ok false with its status or error when it refused).", nc.channelTestSchema)], errors: ["RATE_LIMITED"] },

  // ---- users and tokens ----
  { method: "get", path: "/api/users", gate: "users.manage", tag: "Users and tokens", summary: "All users", success: [json(200, "Users.", r.userListSchema)] },
  { method: "post", path: "/api/users", gate: "users.manage", tag: "Users and tokens", summary: "Create a user", body: createUserSchema, success: [json(201, "Created.", r.userSchema)], errors: ["CONFLICT"] },
  {
    method: "patch",
    path: "/api/users/{id}",
    gate: "users.manage",
    tag: "Users and tokens",
    summary: "Change name, role, password or disable",
    body: updateUserSchema,
    success: [json(200, "Changed.", r.userSchema)],
    errors: ["CONFLICT"],
  },
  { method: "delete", path: "/api/users/{id}", gate: "users.manage", tag: "Users and tokens", summary: "Remove a user", success: [empty(204, "Removed.")], errors: ["CONFLICT"] },
  { method: "get", path: "/api/tokens", gate: "tokens.manage", tag: "Users and tokens", summary: "Live API tokens (never their secrets)", success: [json(200, "Tokens.", r.tokenListSchema)] },
  { method: "post", path: "/api/tokens", gate: "tokens.manage", tag: "Users and tokens", summary: "Create a token (its secret is shown once)", body: createTokenSchema, success: [json(201, "Created.", r.tokenCreatedSchema)] },
  { method: "delete", path: "/api/tokens/{id}", gate: "tokens.manage", tag: "Users and tokens", summary: "Revoke a token", success: [empty(204, "Revoked.")] },
  {
    method: "post",
    path: "/api/sessions/revoke",
    gate: "sessions.revoke",
    tag: "Users and tokens",
    summary: "Sign the caller out everywhere",
    description: "Every session of the caller issued until now stops working. Send `{}`.",
    body: endSessionsSchema,
    success: [empty(204, "Done.")],
  },

  // ---- audit ----
  { method: "get", path: "/api/audit", gate: "audit.read", tag: "Audit", summary: "Audit events, newest first", description: "Every target's events, and those of no target (sign-ins, users, tokens, settings), unless `target` (id or name) names one: then only that target's events; an unknown target is 404.", query: listAuditSchema, success: [json(200, "A page of events (webhook URLs masked unless allowed `settings.secrets`).", r.auditListSchema)], errors: ["NOT_FOUND"] },

  // ---- system ----
  {
    method: "get",
    path: "/api/health",
    gate: "public",
    tag: "System",
    summary: "Liveness and readiness",
    description: "Open to anyone (load balancers); a valid session or token sees every check's details.",
    success: [json(200, "ok or degraded.", z.union([r.healthSchema, r.publicHealthSchema]))],
    other: [{ status: 503, description: "down: the database is unreachable.", schema: z.union([r.healthSchema, r.publicHealthSchema]) }],
  },
  {
    method: "get",
    path: "/api/metrics",
    gate: "metrics.read",
    tag: "System",
    summary: "Prometheus metrics",
    success: [{ status: 200, description: "Prometheus text exposition format.", raw: { "text/plain": "Prometheus metrics (version 0.0.4)." } }],
  },
  {
    method: "get",
    path: "/api/openapi.json",
    gate: "signed-in",
    tag: "System",
    summary: "This document",
    description: "Any signed-in user, or any valid API token whatever its scopes.",
    success: [{ status: 200, description: "The OpenAPI 3.1 document.", raw: { "application/json": "This document." } }],
  },

  // ---- next-auth (app/api/auth/[...nextauth]) ----
  { method: "get", path: "/api/auth/csrf", gate: "public", tag: "Auth", summary: "next-auth's CSRF token for the sign-in form", success: [json(200, "The token.", z.object({ csrfToken: z.string() }))] },
  {
    method: "get",
    path: "/api/auth/session",
    gate: "public",
    tag: "Auth",
    summary: "The current session, or {}",
    success: [json(200, "next-auth's session object (empty when not signed in).", z.looseObject({ user: z.looseObject({}).optional(), expires: z.string().optional() }))],
  },
  { method: "get", path: "/api/auth/providers", gate: "public", tag: "Auth", summary: "Sign-in providers (credentials)", success: [json(200, "next-auth's provider list.", z.record(z.string(), z.looseObject({ id: z.string(), name: z.string(), type: z.string() })))] },
  {
    method: "post",
    path: "/api/auth/callback/credentials",
    gate: "public",
    tag: "Auth",
    summary: "Sign in with email and password",
    description: "The sign-in form, `application/x-www-form-urlencoded` (csrfToken, email, password), read up to 64 KiB. Attempts are limited per email and per client address.",
    body: z.object({ csrfToken: z.string(), email: z.string(), password: z.string(), callbackUrl: z.string().optional(), json: z.string().optional() }),
    success: [empty(302, "Signed in (session cookie set) or back to the form with an error."), json(200, "With `json=true`: where to go next.", z.looseObject({ url: z.string() }))],
    errors: ["RATE_LIMITED", "PAYLOAD_TOO_LARGE"],
  },
  {
    method: "post",
    path: "/api/auth/signout",
    gate: "public",
    tag: "Auth",
    summary: "Sign out this session",
    body: z.object({ csrfToken: z.string(), callbackUrl: z.string().optional(), json: z.string().optional() }),
    success: [empty(302, "Signed out (cookie cleared)."), json(200, "With `json=true`: where to go next.", z.looseObject({ url: z.string() }))],
  },
];

/** The HTTP statuses an endpoint can answer with the error body, and the codes behind each. */
export function errorStatuses(e: Endpoint): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>(e.errors ?? []);
  if (e.tag !== "Auth") {
    if (e.gate !== "public") codes.add("UNAUTHENTICATED");
    if (e.gate !== "public" && e.gate !== "signed-in") codes.add("FORBIDDEN");
    // Cookie-authenticated writes without our Origin (lib/csrf.ts).
    if (e.gate !== "public" && e.method !== "get") codes.add("CSRF_REJECTED");
    if (e.path.includes("{id}")) codes.add("NOT_FOUND");
    if (e.body || e.query) codes.add("VALIDATION_FAILED");
    if (e.body) codes.add("PAYLOAD_TOO_LARGE");
  } else if (e.method === "post") codes.add("VALIDATION_FAILED");
  const out = new Map<number, ErrorCode[]>();
  for (const c of codes) out.set(ERROR_STATUS[c], [...(out.get(ERROR_STATUS[c]) ?? []), c]);
  return new Map([...out].sort(([a], [b]) => a - b));
}

const SESSION = "sessionCookie";
const BEARER = "bearerToken";

/** OpenAPI 3.1 security requirements: roles for the session, the scope for a token. */
function security(gate: Gate): Record<string, string[]>[] {
  if (gate === "public") return [];
  if (gate === "signed-in") return [{ [SESSION]: [] }, { [BEARER]: [] }];
  const p = PERMISSIONS[gate];
  return [{ [SESSION]: [p.role] }, ...(p.scope ? [{ [BEARER]: [p.scope] }] : [])];
}

export function whoMay(gate: Gate): string {
  if (gate === "public") return "Anyone.";
  if (gate === "signed-in") return "Any signed-in user, or any valid API token.";
  const p = PERMISSIONS[gate];
  return p.scope
    ? `Role ${p.role} or higher; or an API token with the \`${p.scope}\` scope whose creator has role ${p.role} or higher.`
    : `Role ${p.role} or higher, signed in (API tokens cannot).`;
}

export const operationId = (e: Endpoint) =>
  e.method +
  e.path
    .replace(/^\/api/, "")
    .split(/[/.-]/)
    .filter(Boolean)
    .map((s) => (s.startsWith("{") ? "By" + s[1].toUpperCase() + s.slice(2, -1) : s[0].toUpperCase() + s.slice(1)))
    .join("");

const idParam = z.object({ id: z.string().meta({ description: "The record's id (a cuid)." }) });

function operation(e: Endpoint): ZodOpenApiOperationObject {
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const s of e.success) {
    responses[String(s.status)] = s.schema
      ? { description: s.description, content: { "application/json": { schema: s.schema } } }
      : s.raw
        ? {
            description: s.description,
            content: Object.fromEntries(
              Object.entries(s.raw).map(([type, what]) => [type, { schema: type === "application/json" ? { type: "object", description: what } : { type: "string", description: what } }]),
            ),
          }
        : { description: s.description };
  }
  for (const o of e.other ?? []) responses[String(o.status)] = { description: o.description, content: { "application/json": { schema: o.schema } } };
  for (const [status, codes] of errorStatuses(e)) {
    if (responses[String(status)]) continue;
    responses[String(status)] = { description: codes.join(", "), content: { "application/json": { schema: r.errorSchema } } };
  }
  responses.default = { description: "Any other error, such as INTERNAL (with a request id) or BACKUPS_NOT_READY.", content: { "application/json": { schema: r.errorSchema } } };
  const bodyType = e.tag === "Auth" ? "application/x-www-form-urlencoded" : "application/json";
  return {
    operationId: operationId(e),
    tags: [e.tag],
    summary: e.summary,
    description: [e.description, `**Who:** ${whoMay(e.gate)}`].filter(Boolean).join("\n\n"),
    security: security(e.gate),
    "x-vaultline-gate": e.gate,
    ...(e.query || e.path.includes("{id}") ? { requestParams: { ...(e.query ? { query: e.query } : {}), ...(e.path.includes("{id}") ? { path: idParam } : {}) } } : {}),
    ...(e.body ? { requestBody: { required: !e.bodyOptional, content: { [bodyType]: { schema: e.body } } } } : {}),
    responses: responses as ZodOpenApiResponsesObject,
  };
}

let cached: ReturnType<typeof createDocument> | undefined;

/** The document; built once per process (it depends on code only). */
export function openApiDocument(): ReturnType<typeof createDocument> {
  if (cached) return cached;
  const paths: ZodOpenApiPathsObject = {};
  for (const e of ENDPOINTS) paths[e.path] = { ...paths[e.path], [e.method]: operation(e) };
  cached = createDocument({
    openapi: "3.1.0",
    info: {
      title: "Vaultline API",
      version: "1",
      description:
        "Back up, restore and gate deploys of a PostgreSQL database. Send an API token as `Authorization: Bearer <token>` " +
        "(Settings → API tokens); the dashboard's own calls use the session cookie. Errors share one body: " +
        '`{"error":{"code","message","details?"}}`.',
    },
    tags: TAGS.map((t) => ({ ...t })),
    // Without a top-level requirement each operation states its own (public ones none).
    paths,
    components: {
      securitySchemes: {
        [SESSION]: {
          type: "apiKey",
          in: "cookie",
          name: "next-auth.session-token",
          description:
            "The dashboard's session (`__Secure-next-auth.session-token` over https). Writes must also send `Content-Type: application/json` and the dashboard's `Origin`. Required roles, lowest first: " +
            ROLES.join(" < ") +
            ".",
        },
        [BEARER]: {
          type: "http",
          scheme: "bearer",
          description: `An API token. Scopes: ${SCOPES.join(", ")}. A token acts with its scopes only, and never beyond its creator's role.`,
        },
      },
    },
  });
  return cached;
}
