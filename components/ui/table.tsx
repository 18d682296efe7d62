"use client";
// Table primitives: a frame that scrolls sideways inside itself (the page never does) and
// says so when the table is wider than the screen, and cells with one padding scale.
import { useEffect, useRef, useState } from "react";

export function Table({ children, label }: { children: React.ReactNode; label: string }) {
  const frame = useRef<HTMLDivElement>(null);
  const [overflow, setOverflow] = useState<{ left: boolean; right: boolean }>({ left: false, right: false });

  useEffect(() => {
    const el = frame.current;
    if (!el) return;
    const measure = () => {
      const max = el.scrollWidth - el.clientWidth;
      setOverflow({ left: max > 1 && el.scrollLeft > 1, right: max > 1 && el.scrollLeft < max - 1 });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    if (el.firstElementChild) ro.observe(el.firstElementChild);
    el.addEventListener("scroll", measure, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener("scroll", measure);
    };
  }, []);

  const scrolls = overflow.left || overflow.right;
  return (
    <div className="flex min-w-0 flex-col gap-1">
      {/* `relative`: absolutely positioned descendants (sr-only labels in off-screen
          columns) are clipped by this frame instead of widening the page. */}
      <div className="relative min-w-0 rounded-lg border border-slate-200 bg-white">
        <div
          ref={frame}
          className="relative overflow-x-auto rounded-lg"
          tabIndex={scrolls ? 0 : undefined}
          role={scrolls ? "region" : undefined}
          aria-label={scrolls ? `${label} (scrolls sideways)` : undefined}
        >
          <table aria-label={label} className="w-full min-w-max text-left text-sm">
            {children}
          </table>
        </div>
        {overflow.left && <div aria-hidden className="pointer-events-none absolute inset-y-0 left-0 w-6 rounded-l-lg bg-gradient-to-r from-slate-300/70 to-transparent" />}
        {overflow.right && <div aria-hidden className="pointer-events-none absolute inset-y-0 right-0 w-6 rounded-r-lg bg-gradient-to-l from-slate-300/70 to-transparent" />}
      </div>
      {scrolls && (
        <p className="text-xs text-slate-500" data-testid="table-scroll-hint">
          <span aria-hidden>↔ </span>Scroll the table sideways for more columns.
        </p>
      )}
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
