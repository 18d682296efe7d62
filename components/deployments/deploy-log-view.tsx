"use client";
// A deploy's or rollback's log, refreshed every second while it runs, kept scrolled to the
// newest line unless the reader has scrolled up.
import { useEffect, useRef } from "react";
import { useDeploymentQuery } from "@/lib/hooks/use-deployments";
import { formatDuration, elapsedSeconds } from "@/lib/format";
import { ErrorState } from "@/components/ui/empty-state";
import { Skeleton } from "@/components/ui/skeleton";
import { CommitSha, DeploymentStatusBadge, DeploymentTypeLabel } from "./deployment-badges";

export function DeployLogView({ id, onClose }: { id: string; onClose?: () => void }) {
  const q = useDeploymentQuery(id);
  const pre = useRef<HTMLPreElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const el = pre.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [q.data?.log]);

  if (q.isPending) return <Skeleton className="h-40 w-full" />;
  if (q.isError) return <ErrorState title="Could not load the log" error={q.error} onRetry={() => q.refetch()} />;
  const d = q.data;
  return (
    <section aria-label="Deploy log" data-testid="deploy-log" className="flex flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4">
      <div className="flex flex-wrap items-center gap-2 text-sm">
        {d.url && (
          <a href={d.url} className="text-sky-800 underline [overflow-wrap:anywhere]" rel="noreferrer">
            CI run
          </a>
        )}
        <DeploymentTypeLabel type={d.type} />
        <CommitSha sha={d.commitSha} />
        <DeploymentStatusBadge status={d.status} />
        <span className="text-slate-500">{formatDuration(elapsedSeconds(d.at, d.completedAt))}</span>
        {onClose && (
          <button type="button" onClick={onClose} className="ml-auto text-sm text-slate-600 underline">
            Hide log
          </button>
        )}
      </div>
      {d.reasons.length > 0 && (
        <ul className={`list-disc pl-5 text-sm [overflow-wrap:anywhere] ${d.status === "FAILED" || d.status === "BLOCKED" ? "text-red-800" : "text-slate-700"}`}>
          {d.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      <pre
        ref={pre}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
        className="max-h-80 overflow-auto whitespace-pre-wrap break-all rounded-md bg-slate-950 p-3 font-mono text-xs leading-relaxed text-slate-100"
      >
        {d.log === undefined
          ? "The command and its output are shown to operators and admins."
          : d.log ||
            (d.type === "gate"
              ? "A gate decision has no log: its reasons and checks are above."
              : d.type === "record"
                ? "Reported by CI through POST /api/deployments: the deploy ran elsewhere, so Vaultline has no output for it."
                : d.status === "RUNNING"
                  ? "No output yet."
                  : "The hook printed nothing.")}
      </pre>
    </section>
  );
}
