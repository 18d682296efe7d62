// A disk drawn as it is, to scale: what is used, what a planned write will take (a restore's
// copy, the next backup), the room Vaultline leaves free (DISK_RESERVE_MB), and the rest.
// The figures are in its label and legend too, so it is not colour alone.
import { formatBytes } from "@/lib/format";

export function DiskBar({
  totalBytes,
  freeBytes,
  plannedBytes,
  plannedLabel,
  reserveBytes,
}: {
  totalBytes: number;
  freeBytes: number;
  plannedBytes: number;
  /** What the planned write is: "the copy", "the next backup". */
  plannedLabel: string;
  reserveBytes: number;
}) {
  // A sliver too thin to see is drawn 3 px wide.
  const pct = (n: number) => `${Math.max(0, Math.min(100, (n / totalBytes) * 100))}%`;
  const used = totalBytes - freeBytes;
  const planned = Math.min(plannedBytes, freeBytes);
  const reserve = Math.max(0, Math.min(reserveBytes, freeBytes - planned));
  const short = plannedBytes > freeBytes - reserveBytes;
  return (
    <div className="mt-1 max-w-md" data-testid="disk-bar" data-fits={short ? "no" : "yes"}>
      <div
        className="flex h-2.5 overflow-hidden rounded bg-slate-200"
        role="img"
        aria-label={`Disk: ${formatBytes(used)} used, ${formatBytes(plannedBytes)} for ${plannedLabel}, ${formatBytes(freeBytes)} free of ${formatBytes(totalBytes)}`}
      >
        <div className="bg-slate-500" style={{ width: pct(used) }} />
        <div className={short ? "bg-red-500" : "bg-sky-500"} style={{ width: pct(planned), minWidth: planned > 0 ? 3 : 0 }} />
        {reserve > 0 && <div className="bg-amber-300" style={{ width: pct(reserve), minWidth: 3 }} />}
      </div>
      <p className="mt-0.5 flex flex-wrap gap-x-3 text-xs text-slate-500">
        <span>
          <span className="mr-1 inline-block h-2 w-2 rounded-sm bg-slate-500" />
          used
        </span>
        <span>
          <span className={`mr-1 inline-block h-2 w-2 rounded-sm ${short ? "bg-red-500" : "bg-sky-500"}`} />
          {plannedLabel}
        </span>
        <span>
          <span className="mr-1 inline-block h-2 w-2 rounded-sm bg-amber-300" />
          left free
        </span>
      </p>
    </div>
  );
}
