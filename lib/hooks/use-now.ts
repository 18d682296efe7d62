"use client";
import { useEffect, useState } from "react";

/** The current time, re-rendering every `ms` while `enabled` (elapsed-time counters). */
export function useNow(ms = 1000, enabled = true): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!enabled) return;
    setNow(new Date());
    const t = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(t);
  }, [ms, enabled]);
  return now;
}
