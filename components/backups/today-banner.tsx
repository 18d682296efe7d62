"use client";
// Seed 001's "did last night's backup run?" answered at a glance: green, yellow, red, or
// blue while one is running. The UTC day boundary is stated, so 01:30 in Berlin is not
// mistaken for "yesterday".
import Link from "next/link";
import { useTodayQuery } from "@/lib/hooks/use-backups";
import { formatBytes, formatDateTimeUtc, formatDuration, formatHours, formatRelative, formatTimeUtc, shortId } from "@/lib/format";
import type { TodaySummary } from "@/lib/backup/today";
import { Skeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { Progress } from "@/components/ui/progress";

/** The banner's colours per state; the overview's target cards use the same ones. */
export const todayStyles: Record<TodaySummary["state"], { box: string; icon: string }> = {
  ok: { box: "border-emerald-300 bg-emerald-50 text-emerald-950", icon: "text-emerald-600" },
  missing: { box: "border-amber-300 bg-amber-50 text-amber-950", icon: "text-amber-600" },
  failed: { box: "border-red-300 bg-red-50 text-red-950", icon: "text-red-600" },
  running: { box: "border-sky-300 bg-sky-50 text-sky-950", icon: "text-sky-600" },
};

export function TodayIcon({ state, className }: { state: TodaySummary["state"]; className: string }) {
  const path =
    state === "ok"
      ? "M5 10.5l3 3 7-7"
      : state === "failed"
        ? "M6 6l8 8M14 6l-8 8"
        : state === "running"
          ? "M10 4v6l4 2"
          : "M10 5v6M10 14.5v.5";
  return (
    <svg aria-hidden viewBox="0 0 20 20" className={`h-6 w-6 shrink-0 ${className}`} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
      <circle cx="10" cy="10" r="8.5" strokeWidth="1.5" />
      <path d={path} />
    </svg>
  );
}

function headline(t: TodaySummary): React.ReactNode {
  switch (t.state) {
    case "ok": {
      const b = t.lastSuccess!;
      return `Today's backup completed at ${formatTimeUtc(b.completedAt ?? b.createdAt)} (${formatBytes(b.sizeBytes)}, ${formatDuration(b.durationSeconds)})`;
    }
    case "missing":
      // A QUICK backup records the commit only: it is named, never counted as today's backup.
      if (t.todays.codeOnly) {
        const at = formatTimeUtc(t.todays.codeOnly.completedAt ?? t.todays.codeOnly.createdAt);
        return t.hoursSinceLastSuccess === null
          ? `Code-only backup at ${at}; there has never been a database backup`
          : `Code-only backup at ${at}; last database backup ${formatHours(t.hoursSinceLastSuccess)} ago`;
      }
      return t.hoursSinceLastSuccess === null
        ? "No backup yet today — there has never been a successful database backup"
        : `No backup yet today — last database backup ${formatHours(t.hoursSinceLastSuccess)} ago`;
    case "failed": {
      const failed = t.todays.latest?.status === "FAILED" ? t.todays.latest : t.lastFailure;
      return `Today's backup failed: ${failed?.failureReason ?? "no reason recorded"}`;
    }
    case "running": {
      const r = t.running!;
      return r.status === "QUEUED"
        ? `A ${r.kind.toLowerCase()} backup is queued`
        : `A ${r.kind.toLowerCase()} backup is running${r.phase ? ` — ${r.phase}` : ""}, ${formatBytes(r.progressBytes)} so far`;
    }
  }
}

/** `target`: the selected target's name (absent = default). */
export function TodayBanner({ target }: { target?: string }) {
  const today = useTodayQuery(target);
  if (today.isPending) {
    return (
      <div data-testid="today-banner" data-state="loading" className="flex h-[92px] items-center gap-3 rounded-lg border border-slate-200 bg-white px-4">
        <Skeleton className="h-6 w-6 rounded-full" />
        <div className="flex flex-1 flex-col gap-2">
          <Skeleton className="h-4 w-2/3" label="Loading today's backup status" />
          <Skeleton className="h-3 w-1/2" />
        </div>
      </div>
    );
  }
  if (today.isError) return <ErrorState title="Could not load today's backup status" error={today.error} onRetry={() => today.refetch()} />;

  const t = today.data;
  const s = todayStyles[t.state];
  const failedJob = t.state === "failed" ? (t.todays.latest?.status === "FAILED" ? t.todays.latest : t.lastFailure) : null;
  const linkJob = t.state === "running" ? t.running : t.state === "ok" ? t.lastSuccess : (failedJob ?? t.todays.codeOnly);
  return (
    <section
      data-testid="today-banner"
      data-state={t.state}
      aria-label="Today's backup"
      role={t.state === "failed" ? "alert" : "status"}
      className={`flex min-h-[92px] items-start gap-3 rounded-lg border px-4 py-3 ${s.box}`}
    >
      <TodayIcon state={t.state} className={`mt-0.5 ${s.icon}`} />
      <div className="flex min-w-0 flex-1 flex-col gap-1">
        <p className="font-medium [overflow-wrap:anywhere]">{headline(t)}</p>
        {t.state === "running" && t.running?.status === "RUNNING" && (
          <div className="max-w-md">
            <Progress value={null} label="Backup in progress" />
          </div>
        )}
        <p className="text-sm opacity-80">
          Today is {formatDateTimeUtc(t.dayStartUtc).slice(0, 10)}, counted from 00:00 UTC.{" "}
          {t.schedule.enabled
            ? t.schedule.nextRunAt
              ? `Next scheduled backup ${formatDateTimeUtc(t.schedule.nextRunAt)} (${formatRelative(t.schedule.nextRunAt)}).`
              : "The schedule has no upcoming run."
            : "Scheduled backups are switched off."}
          {t.state !== "ok" && t.lastSuccess && ` Last database backup ${formatDateTimeUtc(t.lastSuccess.completedAt ?? t.lastSuccess.createdAt)}.`}
          {t.state === "missing" && t.todays.codeOnly && " A quick backup records the commit and schema only, no data, so it does not count as today's backup."}
        </p>
        {linkJob && (
          <p className="text-sm">
            <Link href={`/backups/${linkJob.id}`} className="font-medium underline underline-offset-2">
              View backup {shortId(linkJob.id)}
            </Link>
          </p>
        )}
      </div>
    </section>
  );
}
