"use client";
// /backups: today's banner, the history with its filters and pages (all in the URL, so a
// filtered view can be shared and survives a reload), "Back up now", and the trends.
import { useEffect, useState } from "react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import type { BackupDto, BackupKind, JobStatus } from "@/lib/validation/backups";
import { BACKUP_KINDS, BACKUP_TRIGGERS, JOB_STATUSES } from "@/lib/validation/backups";
import { isActive, useBackupsQuery } from "@/lib/hooks/use-backups";
import { useDismissToast } from "@/components/ui/toast";
import { useCan } from "@/components/user-context";
import { Button } from "@/components/ui/button";
import { Pagination } from "@/components/ui/pagination";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { TodayBanner } from "./today-banner";
import { DrillLine } from "./drill-line";
import { BackupFilters, type BackupFilterValues } from "./backup-filters";
import { BackupsTable } from "./backups-table";
import { CreateBackupDialog, queuedToastKey } from "./create-backup-dialog";
import { RestoreDialog } from "./restore-dialog";
import { DeleteBackupDialog } from "./delete-backup-dialog";
import { TrendCharts } from "./trend-charts";
import type { BackupDialogKind } from "./backup-actions";
import { useSelectedTarget } from "@/components/targets/use-selected-target";
import { TargetContext } from "@/components/targets/target-context";

export const PAGE_SIZE = 25;

function oneOf<T extends string>(list: readonly T[], v: string | null): T | undefined {
  return v && (list as readonly string[]).includes(v) ? (v as T) : undefined;
}

export function BackupsView() {
  const router = useRouter();
  const pathname = usePathname();
  const search = useSearchParams();
  const status = oneOf(JOB_STATUSES, search.get("status")) as JobStatus | undefined;
  const kind = oneOf(BACKUP_KINDS, search.get("kind")) as BackupKind | undefined;
  const trigger = oneOf(BACKUP_TRIGGERS, search.get("trigger"));
  const offset = Math.max(0, Math.floor(Number(search.get("offset")) || 0));
  const target = useSelectedTarget();

  const canCreate = useCan("backups.create");
  const [creating, setCreating] = useState(false);
  const [dialog, setDialog] = useState<{ kind: BackupDialogKind; backup: BackupDto } | null>(null);
  const list = useBackupsQuery({ limit: PAGE_SIZE, offset, status, kind, trigger, target: target.param });
  const dismissToast = useDismissToast();
  // "Backup … queued" is stale once the history shows that backup finished.
  useEffect(() => {
    for (const b of list.data?.backups ?? []) if (!isActive(b.status)) dismissToast(queuedToastKey(b.id));
  }, [list.data, dismissToast]);

  function navigate(next: BackupFilterValues & { offset?: number }) {
    const q = new URLSearchParams();
    if (next.status) q.set("status", next.status);
    if (next.kind) q.set("kind", next.kind);
    if (next.trigger) q.set("trigger", next.trigger);
    if (next.offset) q.set("offset", String(next.offset));
    const qs = q.toString();
    router.push(target.href(qs ? `${pathname}?${qs}` : pathname), { scroll: false });
  }

  const filters = { status, kind, trigger };
  const filtered = !!(status || kind || trigger);

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div className="flex flex-col gap-1">
          <h1 className="text-2xl font-semibold">Backups</h1>
          <TargetContext name={target.name} />
        </div>
        {canCreate && <Button onClick={() => setCreating(true)}>Back up now</Button>}
      </div>

      <div className="flex flex-col gap-2">
        <TodayBanner target={target.param} />
        <DrillLine target={target.param} />
      </div>

      <section aria-labelledby="history-heading" className="flex flex-col gap-3">
        <div className="flex flex-wrap items-end justify-between gap-3">
          <h2 id="history-heading" className="text-lg font-semibold">
            History
          </h2>
          <BackupFilters value={filters} onChange={(v) => navigate({ ...v, offset: 0 })} />
        </div>
        {list.isPending ? (
          <TableSkeleton rows={6} label="Loading backups" />
        ) : list.isError ? (
          <ErrorState title="Could not load the backups" error={list.error} onRetry={() => list.refetch()} />
        ) : list.data.backups.length === 0 ? (
          filtered || offset > 0 ? (
            <EmptyState
              title="No backups match these filters"
              action={
                <Button variant="secondary" size="sm" onClick={() => navigate({})}>
                  Clear filters
                </Button>
              }
            />
          ) : (
            <EmptyState title={target.param ? `No backups of ${target.name} yet` : "No backups yet"} action={canCreate && <Button onClick={() => setCreating(true)}>Back up now</Button>}>
              Scheduled backups appear here after their first run. {canCreate ? "Or take one now." : "An operator can take one now."}
            </EmptyState>
          )
        ) : (
          <>
            <div className={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined} aria-busy={list.isPlaceholderData}>
              <BackupsTable backups={list.data.backups} target={target.param} onOpen={(k, b) => setDialog({ kind: k, backup: b })} />
            </div>
            <Pagination total={list.data.total} limit={PAGE_SIZE} offset={list.data.offset} onChange={(o) => navigate({ ...filters, offset: o })} />
          </>
        )}
      </section>

      <TrendCharts target={target.param} />

      <CreateBackupDialog open={creating} target={target.name} onClose={() => setCreating(false)} />
      <RestoreDialog backup={dialog?.kind === "restore" ? dialog.backup : null} onClose={() => setDialog(null)} />
      <DeleteBackupDialog backup={dialog?.kind === "delete" ? dialog.backup : null} onClose={() => setDialog(null)} />
    </div>
  );
}
