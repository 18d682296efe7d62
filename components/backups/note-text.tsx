"use client";
// A backup's note where space is short: two lines, then a "more" button that shows the
// whole note in place (keyboard and touch; not a hover tooltip).
import { useState } from "react";

const SHORT = 60;

export function NoteText({ note, className = "" }: { note: string | null; className?: string }) {
  const [open, setOpen] = useState(false);
  if (!note) return null;
  const long = note.length > SHORT;
  return (
    <p className={`text-xs text-slate-500 [overflow-wrap:anywhere] ${className}`}>
      <span className={open || !long ? "whitespace-pre-wrap" : "line-clamp-1"}>{note}</span>
      {long && (
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} className="text-sky-800 underline underline-offset-2">
          {open ? "less" : "more"}
          <span className="sr-only"> of the note</span>
        </button>
      )}
    </p>
  );
}
