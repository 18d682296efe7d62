"use client";
// Last deploys with their backups: gate decisions, deploys, reported deploys, rollbacks.
// Each row opens its reasons and log.
import Link from "next/link";
import { Fragment, useState } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useDeploymentsQuery } from "@/lib/hooks/use-deployments";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { KindBadge } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { DeploymentDto } from "@/lib/validation/deploy";
import { CommitSha, DeploymentStatusBadge, DeploymentTypeLabel } from "./deployment-badges";
import { DeployLogView } from "./deploy-log-view";

const PAGE_SIZE = 20;

function BackupCell({ d }: { d: DeploymentDto }) {
  if (!d.backupId) return <span className="text-slate-400">—</span>;
  if (!d.backup) return <span className="font-mono text-slate-500" title="No longer in the catalogue (pruned)">{shortId(d.backupId)}</span>;
  const age = d.backup.completedAt ? (Date.parse(d.at) - Date.parse(d.backup.completedAt)) / 1000 : null;
  return (
    <span className="flex items-center gap-2">
      <KindBadge kind={d.backup.kind} />
      <Link href={`/backups/${d.backup.id}`} className="font-mono text-sky-800 underline-offset-2 hover:underline">
        {shortId(d.backup.id)}
      </Link>
      {age !== null && age >= 0 && d.type !== "rollback" && <span className="text-xs text-slate-500">{formatDuration(age)} old then</span>}
    </span>
  );
}

export function DeployHistory() {
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Math.floor(Number(useSearchParams().get("offset")) || 0));
  const list = useDeploymentsQuery({ limit: PAGE_SIZE, offset });
  const [open, setOpen] = useState<string | null>(null);

  return (
    <section aria-labelledby="history-heading" className="flex flex-col gap-3">
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
          <Table label="Deploy history">
            <THead>
              <Th>When</Th>
              <Th>What</Th>
              <Th>Commit</Th>
              <Th>Status</Th>
              <Th>Backup</Th>
              <Th>By</Th>
              <Th>
                <span className="sr-only">Details</span>
              </Th>
            </THead>
            <tbody>
              {list.data.deployments.map((d) => (
                <Fragment key={d.id}>
                  <tr className="border-t border-slate-100" data-deployment-id={d.id}>
                    <Td>
                      <time dateTime={d.at}>{formatDateTimeUtc(d.at)}</time>
                      <p className="text-xs text-slate-500">{formatRelative(d.at)}</p>
                    </Td>
                    <Td>
                      <DeploymentTypeLabel type={d.type} />
                      {d.environment !== "production" && <p className="text-xs text-slate-500">{d.environment}</p>}
                    </Td>
                    <Td>
                      <CommitSha sha={d.commitSha} />
                    </Td>
                    <Td>
                      <DeploymentStatusBadge status={d.status} />
                      {d.reasons[0] && (
                        <p className="mt-0.5 max-w-xs truncate text-xs text-slate-600" title={d.reasons.join("\n")}>
                          {d.reasons[0]}
                        </p>
                      )}
                    </Td>
                    <Td>
                      <BackupCell d={d} />
                    </Td>
                    <Td className="max-w-[14rem] truncate">{d.actor.label ?? "System"}</Td>
                    <Td>
                      <button
                        type="button"
                        aria-expanded={open === d.id}
                        onClick={() => setOpen(open === d.id ? null : d.id)}
                        className="text-sm text-sky-800 underline-offset-2 hover:underline"
                      >
                        {open === d.id ? "Hide" : d.type === "gate" ? "Reasons" : "Log"}
                      </button>
                    </Td>
                  </tr>
                  {open === d.id && (
                    <tr className="bg-slate-50">
                      <td colSpan={7} className="p-3">
                        <DeployLogView id={d.id} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </Table>
          <Pagination
            total={list.data.total}
            limit={PAGE_SIZE}
            offset={offset}
            onChange={(o) => router.push(o ? `${pathname}?offset=${o}` : pathname, { scroll: false })}
          />
        </>
      )}
    </section>
  );
}
