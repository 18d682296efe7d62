export function Skeleton({ className = "h-4 w-full", label }: { className?: string; label?: string }) {
  return <div aria-hidden={label ? undefined : true} aria-label={label} role={label ? "status" : undefined} className={`animate-pulse rounded-md bg-slate-200 ${className}`} />;
}

/** Placeholder rows with the real table's row height, so nothing jumps when data arrives. */
export function TableSkeleton({ rows = 5, label = "Loading" }: { rows?: number; label?: string }) {
  return (
    <div role="status" aria-label={label} className="flex flex-col divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="flex h-14 items-center gap-4 px-4">
          <div className="h-4 w-24 animate-pulse rounded bg-slate-200" />
          <div className="h-4 flex-1 animate-pulse rounded bg-slate-100" />
          <div className="hidden h-4 w-20 animate-pulse rounded bg-slate-200 sm:block" />
        </div>
      ))}
    </div>
  );
}
