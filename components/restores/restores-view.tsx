"use client";
// /restores (seed 003's restore history): when, who, from which backup, the safety backup
// taken first, how long, and why it failed. Stacked rows, not a wide table, so it reads at
// 390 px; each row opens with a real button (keyboard and touch) to the whole failure
// reason and what became of the safety backup. Polls while a restore is running.
import Link from "next/link";
import { useState } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useRestoresQuery } from "@/lib/hooks/use-restores";
import { isActive } from "@/lib/hooks/use-backups";
import { StatusBadge } from "@/components/ui/badge";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { RestoreDto } from "@/lib/validation/restores";
import { Labelled } from "@/components/ui/labelled";
import { TargetBadge } from "@/components/targets/target-badge";
import { TargetContext } from "@/components/targets/target-context";
import { useSelectedTarget } from "@/components/targets/use-selected-target";
import { targetOf } from "@/lib/targets-client";

const PAGE_SIZE = 25;

function BackupLink({ id, status }: { id: string; status: string | null | undefined }) {
  return (
    <Link href={`/backups/${id}`} className="font-mono text-sky-800 underline-offset-2 hover:underline">
      {shortId(id)}
      {status === null && <span className="font-sans text-xs text-slate-500"> (removed)</span>}
      {status === "CANCELLED" && <span className="font-sans text-xs text-slate-500"> (cancelled)</span>}
    </Link>
  );
}

function safetyNote(r: RestoreDto): string | null {
  if (!r.safetyBackupId) return "No safety backup was recorded for this restore.";
  if (r.safetyBackupStatus === "CANCELLED")
    return r.status === "FAILED"
      ? "The safety backup was cancelled, empty: the restore was refused before it touched the database, so there was nothing to protect."
      : "The safety backup was cancelled, empty: the restore it was for did not run.";
  if (r.safetyBackupStatus === null) return "The safety backup has since been removed from the catalogue; its page says when and why.";
  if (r.safetyBackupStatus === "SUCCEEDED") return "Restoring the safety backup undoes this restore.";
  return null;
}

function RestoreRow({ r, open, onToggle }: { r: RestoreDto; open: boolean; onToggle: () => void }) {
  const when = r.startedAt ?? r.createdAt ?? null;
  const panelId = `restore-${r.id}-details`;
  const note = safetyNote(r);
  return (
    <li className="border-t border-slate-100 first:border-t-0" data-restore-id={r.id}>
      <div className="grid grid-cols-2 gap-x-4 gap-y-2 px-4 py-3 sm:grid-cols-3 lg:grid-cols-[11rem_8rem_minmax(0,10rem)_9rem_9rem_5rem_minmax(0,1fr)]">
        <Labelled label="When">
          {when ? (
            <>
              <Link href={`/restores/${r.id}`} className="text-sky-800 underline-offset-2 hover:underline">
                <time dateTime={when}>{formatDateTimeUtc(when)}</time>
              </Link>
              <p className="text-xs text-slate-500">{formatRelative(when)}</p>
            </>
          ) : (
            "—"
          )}
        </Labelled>
        <Labelled label="Status">
          <StatusBadge status={r.status} />
          {isActive(r.status) && r.phase && <p className="text-xs text-slate-500">{r.phase}</p>}
        </Labelled>
        <Labelled label={targetOf(r) ? "Target · by" : "By"}>
          {targetOf(r) && <TargetBadge target={targetOf(r)} />}
          <p className="[overflow-wrap:anywhere]">{r.initiatedBy?.displayName ?? "System"}</p>
        </Labelled>
        <Labelled label="From backup">
          <BackupLink id={r.backupId} status={r.backupStatus} />
        </Labelled>
        <Labelled label="Safety backup">{r.safetyBackupId ? <BackupLink id={r.safetyBackupId} status={r.safetyBackupStatus} /> : <span className="text-slate-400">—</span>}</Labelled>
        <Labelled label="Duration">
          <span className="tabular-nums">{formatDuration(r.durationSeconds)}</span>
        </Labelled>
        <div className="col-span-2 flex min-w-0 flex-col items-start gap-1 sm:col-span-3 lg:col-span-1">
          {r.failureReason && (
            <p className={`text-sm text-red-800 [overflow-wrap:anywhere] ${open ? "" : "line-clamp-2"}`} data-testid="restore-failure-reason">
              {r.failureReason}
            </p>
          )}
          <button
            type="button"
            aria-expanded={open}
            aria-controls={panelId}
            onClick={onToggle}
            className="rounded-md border border-slate-300 px-3 py-1 text-sm text-sky-800 hover:bg-slate-50"
          >
            {open ? "Hide details" : r.failureReason ? "Show the full reason" : "Show details"}
          </button>
        </div>
      </div>
      {open && (
        <div id={panelId} role="region" aria-label={`Restore ${shortId(r.id)} details`} className="flex flex-col gap-2 bg-slate-50 px-4 py-3 text-sm">
          <dl className="grid gap-x-4 gap-y-1 sm:grid-cols-[10rem_1fr]">
            <dt className="text-slate-500">Restore</dt>
            <dd className="font-mono [overflow-wrap:anywhere]">
              <Link href={`/restores/${r.id}`} className="text-sky-800 underline">
                {r.id}
              </Link>
            </dd>
            {r.failureReason && (
              <>
                <dt className="text-slate-500">Why it failed</dt>
                <dd className="whitespace-pre-wrap text-red-800 [overflow-wrap:anywhere]">{r.failureReason}</dd>
              </>
            )}
            <dt className="text-slate-500">Started · finished</dt>
            <dd>
              {r.startedAt ? formatDateTimeUtc(r.startedAt) : "never started"} · {r.completedAt ? formatDateTimeUtc(r.completedAt) : "—"}
            </dd>
            {note && (
              <>
                <dt className="text-slate-500">Safety backup</dt>
                <dd>{note}</dd>
              </>
            )}
          </dl>
        </div>
      )}
    </li>
  );
}

export function RestoresView() {
  const router = useRouter();
  const pathname = usePathname();
  const offset = Math.max(0, Math.floor(Number(useSearchParams().get("offset")) || 0));
  const target = useSelectedTarget();
  const list = useRestoresQuery({ limit: PAGE_SIZE, offset, target: target.param });
  const [open, setOpen] = useState<string | null>(null);

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Restores</h1>
        <TargetContext name={target.name} />
        <p className="mt-1 text-sm text-slate-600">
          Every restore, newest first. Each one first takes a safety backup of the database as it was, so a restore can be undone by restoring that.
        </p>
      </div>
      {list.isPending ? (
        <TableSkeleton rows={4} label="Loading restores" />
      ) : list.isError ? (
        <ErrorState title="Could not load the restores" error={list.error} onRetry={() => list.refetch()} />
      ) : list.data.restores.length === 0 ? (
        <EmptyState title={target.param ? `No restores of ${target.name} yet` : "No restores yet"}>
          Restores are started from a backup on the{" "}
          <Link href={target.href("/backups")} className="underline">
            Backups
          </Link>{" "}
          page.
        </EmptyState>
      ) : (
        <>
          <div className={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined} aria-busy={list.isPlaceholderData}>
            <ol aria-label="Restore history" className="rounded-lg border border-slate-200 bg-white">
              {list.data.restores.map((r) => (
                <RestoreRow key={r.id} r={r} open={open === r.id} onToggle={() => setOpen(open === r.id ? null : r.id)} />
              ))}
            </ol>
          </div>
          <Pagination
            total={list.data.total}
            limit={PAGE_SIZE}
            offset={list.data.offset}
            onChange={(o) => router.push(target.href(o ? `${pathname}?offset=${o}` : pathname), { scroll: false })}
          />
        </>
      )}
    </div>
  );
}
