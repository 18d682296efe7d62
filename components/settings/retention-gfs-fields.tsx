"use client";
// The GFS part of the retention form: the newest good full backup of each of the last N
// calendar days, ISO weeks, months and years, in the schedule's time zone (0 = off).
import { Field } from "@/components/ui/field";

const GFS = [
  { field: "keepDaily", id: "retention-keep-daily", label: "Daily (days)", hint: "Today and the days before" },
  { field: "keepWeekly", id: "retention-keep-weekly", label: "Weekly (weeks)", hint: "ISO weeks, Monday to Sunday" },
  { field: "keepMonthly", id: "retention-keep-monthly", label: "Monthly (months)", hint: "Calendar months" },
  { field: "keepYearly", id: "retention-keep-yearly", label: "Yearly (years)", hint: "Calendar years" },
] as const;

type GfsField = (typeof GFS)[number]["field"];

export function RetentionGfsFields({
  values,
  errors,
  onChange,
}: {
  values: Record<GfsField, string>;
  errors: Record<string, string | undefined>;
  onChange: (field: GfsField, value: string) => void;
}) {
  return (
    <fieldset className="flex flex-col gap-2">
      <legend className="text-sm font-medium">Also keep the newest full backup of each of the last…</legend>
      <p className="text-xs text-slate-500">Counted in the schedule&apos;s time zone, the current day, week, month and year included. 0 turns a rule off.</p>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {GFS.map((g) => (
          <Field
            key={g.field}
            id={g.id}
            label={g.label}
            type="number"
            min={0}
            max={1000}
            inputMode="numeric"
            value={values[g.field]}
            onChange={(e) => onChange(g.field, e.target.value)}
            error={errors[g.field]}
            hint={g.hint}
          />
        ))}
      </div>
    </fieldset>
  );
}
