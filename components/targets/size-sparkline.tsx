// A target's size trend in a line: its last successful backups, oldest left. Inline SVG
// (no chart library for one line); the numbers it draws are also in its text, so the
// trend is not colour or shape alone.
import { formatBytes } from "@/lib/format";
import { sizeChange, sparklinePoints } from "@/lib/targets-client";

const W = 120;
const H = 28;

export function SizeSparkline({ sizes, name }: { sizes: readonly number[]; name: string }) {
  const points = sparklinePoints(sizes, W, H);
  if (points.length === 0) {
    return (
      <p className="text-sm text-slate-500" data-testid="size-trend" data-count={0}>
        No successful backups yet
      </p>
    );
  }
  const newest = sizes[sizes.length - 1];
  const change = sizeChange(sizes);
  const summary = `${formatBytes(newest)} now${
    change === null ? "" : `, ${change >= 0 ? "+" : "−"}${Math.abs(change * 100).toFixed(Math.abs(change) < 0.1 ? 1 : 0)} % over the last ${sizes.length}`
  }`;
  const last = points[points.length - 1];
  return (
    <div className="flex items-center gap-3" data-testid="size-trend" data-count={sizes.length}>
      <svg
        role="img"
        aria-label={`Size of the last ${sizes.length} successful backups of ${name}: ${summary}`}
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        className="shrink-0 text-sky-700"
      >
        <polyline points={points.map((p) => `${p.x},${p.y}`).join(" ")} fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round" strokeLinecap="round" />
        <circle cx={last.x} cy={last.y} r="2" fill="currentColor" />
      </svg>
      <span className="text-xs tabular-nums text-slate-600">{summary}</span>
    </div>
  );
}
