"use client";
import { BACKUP_KINDS, BACKUP_TRIGGERS, JOB_STATUSES } from "@/lib/validation/backups";
import { triggerName } from "@/components/ui/badge";

export interface BackupFilterValues {
  status?: string;
  kind?: string;
  trigger?: string;
}

const title = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

function Select({ id, label, value, options, onChange }: { id: string; label: string; value?: string; options: { value: string; label: string }[]; onChange: (v: string | undefined) => void }) {
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium text-slate-600">
        {label}
      </label>
      <select
        id={id}
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value || undefined)}
        className="h-9 rounded-md border border-slate-300 bg-white px-2 text-sm shadow-sm"
      >
        <option value="">All</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function BackupFilters({ value, onChange }: { value: BackupFilterValues; onChange: (v: BackupFilterValues) => void }) {
  const active = !!(value.status || value.kind || value.trigger);
  return (
    <div role="group" aria-label="Filter backups" className="flex flex-wrap items-end gap-3">
      <Select id="filter-status" label="Status" value={value.status} options={JOB_STATUSES.map((s) => ({ value: s, label: title(s) }))} onChange={(status) => onChange({ ...value, status })} />
      <Select id="filter-kind" label="Kind" value={value.kind} options={BACKUP_KINDS.map((s) => ({ value: s, label: title(s) }))} onChange={(kind) => onChange({ ...value, kind })} />
      <Select id="filter-trigger" label="Trigger" value={value.trigger} options={BACKUP_TRIGGERS.map((s) => ({ value: s, label: triggerName(s) }))} onChange={(trigger) => onChange({ ...value, trigger })} />
      {active && (
        <button type="button" onClick={() => onChange({})} className="h-9 text-sm text-slate-600 underline hover:text-slate-900">
          Clear filters
        </button>
      )}
    </div>
  );
}
