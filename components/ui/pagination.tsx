"use client";
import { Button } from "./button";

/**
 * "51–100 of 120" with Previous / Next; the page lives in the URL (the caller's onChange).
 * `offset` is that of the rows on screen (the answer's), not the URL's, so the label does
 * not run ahead of the rows while the next page loads.
 */
export function Pagination({ total, limit, offset, onChange }: { total: number; limit: number; offset: number; onChange: (offset: number) => void }) {
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(offset + limit, total);
  return (
    <nav aria-label="Pagination" className="flex items-center justify-between gap-3 text-sm text-slate-600">
      <p data-testid="page-range">
        {from}–{to} of {total}
      </p>
      <div className="flex gap-2">
        <Button variant="secondary" size="sm" disabled={offset <= 0} onClick={() => onChange(Math.max(0, offset - limit))}>
          Previous
        </Button>
        <Button variant="secondary" size="sm" disabled={offset + limit >= total} onClick={() => onChange(offset + limit)}>
          Next
        </Button>
      </div>
    </nav>
  );
}
