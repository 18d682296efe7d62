/** A determinate bar when `value` (0..1) is known, an indeterminate one otherwise. */
export function Progress({ value, label, tone = "sky" }: { value: number | null; label: string; tone?: "sky" | "slate" }) {
  const bar = tone === "sky" ? "bg-sky-600" : "bg-slate-500";
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value === null ? undefined : Math.round(value * 100)}
      className="relative h-1.5 w-full overflow-hidden rounded-full bg-slate-200"
    >
      {value === null ? (
        <div className={`absolute inset-y-0 w-1/3 animate-[vl-indeterminate_1.4s_ease-in-out_infinite] rounded-full ${bar}`} />
      ) : (
        <div className={`h-full rounded-full transition-[width] duration-500 ${bar}`} style={{ width: `${Math.max(2, value * 100)}%` }} />
      )}
    </div>
  );
}
