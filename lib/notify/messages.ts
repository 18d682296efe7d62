// Pure builders for every notification: one line for chat (Slack mrkdwn, emoji
// shortcodes), a subject and plain body for email, and the JSON a webhook receives.
// Kept free of I/O so the wording is tested without a network.
import { formatBytes } from "../format";
import type { BackupKind, BackupTrigger, JobStatus } from "../validation/backups";
import { drillMessageParts, type DrillNotifyEvent, type DrillPayload } from "./drill-messages";

export interface BackupSummary {
  id: string;
  status: JobStatus;
  kind: BackupKind;
  trigger: BackupTrigger;
  sizeBytes?: number | bigint | null;
  durationSeconds?: number | null;
  failureReason?: string | null;
  commitSha?: string | null;
  createdAt?: Date | null;
  completedAt?: Date | null;
}

export interface RestoreSummary {
  id: string;
  backupId: string;
  safetyBackupId?: string | null;
  durationSeconds?: number | null;
  initiatedBy?: string | null;
}

export type NotifyEvent =
  | { type: "backup.failed"; backup: BackupSummary; attempt: number; maxAttempts: number }
  | { type: "backup.succeeded"; backup: BackupSummary }
  | { type: "backup.missed"; lastSuccessAt: Date | null; hours: number }
  | { type: "restore.started"; restore: RestoreSummary }
  | {
      type: "restore.finished";
      restore: RestoreSummary;
      status: "SUCCEEDED" | "FAILED";
      failureReason?: string | null;
    }
  | { type: "retention.pruned"; count: number; bytes: number | bigint; ids: string[] }
  | DrillNotifyEvent;

export type NotifyEventType = NotifyEvent["type"];

export interface WebhookBackup {
  id: string;
  status: JobStatus;
  kind: BackupKind;
  trigger: BackupTrigger;
  /** Bytes. */
  size: number | null;
  /** Seconds. */
  duration: number | null;
  failureReason: string | null;
  commitSha: string | null;
  createdAt: string | null;
  completedAt: string | null;
}

export interface WebhookPayload {
  /** Slack and compatible chat webhooks display this and ignore the rest. */
  text: string;
  source: "vaultline";
  event: NotifyEventType;
  occurredAt: string;
  backup?: WebhookBackup;
  attempt?: number;
  maxAttempts?: number;
  restore?: {
    id: string;
    backupId: string;
    safetyBackupId: string | null;
    status: "STARTED" | "SUCCEEDED" | "FAILED";
    duration: number | null;
    failureReason: string | null;
    initiatedBy: string | null;
  };
  missed?: { lastSuccessAt: string | null; hours: number };
  retention?: { count: number; bytes: number; ids: string[] };
  drill?: DrillPayload;
}

export interface NotificationMessage {
  /** One line for chat, Slack-escaped. */
  text: string;
  subject: string;
  /** Plain-text email body. */
  body: string;
  payload: WebhookPayload;
}

export function humanSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "unknown duration";
  return `${seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds)} s`;
}

const TRIGGER_LABEL: Record<BackupTrigger, string> = {
  MANUAL: "manual",
  SCHEDULED: "scheduled",
  PRE_RESTORE: "pre-restore safety",
  PRE_DEPLOY: "pre-deploy",
  API: "api",
};

// Slack treats <, > and & as markup; a failure reason containing them must not vanish.
const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// Chat lines stay readable; the full reason is in the payload and the email body.
function oneLine(s: string, max = 300): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function webhookBackup(b: BackupSummary): WebhookBackup {
  return {
    id: b.id,
    status: b.status,
    kind: b.kind,
    trigger: b.trigger,
    size: b.sizeBytes === null || b.sizeBytes === undefined ? null : Number(b.sizeBytes),
    duration: b.durationSeconds ?? null,
    failureReason: b.failureReason ?? null,
    commitSha: b.commitSha ?? null,
    createdAt: iso(b.createdAt),
    completedAt: iso(b.completedAt),
  };
}

function backupDetails(b: BackupSummary): string[] {
  return [
    `Backup:   ${b.id}`,
    `Kind:     ${b.kind}`,
    `Trigger:  ${TRIGGER_LABEL[b.trigger]}`,
    `Status:   ${b.status}`,
    `Size:     ${formatBytes(b.sizeBytes, "unknown size")}`,
    `Duration: ${humanSeconds(b.durationSeconds)}`,
    ...(b.commitSha ? [`Commit:   ${b.commitSha}`] : []),
    ...(b.createdAt ? [`Started:  ${b.createdAt.toISOString()}`] : []),
    ...(b.failureReason ? ["", "Reason:", b.failureReason] : []),
  ];
}

/** The chat line, email and webhook payload for one event. `now` stamps occurredAt. */
export function backupEventMessage(event: NotifyEvent, now: Date = new Date()): NotificationMessage {
  const base = { source: "vaultline" as const, event: event.type, occurredAt: now.toISOString() };
  const finish = (
    plain: string,
    chat: string,
    subject: string,
    body: string[],
    extra: Omit<WebhookPayload, "text" | "source" | "event" | "occurredAt">,
  ): NotificationMessage => ({
    text: chat,
    subject: `[Vaultline] ${subject}`,
    body: [plain, "", ...body, "", `Sent by Vaultline at ${now.toISOString()}.`].join("\n"),
    payload: { text: chat, ...base, ...extra },
  });

  switch (event.type) {
    case "backup.failed": {
      const b = event.backup;
      const what = `${b.kind}, ${TRIGGER_LABEL[b.trigger]}, attempt ${event.attempt} of ${event.maxAttempts}`;
      const reason = b.failureReason ? oneLine(b.failureReason) : "no reason recorded";
      const willRetry = event.attempt < event.maxAttempts;
      return finish(
        `Vaultline backup FAILED (${what}): ${reason}`,
        `:x: Vaultline backup FAILED (${what}): ${slackEscape(reason)}`,
        `Backup FAILED (${what})`,
        [
          ...backupDetails(b),
          "",
          willRetry ? "Vaultline will try again." : "This was the last attempt; no further retries.",
        ],
        { backup: webhookBackup(b), attempt: event.attempt, maxAttempts: event.maxAttempts },
      );
    }
    case "backup.succeeded": {
      const b = event.backup;
      const what = `${b.kind}, ${TRIGGER_LABEL[b.trigger]}`;
      const summary = `${formatBytes(b.sizeBytes, "unknown size")} in ${humanSeconds(b.durationSeconds)}`;
      return finish(
        `Vaultline backup succeeded (${what}): ${summary}`,
        `:white_check_mark: Vaultline backup succeeded (${what}): ${summary}`,
        `Backup succeeded (${what}, ${formatBytes(b.sizeBytes, "unknown size")})`,
        backupDetails(b),
        { backup: webhookBackup(b) },
      );
    }
    case "backup.missed": {
      const since = event.lastSuccessAt
        ? `last success ${event.lastSuccessAt.toISOString()}`
        : "no successful backup on record";
      const line = `no successful backup for ${event.hours} hours (${since})`;
      return finish(
        `Vaultline: ${line}`,
        `:warning: Vaultline: ${line}`,
        `No successful backup for ${event.hours} hours`,
        [
          "Check the scheduler, the worker and the backup history; this alert is sent once",
          "and again only after a new successful backup is followed by another gap.",
        ],
        { missed: { lastSuccessAt: iso(event.lastSuccessAt), hours: event.hours } },
      );
    }
    case "restore.started": {
      const r = event.restore;
      const safety = r.safetyBackupId ? ` (safety backup ${r.safetyBackupId})` : "";
      const by = r.initiatedBy ? ` by ${r.initiatedBy}` : "";
      const line = `restore started from backup ${r.backupId}${by}${safety}`;
      return finish(
        `Vaultline ${line}`,
        `:rotating_light: Vaultline ${slackEscape(line)}`,
        `Restore started from backup ${r.backupId}`,
        [`Restore:  ${r.id}`, `Backup:   ${r.backupId}`, `Safety:   ${r.safetyBackupId ?? "none"}`, `By:       ${r.initiatedBy ?? "system"}`],
        { restore: restorePayload(r, "STARTED", null) },
      );
    }
    case "restore.finished": {
      const r = event.restore;
      const ok = event.status === "SUCCEEDED";
      const reason = event.failureReason ? oneLine(event.failureReason) : "no reason recorded";
      const line = ok
        ? `restore from backup ${r.backupId} finished in ${humanSeconds(r.durationSeconds)}`
        : `restore from backup ${r.backupId} FAILED: ${reason}`;
      return finish(
        `Vaultline ${line}`,
        `${ok ? ":white_check_mark:" : ":x:"} Vaultline ${slackEscape(line)}`,
        ok ? `Restore finished from backup ${r.backupId}` : `Restore FAILED from backup ${r.backupId}`,
        [
          `Restore:  ${r.id}`,
          `Backup:   ${r.backupId}`,
          `Safety:   ${r.safetyBackupId ?? "none"}`,
          `Status:   ${event.status}`,
          `Duration: ${humanSeconds(r.durationSeconds)}`,
          ...(event.failureReason ? ["", "Reason:", event.failureReason] : []),
        ],
        { restore: restorePayload(r, event.status, event.failureReason ?? null) },
      );
    }
    case "drill.failed":
    case "drill.overdue": {
      const d = drillMessageParts(event);
      return finish(d.plain, d.chat, d.subject, d.body, { drill: d.drill });
    }
    case "retention.pruned": {
      const line = `retention pruned ${event.count} backup${event.count === 1 ? "" : "s"} (${formatBytes(event.bytes, "unknown size")})`;
      return finish(
        `Vaultline ${line}`,
        `:wastebasket: Vaultline ${line}`,
        `Retention pruned ${event.count} backup${event.count === 1 ? "" : "s"}`,
        ["Pruned:", ...event.ids.map((id) => `  ${id}`)],
        { retention: { count: event.count, bytes: Number(event.bytes), ids: event.ids } },
      );
    }
  }
}

function restorePayload(
  r: RestoreSummary,
  status: "STARTED" | "SUCCEEDED" | "FAILED",
  failureReason: string | null,
): NonNullable<WebhookPayload["restore"]> {
  return {
    id: r.id,
    backupId: r.backupId,
    safetyBackupId: r.safetyBackupId ?? null,
    status,
    duration: r.durationSeconds ?? null,
    failureReason,
    initiatedBy: r.initiatedBy ?? null,
  };
}
