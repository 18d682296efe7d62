"use client";
// The status column: a badge and one line beneath it. A queued or running job shows its
// phase, bytes so far, elapsed time and a bar estimated from the last successful backup of
// its kind. The cell has a fixed height so rows never jump as progress arrives.
import type { BackupDto } from "@/lib/validation/backups";
import { StatusBadge } from "@/components/ui/badge";
import { Progress } from "@/components/ui/progress";
import { elapsedSeconds, formatBytes, formatDateTimeUtc, formatDuration, progressFraction } from "@/lib/format";
import { isActive } from "@/lib/hooks/use-backups";
import { useNow } from "@/lib/hooks/use-now";

export function LiveProgress({ backup, estimateBytes }: { backup: BackupDto; estimateBytes: number | null }) {
  const running = backup.status === "RUNNING";
  const now = useNow(1000, isActive(backup.status));
  const fraction = running ? progressFraction(backup.progressBytes, estimateBytes) : null;
  const elapsed = elapsedSeconds(backup.startedAt ?? backup.createdAt, null, now);
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-1" data-testid="live-progress">
      <div className="flex items-center justify-between gap-2 text-xs text-slate-600">
        <span className="truncate" title={backup.phase ?? undefined}>{running ? (backup.phase ?? "starting") : (backup.phase ?? "waiting for a worker")}</span>
        <span className="shrink-0 tabular-nums">{formatDuration(elapsed)}</span>
      </div>
      <Progress value={running ? fraction : 0} label={`Progress of backup ${backup.id.slice(0, 8)}`} />
      <div className="flex justify-between text-xs tabular-nums text-slate-500">
        <span>{running ? formatBytes(backup.progressBytes) : "—"}</span>
        <span title={fraction !== null ? `Estimated from the last successful backup of this kind (${formatBytes(estimateBytes)})` : undefined}>
          {fraction !== null ? `~${Math.round(fraction * 100)}%` : running ? "no estimate" : ""}
        </span>
      </div>
    </div>
  );
}

export function StatusCell({ backup, estimateBytes }: { backup: BackupDto; estimateBytes: number | null }) {
  if (isActive(backup.status)) {
    return (
      <div className="flex h-12 w-[13.5rem] items-center gap-2">
        <StatusBadge status={backup.status} />
        <LiveProgress backup={backup} estimateBytes={estimateBytes} />
      </div>
    );
  }
  const sub =
    backup.status === "FAILED"
      ? backup.failureReason
      : backup.verifyStatus
        ? `Verify ${backup.verifyStatus === "PASSED" ? "passed" : "failed"}`
        : null;
  return (
    <div className="flex h-12 w-[13.5rem] flex-col justify-center gap-1">
      <div className="flex items-center gap-2">
        <StatusBadge status={backup.status} />
        {backup.drillPassedAt ? (
          <span data-testid="drill-proven" className="text-xs text-emerald-700" title={`A restore drill restored this backup and matched its checksums (${formatDateTimeUtc(backup.drillPassedAt)})`}>
            ✓ restore proven
          </span>
        ) : backup.verifyStatus && (
          <span className={`text-xs ${backup.verifyStatus === "PASSED" ? "text-emerald-700" : "text-red-700"}`}>
            {backup.verifyStatus === "PASSED" ? "✓ verified" : "✗ verify failed"}
          </span>
        )}
      </div>
      {backup.status === "FAILED" && sub && (
        <p className="truncate text-xs text-red-800" title={sub}>
          {sub}
        </p>
      )}
    </div>
  );
}
