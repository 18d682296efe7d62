"use client";
// /restores (seed 003's restore history): when, who, from which backup, the safety backup
// taken first, how long, and why it failed. Polls while a restore is running.
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useRestoresQuery } from "@/lib/hooks/use-restores";
import { isActive } from "@/lib/hooks/use-backups";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { StatusBadge } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";

const PAGE_SIZE = 25;

export function RestoresView() {
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Math.floor(Number(useSearchParams().get("offset")) || 0));
  const list = useRestoresQuery({ limit: PAGE_SIZE, offset });

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Restores</h1>
        <p className="mt-1 text-sm text-slate-600">
          Every restore, newest first. Each one first takes a safety backup of the database as it was, so a restore can be undone by restoring that.
        </p>
      </div>
      {list.isPending ? (
        <TableSkeleton rows={4} label="Loading restores" />
      ) : list.isError ? (
        <ErrorState title="Could not load the restores" error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.restores.length === 0 ? (
        <EmptyState title="No restores yet">
          Restores are started from a backup on the{" "}
          <Link href="/backups" className="underline">
            Backups
          </Link>{" "}
          page.
        </EmptyState>
      ) : (
        <>
          <div className={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined} aria-busy={list.isPlaceholderData}>
          <Table label="Restore history">
            <THead>
              <Th>When</Th>
              <Th>Status</Th>
              <Th>By</Th>
              <Th>From backup</Th>
              <Th>Safety backup</Th>
              <Th className="text-right">Duration</Th>
              <Th>Failure reason</Th>
            </THead>
            <tbody>
              {list.data.restores.map((r) => {
                const when = r.startedAt ?? r.createdAt ?? null;
                return (
                  <tr key={r.id} className="h-14 border-t border-slate-100">
                    <Td>
                      {when ? (
                        <>
                          <Link href={`/restores/${r.id}`} className="underline-offset-2 hover:underline">
                            <time dateTime={when}>{formatDateTimeUtc(when)}</time>
                          </Link>
                          <p className="text-xs text-slate-500">{formatRelative(when)}</p>
                        </>
                      ) : (
                        "—"
                      )}
                    </Td>
                    <Td>
                      <div className="flex flex-col gap-0.5">
                        <StatusBadge status={r.status} />
                        {isActive(r.status) && r.phase && <span className="text-xs text-slate-500">{r.phase}</span>}
                      </div>
                    </Td>
                    <Td>{r.initiatedBy?.displayName ?? "System"}</Td>
                    <Td>
                      <Link href={`/backups/${r.backupId}`} className="font-mono text-sky-800 underline-offset-2 hover:underline">
                        {shortId(r.backupId)}
                      </Link>
                    </Td>
                    <Td>
                      {r.safetyBackupId ? (
                        <Link href={`/backups/${r.safetyBackupId}`} className="font-mono text-sky-800 underline-offset-2 hover:underline">
                          {shortId(r.safetyBackupId)}
                        </Link>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </Td>
                    <Td className="text-right tabular-nums">{formatDuration(r.durationSeconds)}</Td>
                    <Td className="max-w-sm whitespace-normal">
                      {r.failureReason ? (
                        <span className="line-clamp-2 text-red-800" title={r.failureReason}>
                          {r.failureReason}
                        </span>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </Td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
          </div>
          <Pagination
            total={list.data.total}
            limit={PAGE_SIZE}
            offset={list.data.offset}
            onChange={(o) => router.push(o ? `${pathname}?offset=${o}` : pathname, { scroll: false })}
          />
        </>
      )}
    </div>
  );
}
