import { useId } from "react";

export function Field({
  label,
  hint,
  error,
  ...input
}: React.InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: string; error?: string }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      <input
        id={id}
        aria-invalid={!!error}
        aria-describedby={hint || error ? `${id}-hint` : undefined}
        className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600"
        {...input}
      />
      {(hint || error) && (
        <p id={`${id}-hint`} className={`text-xs ${error ? "text-red-700" : "text-slate-500"}`}>
          {error ?? hint}
        </p>
      )}
    </div>
  );
}
