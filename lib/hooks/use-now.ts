"use client";
import { useEffect, useState } from "react";

/** The current time, re-rendering every `ms` while `enabled` (elapsed-time counters). */
export function useNow(ms = 1000, enabled = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!enabled) return;
    // A counter switched back on catches up at once (from a callback, not the effect body).
    const first = setTimeout(() => setNow(new Date()), 0);
    const t = setInterval(() => setNow(new Date()), ms);
    return () => {
      clearTimeout(first);
      clearInterval(t);
    };
  }, [ms, enabled]);
  return now;
}
