"use client";
// A small actions menu on the native Popover API: the list lives in the top layer, so a
// scrolling table cannot clip it, and Escape / clicking elsewhere close it for free. It is
// placed under its button (right-aligned, flipped up near the bottom of the window).
import { useId, useRef, useState } from "react";

export function Menu({ label, children }: { label: string; children: React.ReactNode }) {
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const [open, setOpen] = useState(false);

  function place() {
    const b = button.current?.getBoundingClientRect();
    const el = list.current;
    if (!b || !el) return;
    el.style.right = `${Math.max(8, window.innerWidth - b.right)}px`;
    el.style.left = "auto";
    if (b.bottom + 200 > window.innerHeight) {
      el.style.top = "auto";
      el.style.bottom = `${window.innerHeight - b.top + 4}px`;
    } else {
      el.style.bottom = "auto";
      el.style.top = `${b.bottom + 4}px`;
    }
  }

  const items = () => Array.from(list.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);

  function onKeyDown(e: React.KeyboardEvent) {
    const all = items();
    const i = all.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      all[(n + all.length) % all.length]?.focus();
    };
    if (e.key === "ArrowDown") go(i + 1);
    else if (e.key === "ArrowUp") go(i - 1);
    else if (e.key === "Home") go(0);
    else if (e.key === "End") go(all.length - 1);
    else if (e.key === "Tab") list.current?.hidePopover();
  }

  return (
    <>
      <button
        ref={button}
        type="button"
        popoverTarget={id}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={id}
        aria-label={label}
        title={label}
        className="inline-flex h-7 w-7 items-center justify-center rounded-md text-slate-600 hover:bg-slate-100 hover:text-slate-900"
      >
        <svg aria-hidden viewBox="0 0 20 20" className="h-4 w-4" fill="currentColor">
          <circle cx="4" cy="10" r="1.6" />
          <circle cx="10" cy="10" r="1.6" />
          <circle cx="16" cy="10" r="1.6" />
        </svg>
      </button>
      <div
        ref={list}
        id={id}
        popover="auto"
        role="menu"
        aria-label={label}
        onBeforeToggle={(e) => {
          if (e.newState === "open") place();
        }}
        onToggle={(e) => {
          const isOpen = e.newState === "open";
          setOpen(isOpen);
          if (isOpen) items()[0]?.focus();
        }}
        onKeyDown={onKeyDown}
        // Inset and margin reset: the UA centres popovers; we place it ourselves.
        style={{ position: "fixed", inset: "auto", margin: 0 }}
        className="min-w-40 rounded-lg border border-slate-200 bg-white p-1 text-sm shadow-lg"
      >
        {children}
      </div>
    </>
  );
}

const itemClass = "flex w-full items-center rounded-md px-3 py-1.5 text-left text-sm text-slate-800 hover:bg-slate-100 focus:bg-slate-100 focus:outline-none";

function closeFrom(el: HTMLElement) {
  (el.closest("[popover]") as HTMLElement | null)?.hidePopover();
}

export function MenuItem({ onSelect, children, danger, disabled }: { onSelect: () => void; children: React.ReactNode; danger?: boolean; disabled?: boolean }) {
  return (
    <button
      type="button"
      role="menuitem"
      disabled={disabled}
      onClick={(e) => {
        closeFrom(e.currentTarget);
        onSelect();
      }}
      className={`${itemClass} ${danger ? "text-red-700 hover:bg-red-50 focus:bg-red-50" : ""} disabled:text-slate-400`}
    >
      {children}
    </button>
  );
}

export function MenuLink({ href, children, download }: { href: string; children: React.ReactNode; download?: boolean }) {
  return (
    <a role="menuitem" href={href} download={download} onClick={(e) => closeFrom(e.currentTarget)} className={itemClass}>
      {children}
    </a>
  );
}
