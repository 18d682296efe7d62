"use client";
// The landing page: every protected database at a glance (DESIGN §8) — today's state in
// the banner's colours and words, the last success, the next run and the size trend —
// each card opening that target's backups. Polls like the banner: quickly while a backup
// runs, every minute otherwise.
import Link from "next/link";
import { useTargetListQuery } from "@/lib/hooks/use-target-list";
import { useNow } from "@/lib/hooks/use-now";
import { formatDateTimeUtc, formatRelative, plural } from "@/lib/format";
import { lastSuccessAt, lockWaitWords, withTarget, type TargetDto } from "@/lib/targets-client";
import type { TodayState } from "@/lib/backup/today";
import { Skeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { Badge } from "@/components/ui/badge";
import { TodayIcon, todayStyles } from "@/components/backups/today-banner";
import { EnvironmentBadge } from "./target-badge";
import { SizeSparkline } from "./size-sparkline";
import { StoragePanel } from "@/components/storage/storage-panel";

/** The banner's headlines, short enough for a card. */
const STATE_TEXT: Record<TodayState, string> = {
  ok: "Today's backup completed",
  missing: "No backup yet today",
  failed: "Today's backup failed",
  running: "A backup is running",
};

/** Worst first: what needs someone at 3 a.m. is at the top. */
const ORDER: Record<TodayState, number> = { failed: 0, missing: 1, running: 2, ok: 3 };

function When({ at, now, none }: { at: string | null | undefined; now: Date; none: string }) {
  if (!at) return <span className="text-slate-500">{none}</span>;
  return (
    <>
      <span>{formatRelative(at, now)}</span>{" "}
      <time dateTime={at} className="text-xs text-slate-500">
        {formatDateTimeUtc(at)}
      </time>
    </>
  );
}

function TargetCard({ t, now }: { t: TargetDto; now: Date }) {
  const state = t.today?.state;
  const style = state ? todayStyles[state] : null;
  const last = lastSuccessAt(t.today?.lastSuccess);
  const href = withTarget("/backups", t.name);
  return (
    <li
      data-testid="target-card"
      data-target={t.name}
      data-state={state ?? "unknown"}
      className="flex min-w-0 flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4"
    >
      <div className="flex flex-wrap items-center gap-2">
        <h2 className="min-w-0 text-lg font-semibold [overflow-wrap:anywhere]">
          <Link href={href} className="text-sky-900 underline-offset-2 hover:underline" aria-label={`${t.name}: backups`}>
            {t.name}
          </Link>
        </h2>
        <EnvironmentBadge environment={t.environment} />
        {t.isDefault && <Badge title="TARGET_DATABASE_URL: the database Vaultline protected before targets">default</Badge>}
      </div>
      <p className="font-mono text-xs text-slate-600 [overflow-wrap:anywhere]" title="Host and database (the connection URL is never shown)">
        {t.database} on {t.host}
      </p>
      {state && style ? (
        <p data-testid="target-state" className={`flex items-center gap-2 rounded-md border px-3 py-2 text-sm font-medium ${style.box}`}>
          <TodayIcon state={state} className={`h-5 w-5 ${style.icon}`} />
          {STATE_TEXT[state]}
        </p>
      ) : (
        <p data-testid="target-state" className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-600">
          Today&apos;s state is not known yet
        </p>
      )}
      {t.today?.locks && (
        <div data-testid="target-lock-wait" role="status" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950">
          {lockWaitWords(t.today.locks).map((line) => (
            <p key={line}>{line}</p>
          ))}
          <p className="mt-1">
            <Link href={`/backups/${t.today.locks.backupId}`} className="font-medium underline underline-offset-2">
              Who, and how to end either
            </Link>
          </p>
        </div>
      )}
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
        <dt className="text-slate-500">Last success</dt>
        <dd data-testid="last-success">
          <When at={last?.at} now={now} none="never" />
        </dd>
        <dt className="text-slate-500">Next run</dt>
        <dd data-testid="next-run">
          <When at={t.today?.nextRunAt} now={now} none="no schedule" />
        </dd>
      </dl>
      <SizeSparkline sizes={t.today?.sizes ?? []} name={t.name} />
      <p className="mt-auto text-sm">
        <Link href={href} className="font-medium text-sky-800 underline underline-offset-2">
          Backups of {t.name}
        </Link>
        {last?.id && (
          <>
            {" · "}
            <Link href={`/backups/${last.id}`} className="text-sky-800 underline underline-offset-2">
              last successful backup
            </Link>
          </>
        )}
      </p>
    </li>
  );
}

export function TargetsOverview() {
  const targets = useTargetListQuery();
  const now = useNow(30_000);
  const list = [...(targets.data ?? [])].sort(
    (a, b) => (ORDER[a.today?.state ?? "ok"] ?? 3) - (ORDER[b.today?.state ?? "ok"] ?? 3) || Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name),
  );
  const counts = list.reduce<Partial<Record<TodayState, number>>>((c, t) => {
    if (t.today) c[t.today.state] = (c[t.today.state] ?? 0) + 1;
    return c;
  }, {});

  return (
    <div className="flex max-w-7xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Overview</h1>
        <p className="mt-1 text-sm text-slate-600" data-testid="overview-summary">
          {targets.isSuccess
            ? [
                plural(list.length, "target"),
                counts.failed && `${counts.failed} failed today`,
                counts.missing && `${counts.missing} without a backup today`,
                counts.running && `${counts.running} running`,
                counts.ok && `${counts.ok} done`,
              ]
                .filter(Boolean)
                .join(" · ") + ". Today is counted from 00:00 UTC."
            : "Every database this Vaultline protects."}
        </p>
      </div>
      {targets.isPending ? (
        <div role="status" aria-label="Loading the targets" className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          {[0, 1, 2].map((i) => (
            <Skeleton key={i} className="h-56 w-full" />
          ))}
        </div>
      ) : targets.isError ? (
        <ErrorState title="Could not load the targets" error={targets.error} onRetry={() => targets.refetch()} />
      ) : list.length === 0 ? (
        <EmptyState title="No targets">The default target is created when Vaultline starts; restart it if this stays empty.</EmptyState>
      ) : (
        <ul aria-label="Targets" className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          {list.map((t) => (
            <TargetCard key={t.id} t={t} now={now} />
          ))}
        </ul>
      )}
      <StoragePanel />
    </div>
  );
}
