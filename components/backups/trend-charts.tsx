"use client";
// Size and duration over time (seed 001's "size trends"): a backup that suddenly shrinks
// or takes three times as long is often the first sign of trouble.
import { useMemo, useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useBackupTrendQuery } from "@/lib/hooks/use-backups";
import { DAY_MS, bytesAxis, dayTicks, durationAxis, formatBytes, formatDateTimeUtc, formatDateUtc, formatDuration } from "@/lib/format";
import { Skeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { BACKUP_KINDS, type BackupKind } from "@/lib/validation/backups";

const RANGES = [30, 90] as const;

interface Point {
  t: number;
  size: number;
  duration: number;
}

function Chart({
  title,
  data,
  dataKey,
  format,
  axis,
  from,
  to,
}: {
  title: string;
  data: Point[];
  dataKey: "size" | "duration";
  format: (n: number) => string;
  /** Round ticks from 0 and their labels, in one unit (lib/format.ts). */
  axis: { ticks: number[]; tick: (n: number) => string };
  from: number;
  to: number;
}) {
  return (
    <figure className="flex min-w-0 flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4">
      <figcaption className="text-sm font-medium text-slate-800">{title}</figcaption>
      {data.length === 0 ? (
        <p className="flex h-48 items-center justify-center text-sm text-slate-500">No successful backups in this period.</p>
      ) : (
        <div className="h-48" role="img" aria-label={`${title}: ${data.length} backups, latest ${format(data[data.length - 1][dataKey])}`}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="#e2e8f0" vertical={false} />
              <XAxis
                dataKey="t"
                type="number"
                scale="time"
                domain={[from, to]}
                ticks={dayTicks(from, to)}
                interval="preserveEnd"
                tickFormatter={(t: number) => formatDateUtc(t).slice(5)}
                tick={{ fontSize: 11, fill: "#64748b" }}
                stroke="#cbd5e1"
                minTickGap={8}
              />
              <YAxis
                ticks={axis.ticks}
                domain={[0, axis.ticks[axis.ticks.length - 1]]}
                interval={0}
                tickFormatter={axis.tick}
                tick={{ fontSize: 11, fill: "#64748b" }}
                stroke="#cbd5e1"
                width={64}
              />
              <Tooltip
                labelFormatter={(t) => formatDateTimeUtc(Number(t))}
                formatter={(v) => [format(Number(v)), dataKey === "size" ? "Size" : "Duration"]}
                contentStyle={{ fontSize: 12, borderRadius: 6, borderColor: "#cbd5e1" }}
              />
              <Line type="monotone" dataKey={dataKey} stroke="#0369a1" strokeWidth={2} dot={data.length < 40 ? { r: 2 } : false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </figure>
  );
}

export function TrendCharts({ target }: { target?: string }) {
  const [days, setDays] = useState<(typeof RANGES)[number]>(30);
  const [kind, setKind] = useState<BackupKind>("FULL");
  const trend = useBackupTrendQuery(target);
  // The time the data was fetched, so the axis does not creep every second.
  const to = trend.dataUpdatedAt;
  const from = to - days * DAY_MS;

  const data = useMemo<Point[]>(() => {
    if (!trend.data) return [];
    return trend.data.backups
      .filter((b) => b.kind === kind && b.sizeBytes !== null)
      .map((b) => ({ t: new Date(b.completedAt ?? b.createdAt).getTime(), size: b.sizeBytes ?? 0, duration: b.durationSeconds ?? 0 }))
      .filter((p) => p.t >= from)
      .sort((a, b) => a.t - b.t);
  }, [trend.data, kind, from]);

  const truncated = !!trend.data && trend.data.total > trend.data.backups.length;
  const durations = durationAxis(Math.max(0, ...data.map((p) => p.duration)));
  const sizes = bytesAxis(Math.max(0, ...data.map((p) => p.size)));

  return (
    <section aria-labelledby="trends-heading" className="flex flex-col gap-3">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="trends-heading" className="text-lg font-semibold">
          Trends
        </h2>
        <div className="flex flex-wrap gap-2">
          <div role="group" aria-label="Backup kind" className="inline-flex rounded-md border border-slate-300 bg-white p-0.5">
            {BACKUP_KINDS.map((k) => (
              <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)} className={`rounded px-2.5 py-1 text-xs font-medium ${kind === k ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}>
                {k === "FULL" ? "Full" : "Quick"}
              </button>
            ))}
          </div>
          <div role="group" aria-label="Period" className="inline-flex rounded-md border border-slate-300 bg-white p-0.5">
            {RANGES.map((d) => (
              <button key={d} type="button" aria-pressed={days === d} onClick={() => setDays(d)} className={`rounded px-2.5 py-1 text-xs font-medium ${days === d ? "bg-slate-900 text-white" : "text-slate-700 hover:bg-slate-100"}`}>
                {d} days
              </button>
            ))}
          </div>
        </div>
      </div>
      {trend.isPending ? (
        <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
          <Skeleton className="h-60 w-full" label="Loading trends" />
          <Skeleton className="h-60 w-full" />
        </div>
      ) : trend.isError ? (
        <ErrorState title="Could not load the trends" error={trend.error} onRetry={() => trend.refetch()} />
      ) : (
        <>
          <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            <Chart title="Size" data={data} dataKey="size" format={formatBytes} axis={sizes} from={from} to={to} />
            <Chart title={`Duration (${durations.unit})`} data={data} dataKey="duration" format={formatDuration} axis={durations} from={from} to={to} />
          </div>
          {truncated && <p className="text-xs text-slate-500">Drawn from the newest {trend.data.backups.length} successful backups.</p>}
        </>
      )}
    </section>
  );
}
