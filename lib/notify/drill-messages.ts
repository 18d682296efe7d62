// The wording of the two drill alerts (issue 17 §1): a drill that failed, and drills that
// are overdue. Pure; messages.ts wraps them like every other event.

export interface DrillFailedEvent {
  type: "drill.failed";
  drill: { id: string; backupId: string | null; trigger: string; failureReason: string | null; recoverySeconds: number | null };
}
export interface DrillOverdueEvent {
  type: "drill.overdue";
  lastSuccessAt: Date | null;
  cron: string;
  timezone: string;
}
export type DrillNotifyEvent = DrillFailedEvent | DrillOverdueEvent;

export interface DrillPayload {
  id?: string;
  backupId?: string | null;
  trigger?: string;
  failureReason?: string | null;
  recoverySeconds?: number | null;
  lastSuccessAt?: string | null;
  cron?: string;
  timezone?: string;
}

export interface DrillMessageParts {
  plain: string;
  chat: string;
  subject: string;
  body: string[];
  drill: DrillPayload;
}

const oneLine = (s: string) => {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
};
const slackEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function drillMessageParts(event: DrillNotifyEvent): DrillMessageParts {
  if (event.type === "drill.failed") {
    const d = event.drill;
    const reason = d.failureReason ? oneLine(d.failureReason) : "no reason recorded";
    const of = d.backupId ? `of backup ${d.backupId}` : "(no backup to restore)";
    return {
      plain: `Vaultline restore drill FAILED ${of}: ${reason}`,
      chat: `:x: Vaultline restore drill FAILED ${of}: ${slackEscape(reason)}`,
      subject: `Restore drill FAILED ${of}`,
      body: [
        `Drill:    ${d.id}`,
        `Backup:   ${d.backupId ?? "none"}`,
        `Trigger:  ${d.trigger.toLowerCase()}`,
        ...(d.failureReason ? ["", "Reason:", d.failureReason] : []),
        "",
        "Until a drill passes, no backup is proven restorable. See docs/operations.md, \"Restore drills\".",
      ],
      drill: { id: d.id, backupId: d.backupId, trigger: d.trigger, failureReason: d.failureReason, recoverySeconds: d.recoverySeconds },
    };
  }
  const since = event.lastSuccessAt ? `last proven restore ${event.lastSuccessAt.toISOString()}` : "no restore proven yet";
  const line = `restore drill overdue (${since}; schedule ${event.cron} ${event.timezone})`;
  return {
    plain: `Vaultline: ${line}`,
    chat: `:warning: Vaultline: ${line}`,
    subject: "Restore drill overdue",
    body: [
      "No successful restore drill within the drill schedule's interval. Check the worker,",
      "DRILL_DATABASE_URL and the drill history; this alert is sent once per gap.",
    ],
    drill: { lastSuccessAt: event.lastSuccessAt?.toISOString() ?? null, cron: event.cron, timezone: event.timezone },
  };
}
