// Pure builders for every notification: one line for chat (Slack mrkdwn, emoji
// shortcodes), a title, severity and facts that the native formats (lib/notify/formats.ts)
// lay out, a subject and plain body for email, and the JSON a generic webhook receives.
// Kept free of I/O so the wording is tested without a network.
import { formatBytes } from "../format";
import type { BackupKind, BackupLocksDto, BackupTrigger, JobStatus, TargetRefDto } from "../validation/backups";
import { describeBlockedSession } from "../backup-locks-text";
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

/**
 * Every event but "test" is about one target (DESIGN §8) and names it; an event built
 * without one (a caller from before targets) is about no target in particular.
 */
export type NotifyEvent = (
  | { type: "backup.failed"; backup: BackupSummary; attempt: number; maxAttempts: number }
  | { type: "backup.succeeded"; backup: BackupSummary }
  | { type: "backup.missed"; lastSuccessAt: Date | null; hours: number }
  /** A session has waited long for a running backup's lock (decision 175): a migration, the application's queries behind it. */
  | { type: "backup.blocking"; backup: BackupSummary; session: BlockedSession }
  | { type: "restore.started"; restore: RestoreSummary }
  | {
      type: "restore.finished";
      restore: RestoreSummary;
      status: "SUCCEEDED" | "FAILED";
      failureReason?: string | null;
    }
  | { type: "retention.pruned"; count: number; bytes: number | bigint; ids: string[] }
  | DrillNotifyEvent
  | { type: "deploy.blocked"; commitSha: string; reasons: string[]; actor?: string | null }
  /** "Send test" on one channel: never routed, sent to that channel only. */
  | { type: "test"; channelName: string; by?: string | null }
) & { target?: TargetRefDto };

export type BlockedSession = BackupLocksDto["blocked"][number];

export type Severity = "failure" | "warning" | "success" | "info";

export interface Fact {
  name: string;
  value: string;
}

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
  /** The session a running backup holds up: who, which table and lock, how long, how many behind it; never its query. */
  blocking?: BlockedSession;
  retention?: { count: number; bytes: number; ids: string[] };
  drill?: DrillPayload;
  deploy?: { commitSha: string; reasons: string[]; actor: string | null };
  test?: { channel: string; by: string | null };
  /** The target the event is about (never its connection URL). */
  target?: TargetRefDto;
}

export interface NotificationMessage {
  event: NotifyEventType;
  /** One line for chat, Slack-escaped. */
  text: string;
  /** The same line without markup or emoji shortcodes (ntfy, Teams, Discord). */
  plain: string;
  /** A short heading: the email subject without its prefix. */
  title: string;
  severity: Severity;
  /** Label/value pairs shown as fields (Slack, Discord), a FactSet (Teams), lines (email). */
  facts: Fact[];
  /** Longer text after the facts (a full failure reason, pruned ids), or "". */
  detail: string;
  occurredAt: string;
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

function backupFacts(b: BackupSummary): Fact[] {
  return [
    { name: "Backup", value: b.id },
    { name: "Kind", value: b.kind },
    { name: "Trigger", value: TRIGGER_LABEL[b.trigger] },
    { name: "Status", value: b.status },
    { name: "Size", value: formatBytes(b.sizeBytes, "unknown size") },
    { name: "Duration", value: humanSeconds(b.durationSeconds) },
    ...(b.commitSha ? [{ name: "Commit", value: b.commitSha }] : []),
    ...(b.createdAt ? [{ name: "Started", value: b.createdAt.toISOString() }] : []),
  ];
}

const reasonLines = (reason: string | null | undefined) => (reason ? ["", "Reason:", reason] : []);
const factLines = (facts: Fact[]) => facts.map((f) => `${`${f.name}:`.padEnd(10)}${f.value}`);

interface Parts {
  plain: string;
  chat: string;
  title: string;
  severity: Severity;
  facts: Fact[];
  /** Email lines after the facts. */
  after?: string[];
  /** Text after the facts in chat formats (a full reason). */
  detail?: string;
  extra: Omit<WebhookPayload, "text" | "source" | "event" | "occurredAt">;
}

function parts(event: NotifyEvent): Parts {
  switch (event.type) {
    case "backup.failed": {
      const b = event.backup;
      const what = `${b.kind}, ${TRIGGER_LABEL[b.trigger]}, attempt ${event.attempt} of ${event.maxAttempts}`;
      const reason = b.failureReason ? oneLine(b.failureReason) : "no reason recorded";
      const willRetry = event.attempt < event.maxAttempts;
      return {
        plain: `Vaultline backup FAILED (${what}): ${reason}`,
        chat: `:x: Vaultline backup FAILED (${what}): ${slackEscape(reason)}`,
        title: `Backup FAILED (${what})`,
        severity: "failure",
        facts: backupFacts(b),
        after: [...reasonLines(b.failureReason), "", willRetry ? "Vaultline will try again." : "This was the last attempt; no further retries."],
        detail: b.failureReason ?? "",
        extra: { backup: webhookBackup(b), attempt: event.attempt, maxAttempts: event.maxAttempts },
      };
    }
    case "backup.succeeded": {
      const b = event.backup;
      const what = `${b.kind}, ${TRIGGER_LABEL[b.trigger]}`;
      const summary = `${formatBytes(b.sizeBytes, "unknown size")} in ${humanSeconds(b.durationSeconds)}`;
      return {
        plain: `Vaultline backup succeeded (${what}): ${summary}`,
        chat: `:white_check_mark: Vaultline backup succeeded (${what}): ${summary}`,
        title: `Backup succeeded (${what}, ${formatBytes(b.sizeBytes, "unknown size")})`,
        severity: "success",
        facts: backupFacts(b),
        after: reasonLines(b.failureReason),
        extra: { backup: webhookBackup(b) },
      };
    }
    case "backup.blocking": {
      const b = event.backup;
      const what = `${b.kind}, ${TRIGGER_LABEL[b.trigger]}`;
      const line = `backup ${b.id} (${what}) holds up a session: ${describeBlockedSession(event.session)}`;
      const todo = `The dump holds its locks until the backup ends. Cancel the backup to let it through, or end that session: SELECT pg_terminate_backend(${event.session.pid});`;
      return {
        plain: `Vaultline ${line}`,
        chat: `:hourglass: Vaultline ${slackEscape(line)}`,
        title: `Backup ${b.id} holds up a session on ${event.session.table ?? "a table"}`,
        severity: "warning",
        facts: [
          { name: "Backup", value: b.id },
          { name: "Session", value: `pid ${event.session.pid}${event.session.application ? ` (${event.session.application})` : ""}` },
          { name: "Table", value: event.session.table ?? "unknown" },
          { name: "Waiting", value: humanSeconds(event.session.seconds) },
          { name: "Behind it", value: String(event.session.behind) },
        ],
        after: ["", todo],
        detail: todo,
        extra: { backup: webhookBackup(b), blocking: event.session },
      };
    }
    case "backup.missed": {
      const since = event.lastSuccessAt ? `last success ${event.lastSuccessAt.toISOString()}` : "no successful backup on record";
      const line = `no successful backup for ${event.hours} hours (${since})`;
      return {
        plain: `Vaultline: ${line}`,
        chat: `:warning: Vaultline: ${line}`,
        title: `No successful backup for ${event.hours} hours`,
        severity: "warning",
        facts: [],
        after: [
          "Check the scheduler, the worker and the backup history; this alert is sent once",
          "and again only after a new successful backup is followed by another gap.",
        ],
        detail: "Check the scheduler, the worker and the backup history.",
        extra: { missed: { lastSuccessAt: iso(event.lastSuccessAt), hours: event.hours } },
      };
    }
    case "restore.started": {
      const r = event.restore;
      const safety = r.safetyBackupId ? ` (safety backup ${r.safetyBackupId})` : "";
      const by = r.initiatedBy ? ` by ${r.initiatedBy}` : "";
      const line = `restore started from backup ${r.backupId}${by}${safety}`;
      return {
        plain: `Vaultline ${line}`,
        chat: `:rotating_light: Vaultline ${slackEscape(line)}`,
        title: `Restore started from backup ${r.backupId}`,
        severity: "warning",
        facts: [
          { name: "Restore", value: r.id },
          { name: "Backup", value: r.backupId },
          { name: "Safety", value: r.safetyBackupId ?? "none" },
          { name: "By", value: r.initiatedBy ?? "system" },
        ],
        extra: { restore: restorePayload(r, "STARTED", null) },
      };
    }
    case "restore.finished": {
      const r = event.restore;
      const ok = event.status === "SUCCEEDED";
      const reason = event.failureReason ? oneLine(event.failureReason) : "no reason recorded";
      const line = ok
        ? `restore from backup ${r.backupId} finished in ${humanSeconds(r.durationSeconds)}`
        : `restore from backup ${r.backupId} FAILED: ${reason}`;
      return {
        plain: `Vaultline ${line}`,
        chat: `${ok ? ":white_check_mark:" : ":x:"} Vaultline ${slackEscape(line)}`,
        title: ok ? `Restore finished from backup ${r.backupId}` : `Restore FAILED from backup ${r.backupId}`,
        severity: ok ? "success" : "failure",
        facts: [
          { name: "Restore", value: r.id },
          { name: "Backup", value: r.backupId },
          { name: "Safety", value: r.safetyBackupId ?? "none" },
          { name: "Status", value: event.status },
          { name: "Duration", value: humanSeconds(r.durationSeconds) },
        ],
        after: reasonLines(event.failureReason),
        detail: event.failureReason ?? "",
        extra: { restore: restorePayload(r, event.status, event.failureReason ?? null) },
      };
    }
    case "retention.pruned": {
      const n = `${event.count} backup${event.count === 1 ? "" : "s"}`;
      const line = `retention pruned ${n} (${formatBytes(event.bytes, "unknown size")})`;
      return {
        plain: `Vaultline ${line}`,
        chat: `:wastebasket: Vaultline ${line}`,
        title: `Retention pruned ${n}`,
        severity: "info",
        facts: [],
        after: ["Pruned:", ...event.ids.map((id) => `  ${id}`)],
        detail: `Pruned: ${event.ids.join(", ")}`,
        extra: { retention: { count: event.count, bytes: Number(event.bytes), ids: event.ids } },
      };
    }
    case "drill.failed":
    case "drill.overdue": {
      const d = drillMessageParts(event);
      const failed = event.type === "drill.failed";
      return {
        plain: d.plain,
        chat: d.chat,
        title: d.subject,
        severity: failed ? "failure" : "warning",
        facts: failed
          ? [
              { name: "Drill", value: event.drill.id },
              { name: "Backup", value: event.drill.backupId ?? "none" },
              { name: "Recovery time", value: humanSeconds(event.drill.recoverySeconds) },
            ]
          : [
              { name: "Last proven restore", value: event.lastSuccessAt?.toISOString() ?? "never" },
              { name: "Schedule", value: `${event.cron} (${event.timezone})` },
            ],
        after: d.body,
        detail: failed ? (event.drill.failureReason ?? "") : d.body.join(" "),
        extra: { drill: d.drill },
      };
    }
    case "deploy.blocked": {
      const reasons = event.reasons.length > 0 ? event.reasons : ["no reason recorded"];
      const line = `deploy of ${event.commitSha} blocked: ${oneLine(reasons.join("; "))}`;
      return {
        plain: `Vaultline ${line}`,
        chat: `:no_entry: Vaultline ${slackEscape(line)}`,
        title: `Deploy of ${event.commitSha} blocked`,
        severity: "failure",
        facts: [
          { name: "Commit", value: event.commitSha },
          { name: "By", value: event.actor ?? "unknown" },
        ],
        after: ["", "Reasons:", ...reasons.map((r) => `  - ${r}`)],
        detail: reasons.map((r) => `- ${r}`).join("\n"),
        extra: { deploy: { commitSha: event.commitSha, reasons: event.reasons, actor: event.actor ?? null } },
      };
    }
    case "test": {
      const by = event.by ? ` by ${event.by}` : "";
      const line = `test notification for channel "${event.channelName}"${by}`;
      return {
        plain: `Vaultline ${line}`,
        chat: `:bell: Vaultline ${slackEscape(line)}`,
        title: `Test notification (${event.channelName})`,
        severity: "info",
        facts: [{ name: "Channel", value: event.channelName }],
        after: ["", "If you can read this, the channel works."],
        detail: "If you can read this, the channel works.",
        extra: { test: { channel: event.channelName, by: event.by ?? null } },
      };
    }
  }
}

/**
 * How a message names its target: its name ("shop-prod"); the default target, whose name
 * alone would read like an adjective, as "default target".
 */
export function targetLabel(t: Pick<TargetRefDto, "name">): string {
  return t.name === "default" ? "default target" : t.name;
}

/** The parts with the target named first: "Vaultline shop-prod: backup FAILED …". */
function withTarget(p: Parts, t: TargetRefDto | undefined): Parts {
  if (!t) return p;
  const label = targetLabel(t);
  const lead = (line: string) => {
    const m = /^((?::[a-z_]+: )?Vaultline):? /.exec(line);
    return m ? `${m[1]} ${label}: ${line.slice(m[0].length)}` : `${label}: ${line}`;
  };
  return {
    ...p,
    plain: lead(p.plain),
    chat: lead(p.chat),
    title: `${label}: ${p.title}`,
    facts: [{ name: "Target", value: `${t.name} (${t.environment})` }, ...p.facts],
    extra: { ...p.extra, target: { id: t.id, name: t.name, environment: t.environment } },
  };
}

/** Everything every channel needs to say one event. `now` stamps occurredAt. */
export function backupEventMessage(event: NotifyEvent, now: Date = new Date()): NotificationMessage {
  const p = withTarget(parts(event), event.type === "test" ? undefined : event.target);
  const occurredAt = now.toISOString();
  return {
    event: event.type,
    text: p.chat,
    plain: p.plain,
    title: p.title,
    severity: p.severity,
    facts: p.facts,
    detail: p.detail ?? "",
    occurredAt,
    subject: `[Vaultline] ${p.title}`,
    body: [p.plain, "", ...factLines(p.facts), ...(p.after ?? []), "", `Sent by Vaultline at ${occurredAt}.`].join("\n"),
    payload: { text: p.chat, source: "vaultline", event: event.type, occurredAt, ...p.extra },
  };
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
