"use client";
// Last deploys with their backups: gate decisions, deploys, reported deploys, rollbacks.
// A list of stacked rows rather than a wide table, so it fits its box at any width; each
// row opens (a real button: keyboard and touch, not hover) its full reasons and log.
import Link from "next/link";
import { useState } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useDeploymentsQuery } from "@/lib/hooks/use-deployments";
import { KindBadge } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { DeploymentDto } from "@/lib/validation/deploy";
import { CommitSha, DeploymentStatusBadge, DeploymentTypeLabel } from "./deployment-badges";
import { DeployLogView } from "./deploy-log-view";
import { Labelled } from "@/components/ui/labelled";
import { TargetBadge } from "@/components/targets/target-badge";
import { useSelectedTarget } from "@/components/targets/use-selected-target";
import { targetOf } from "@/lib/targets-client";

const PAGE_SIZE = 20;

function BackupCell({ d }: { d: DeploymentDto }) {
  if (!d.backupId) return <span className="text-slate-400">no backup</span>;
  if (!d.backup) {
    // Pruned since: the backup page shows its tombstone (when and by which rule).
    return (
      <Link href={`/backups/${d.backupId}`} className="font-mono text-slate-600 underline underline-offset-2">
        {shortId(d.backupId)} <span className="font-sans text-xs">(removed)</span>
      </Link>
    );
  }
  const age = d.backup.completedAt ? (Date.parse(d.at) - Date.parse(d.backup.completedAt)) / 1000 : null;
  return (
    <span className="flex flex-wrap items-center gap-x-2 gap-y-1">
      <KindBadge kind={d.backup.kind} />
      <Link href={`/backups/${d.backup.id}`} className="font-mono text-sky-800 underline-offset-2 hover:underline">
        {shortId(d.backup.id)}
      </Link>
      {age !== null && age >= 0 && d.type !== "rollback" && <span className="text-xs text-slate-500">{formatDuration(age)} old then</span>}
    </span>
  );
}

function DeployRow({ d, open, onToggle }: { d: DeploymentDto; open: boolean; onToggle: () => void }) {
  const panelId = `deploy-${d.id}-details`;
  return (
    <li className="border-t border-slate-100 first:border-t-0" data-deployment-id={d.id}>
      <div className="grid grid-cols-2 gap-x-4 gap-y-2 px-4 py-3 sm:grid-cols-3 lg:grid-cols-[11rem_8rem_7rem_minmax(0,1fr)_10rem_auto]">
        <Labelled label="When">
          <time dateTime={d.at}>{formatDateTimeUtc(d.at)}</time>
          <p className="text-xs text-slate-500">{formatRelative(d.at)}</p>
        </Labelled>
        <Labelled label="What">
          <DeploymentTypeLabel type={d.type} />
          {targetOf(d) && (
            <p>
              <TargetBadge target={targetOf(d)} />
            </p>
          )}
          {d.environment !== "production" && <p className="text-xs text-slate-500">{d.environment}</p>}
          <p>
            <CommitSha sha={d.commitSha} />
          </p>
        </Labelled>
        <Labelled label="Status">
          <DeploymentStatusBadge status={d.status} />
        </Labelled>
        <Labelled label="Backup · by" className="col-span-2 sm:col-span-1">
          <BackupCell d={d} />
          <p className="text-xs text-slate-500 [overflow-wrap:anywhere]">{d.actor.label ?? "System"}</p>
        </Labelled>
        <div className="col-span-2 min-w-0 sm:col-span-3 lg:col-span-1 lg:row-start-1 lg:col-start-5">
          {d.reasons[0] && (
            <p className={`text-xs [overflow-wrap:anywhere] ${d.status === "BLOCKED" || d.status === "FAILED" ? "text-red-800" : "text-slate-700"}`}>
              {d.reasons[0]}
              {d.reasons.length > 1 && <span className="text-slate-500"> (+{d.reasons.length - 1} more in the details)</span>}
            </p>
          )}
        </div>
        <div className="col-span-2 flex items-start sm:col-span-3 lg:col-span-1 lg:justify-end">
          <button
            type="button"
            aria-expanded={open}
            aria-controls={panelId}
            onClick={onToggle}
            className="rounded-md border border-slate-300 px-3 py-1.5 text-sm text-sky-800 hover:bg-slate-50"
          >
            {open ? "Hide details" : d.type === "gate" ? "Show reasons" : "Show log"}
            <span className="sr-only"> of the {d.type} at {formatDateTimeUtc(d.at)}</span>
          </button>
        </div>
      </div>
      {open && (
        <div id={panelId} className="bg-slate-50 p-3">
          <DeployLogView id={d.id} />
        </div>
      )}
    </li>
  );
}

export function DeployHistory() {
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Math.floor(Number(useSearchParams().get("offset")) || 0));
  const target = useSelectedTarget();
  const list = useDeploymentsQuery({ limit: PAGE_SIZE, offset, target: target.param });
  const [open, setOpen] = useState<string | null>(null);

  return (
    <section aria-labelledby="history-heading" className="flex min-w-0 flex-col gap-3">
      <h2 id="history-heading" className="text-lg font-semibold">
        Last deploys
      </h2>
      {list.isPending ? (
        <TableSkeleton rows={4} label="Loading deploys" />
      ) : list.isError ? (
        <ErrorState title="Could not load the deploys" error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.deployments.length === 0 ? (
        <EmptyState title="No deploys yet">Gate decisions from CI, deploys from this page and rollbacks show here.</EmptyState>
      ) : (
        <>
          <ol aria-label="Deploy history" className="rounded-lg border border-slate-200 bg-white">
            {list.data.deployments.map((d) => (
              <DeployRow key={d.id} d={d} open={open === d.id} onToggle={() => setOpen(open === d.id ? null : d.id)} />
            ))}
          </ol>
          <Pagination
            total={list.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onChange={(o) => router.push(target.href(o ? `${pathname}?offset=${o}` : pathname), { scroll: false })}
          />
        </>
      )}
    </section>
  );
}
