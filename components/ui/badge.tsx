// Small status labels. Colour is never the only signal: every badge has its text.
import type { BackupKind, BackupTrigger, JobStatus } from "@/lib/validation/backups";

export type Tone = "slate" | "green" | "red" | "amber" | "blue" | "violet";

const tones: Record<Tone, string> = {
  slate: "bg-slate-100 text-slate-700 ring-slate-200",
  green: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  red: "bg-red-50 text-red-800 ring-red-200",
  amber: "bg-amber-50 text-amber-900 ring-amber-200",
  blue: "bg-sky-50 text-sky-800 ring-sky-200",
  violet: "bg-violet-50 text-violet-800 ring-violet-200",
};

export function Badge({ tone = "slate", children, title }: { tone?: Tone; children: React.ReactNode; title?: string }) {
  return (
    <span title={title} className={`inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[tone]}`}>
      {children}
    </span>
  );
}

const statusTone: Record<string, Tone> = {
  QUEUED: "slate",
  RUNNING: "blue",
  SUCCEEDED: "green",
  FAILED: "red",
  CANCELLED: "amber",
};

const statusLabel: Record<string, string> = {
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
};

export function StatusBadge({ status }: { status: JobStatus | string }) {
  return (
    <Badge tone={statusTone[status] ?? "slate"}>
      {status === "RUNNING" && <span aria-hidden className="h-1.5 w-1.5 animate-pulse rounded-full bg-sky-600" />}
      {statusLabel[status] ?? status}
    </Badge>
  );
}

export function KindBadge({ kind }: { kind: BackupKind }) {
  return (
    <Badge tone={kind === "FULL" ? "violet" : "slate"} title={kind === "FULL" ? "Database (and files)" : "Commit and schema only, no data"}>
      {kind === "FULL" ? "Full" : "Quick"}
    </Badge>
  );
}

const triggerLabel: Record<BackupTrigger, string> = {
  MANUAL: "Manual",
  SCHEDULED: "Scheduled",
  PRE_RESTORE: "Pre-restore",
  PRE_DEPLOY: "Pre-deploy",
  API: "API",
};

export function TriggerBadge({ trigger }: { trigger: BackupTrigger }) {
  return <Badge tone={trigger === "PRE_RESTORE" || trigger === "PRE_DEPLOY" ? "amber" : "slate"}>{triggerLabel[trigger] ?? trigger}</Badge>;
}

export function triggerName(trigger: BackupTrigger): string {
  return triggerLabel[trigger] ?? trigger;
}
