"use client";
// Beside today's banner: when a restore was last proven by a drill, and how long that
// recovery took. Red when the newest drill failed or drills are overdue (DrillSummary).
import Link from "next/link";
import { useTodayQuery } from "@/lib/hooks/use-backups";
import { formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { DrillSummary } from "@/lib/backup/drill-status";

const tone: Record<DrillSummary["state"], string> = {
  ok: "border-emerald-200 bg-emerald-50 text-emerald-950",
  running: "border-sky-200 bg-sky-50 text-sky-950",
  failed: "border-red-300 bg-red-50 text-red-950",
  overdue: "border-red-300 bg-red-50 text-red-950",
  pending: "border-slate-200 bg-white text-slate-800",
  none: "border-slate-200 bg-white text-slate-600",
};

function proven(d: DrillSummary): string {
  if (!d.lastSuccessAt) return "No restore proven yet";
  return `Last proven restore: ${formatRelative(d.lastSuccessAt)}, recovery time ${formatDuration(d.durationSeconds)}`;
}

function status(d: DrillSummary): string | null {
  switch (d.state) {
    case "failed":
      return `The last restore drill failed: ${d.failureReason ?? "no reason recorded"}`;
    case "overdue":
      return "Restore drills are overdue: no drill has passed within the drill schedule's interval.";
    case "running":
      return "A restore drill is running.";
    case "pending":
      return d.nextRunAt ? `First scheduled drill ${formatDateTimeUtc(d.nextRunAt)}.` : null;
    case "none":
      return "Restore drills are not scheduled (Settings → Restore drills).";
    default:
      return d.nextRunAt ? `Next drill ${formatDateTimeUtc(d.nextRunAt)}.` : null;
  }
}

export function DrillLine({ target }: { target?: string }) {
  const today = useTodayQuery(target);
  if (!today.data) return null;
  const d = today.data.drill;
  const red = d.state === "failed" || d.state === "overdue";
  const more = status(d);
  return (
    <section
      data-testid="drill-line"
      data-state={d.state}
      aria-label="Restore drills"
      role={red ? "alert" : "status"}
      className={`flex flex-wrap items-baseline gap-x-3 gap-y-1 rounded-lg border px-4 py-2 text-sm ${tone[d.state]}`}
    >
      <span className="font-medium" title={d.lastSuccessAt ? formatDateTimeUtc(d.lastSuccessAt) : undefined}>
        {proven(d)}
      </span>
      {more && <span className={red ? "font-medium" : "opacity-80"}>{more}</span>}
      {d.backupId && (
        <Link href={`/backups/${d.backupId}`} className="underline underline-offset-2">
          Proven backup {shortId(d.backupId)}
        </Link>
      )}
    </section>
  );
}
