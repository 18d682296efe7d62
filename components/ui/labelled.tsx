// A small uppercase label above a value, for the stacked history rows.
export function Labelled({ label, children, className = "" }: { label: string; children: React.ReactNode; className?: string }) {
  return (
    <div className={`flex min-w-0 flex-col gap-0.5 ${className}`}>
      <span className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</span>
      <div className="min-w-0 text-sm">{children}</div>
    </div>
  );
}
