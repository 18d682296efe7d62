// Labels for deployment records: what kind of record, and how it ended.
import { Badge, type Tone } from "@/components/ui/badge";
import type { DeploymentDto, DeploymentStatus } from "@/lib/validation/deploy";

const statusTone: Record<DeploymentStatus, Tone> = {
  BLOCKED: "red",
  ALLOWED: "green",
  RUNNING: "blue",
  SUCCEEDED: "green",
  FAILED: "red",
  ROLLED_BACK: "violet",
};

const statusLabel: Record<DeploymentStatus, string> = {
  BLOCKED: "Blocked",
  ALLOWED: "Allowed",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
  ROLLED_BACK: "Rolled back",
};

export function DeploymentStatusBadge({ status }: { status: DeploymentStatus }) {
  return (
    <Badge tone={statusTone[status]}>
      {status === "RUNNING" && <span aria-hidden className="h-1.5 w-1.5 animate-pulse rounded-full bg-sky-600" />}
      {statusLabel[status]}
    </Badge>
  );
}

const typeLabel: Record<DeploymentDto["type"], { text: string; title: string }> = {
  gate: { text: "Gate check", title: "A pre-deploy gate decision (CI or the Deploy button)" },
  deploy: { text: "Deploy", title: "A deploy Vaultline ran through the configured hook" },
  record: { text: "Reported deploy", title: "A deploy reported by CI through POST /api/deployments" },
  rollback: { text: "Rollback", title: "A rollback to a backup" },
};

export function DeploymentTypeLabel({ type }: { type: DeploymentDto["type"] }) {
  return (
    <span title={typeLabel[type].title} className={type === "rollback" ? "font-medium text-violet-800" : "text-slate-800"}>
      {typeLabel[type].text}
    </span>
  );
}

export function CommitSha({ sha }: { sha: string }) {
  if (!sha) return <span className="text-slate-400">—</span>;
  return (
    <code title={sha} className="font-mono text-xs text-slate-800">
      {sha.slice(0, 10)}
    </code>
  );
}
