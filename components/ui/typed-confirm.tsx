"use client";
// The one typed confirmation for what cannot be taken back (restore, rollback, delete): the
// action stays disabled until the exact word is typed, and Enter submits only then.
import { useId } from "react";
import { Button } from "./button";

export function TypedConfirm({
  word,
  purpose = "to confirm",
  value,
  onChange,
  onConfirm,
  onCancel,
  ready = true,
  pending,
  error,
  action,
  pendingAction,
  className = "flex w-full flex-col gap-3",
  children,
}: {
  /** What must be typed exactly (RESTORE, ROLLBACK, a short id). */
  word: string;
  /** What typing it does, after the word: "to replace shop-prod". Default "to confirm". */
  purpose?: string;
  value: string;
  onChange: (value: string) => void;
  onConfirm: () => void;
  onCancel: () => void;
  /** False while something else must happen first (e.g. the restore preview has not loaded). */
  ready?: boolean;
  pending: boolean;
  /** The failed attempt's message, shown as an alert. */
  error?: string | null;
  /** The submit button's label, and its label while pending. */
  action: string;
  pendingAction: string;
  className?: string;
  /** What the action will do, shown above the word. */
  children?: React.ReactNode;
}) {
  const id = useId();
  const allowed = value === word && ready;
  return (
    <form
      className={className}
      onSubmit={(e) => {
        e.preventDefault();
        if (allowed && !pending) onConfirm();
      }}
    >
      {children}
      <div className="flex flex-col gap-1">
        <label htmlFor={id} className="text-sm font-medium text-slate-700">
          Type {word} {purpose}
        </label>
        <input
          id={id}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          autoComplete="off"
          autoCorrect="off"
          autoCapitalize="off"
          spellCheck={false}
          className="rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm shadow-sm focus:border-sky-600"
        />
      </div>
      {error && (
        <p role="alert" className="text-sm text-red-700">
          {error}
        </p>
      )}
      <div className="flex flex-wrap justify-end gap-2">
        <Button type="button" variant="secondary" onClick={onCancel}>
          Cancel
        </Button>
        <Button type="submit" variant="danger" disabled={!allowed || pending}>
          {pending ? pendingAction : action}
        </Button>
      </div>
    </form>
  );
}
