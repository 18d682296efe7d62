// Table primitives: a horizontally scrollable frame (readable at 390 px) and cells with
// one padding scale. Rows take a fixed height where the caller asks (live progress).
export function Table({ children, label }: { children: React.ReactNode; label: string }) {
  // `relative`: absolutely positioned descendants (sr-only labels in off-screen columns)
  // are clipped by this frame instead of widening the page.
  return (
    <div className="relative overflow-x-auto rounded-lg border border-slate-200 bg-white">
      <table aria-label={label} className="w-full min-w-max text-left text-sm">
        {children}
      </table>
    </div>
  );
}

export function THead({ children }: { children: React.ReactNode }) {
  return (
    <thead className="bg-slate-50 text-xs font-medium uppercase tracking-wide text-slate-500">
      <tr>{children}</tr>
    </thead>
  );
}

export function Th({ children, className = "" }: { children?: React.ReactNode; className?: string }) {
  return (
    <th scope="col" className={`whitespace-nowrap px-3 py-2 font-medium ${className}`}>
      {children}
    </th>
  );
}

export function Td({ children, className = "" }: { children?: React.ReactNode; className?: string }) {
  return <td className={`whitespace-nowrap px-3 py-2 align-middle ${className}`}>{children}</td>;
}
