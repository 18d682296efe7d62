import { useId } from "react";

// One labelled form control for every form: a label, the control, and a hint or an error
// under it (announced through aria-describedby). Field is an input, SelectField a select.

type Labelled = { label: string; hint?: React.ReactNode; error?: string; id?: string };

const CONTROL =
  "w-full min-w-0 rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-600 disabled:bg-slate-50 disabled:text-slate-600 aria-[invalid=true]:border-red-500";

function Frame({ id, label, hint, error, children }: Labelled & { id: string; children: React.ReactNode }) {
  return (
    <div className="flex min-w-0 flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium text-slate-700">
        {label}
      </label>
      {children}
      {(hint || error) && (
        <p id={`${id}-hint`} className={`text-xs ${error ? "text-red-700" : "text-slate-500"}`}>
          {error ?? hint}
        </p>
      )}
    </div>
  );
}

export function Field({ label, hint, error, id, className = "", ...input }: React.InputHTMLAttributes<HTMLInputElement> & Labelled) {
  const generated = useId();
  const fieldId = id ?? generated;
  return (
    <Frame id={fieldId} label={label} hint={hint} error={error}>
      <input id={fieldId} aria-invalid={!!error} aria-describedby={hint || error ? `${fieldId}-hint` : undefined} className={`${CONTROL} ${className}`} {...input} />
    </Frame>
  );
}

export function SelectField({ label, hint, error, id, className = "", children, ...select }: React.SelectHTMLAttributes<HTMLSelectElement> & Labelled) {
  const generated = useId();
  const fieldId = id ?? generated;
  return (
    <Frame id={fieldId} label={label} hint={hint} error={error}>
      <select id={fieldId} aria-invalid={!!error} aria-describedby={hint || error ? `${fieldId}-hint` : undefined} className={`${CONTROL} ${className}`} {...select}>
        {children}
      </select>
    </Frame>
  );
}
