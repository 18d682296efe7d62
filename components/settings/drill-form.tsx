"use client";
// Settings → Restore drills: the drill schedule (cron + time zone) and the size above which
// a table is not checksummed at backup time. Saved like every section (audited, versioned).
import { useMemo, useState } from "react";
import { useSettingsQuery } from "@/lib/hooks/use-settings";
import { useCan } from "@/components/user-context";
import { useUnsavedChangesWarning } from "@/lib/hooks/use-unsaved-changes";
import { Field } from "@/components/ui/field";
import { formatDateTimeUtc, formatRelative } from "@/lib/format";
import { cronNextRuns } from "@/lib/validation/settings";
import { drillSettingsSchema, type DrillSettings } from "@/lib/validation/drill-settings";
import { Check, Section, TIME_ZONES, issuesToErrors, numberField, useSave } from "./settings-view";

export function DrillSettingsForm() {
  const q = useSettingsQuery();
  const canEdit = useCan("settings.write");
  if (!q.data) return null;
  return <DrillForm key={`d${q.data.meta.drill?.version ?? 0}`} initial={q.data.settings.drill} meta={q.data.meta.drill} canEdit={canEdit} />;
}

function DrillForm({ initial, meta, canEdit }: { initial: DrillSettings; meta: Parameters<typeof Section>[0]["meta"]; canEdit: boolean }) {
  const start = { ...initial, checksumMaxTableMb: String(initial.checksumMaxTableMb) };
  const [v, setRaw] = useState(start);
  const [touched, setTouched] = useState(false);
  const { save, saving, error, fieldErrors, clearField } = useSave("drill", "Restore drills");
  const dirty = JSON.stringify(v) !== JSON.stringify(start);
  useUnsavedChangesWarning(canEdit && dirty, "Your restore drill settings are not saved. Leave and lose them?");
  const parsed = drillSettingsSchema.safeParse({ ...v, checksumMaxTableMb: numberField(v.checksumMaxTableMb) });
  const errors = { ...((touched || dirty) && !parsed.success ? issuesToErrors(parsed.error) : {}), ...fieldErrors };
  const set = (patch: Partial<typeof v>) => {
    for (const k of Object.keys(patch)) clearField(k);
    setRaw({ ...v, ...patch });
  };
  const runs = useMemo(() => {
    if (!parsed.success) return [];
    try {
      return cronNextRuns(parsed.data, new Date(), 3).map((d) => d.toISOString());
    } catch {
      return [];
    }
  }, [parsed.success, parsed.data]);

  return (
    <Section
      id="drill"
      title="Restore drills"
      description="On this schedule the newest full backup is restored into a scratch database (DRILL_DATABASE_URL, else the target's server), compared table by table with the backup's record, timed, and dropped."
      meta={meta}
      canEdit={canEdit}
      saving={saving}
      error={error}
      dirty={dirty}
      onSubmit={() => {
        setTouched(true);
        if (parsed.success) save({ drill: parsed.data });
      }}
    >
      <Check id="drill-enabled" label="Scheduled restore drills on" hint="Needs disk for one more copy of the database while a drill runs." checked={v.enabled} onChange={(enabled) => set({ enabled })} />
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="drill-cron" label="Drill cron expression" value={v.cron} onChange={(e) => set({ cron: e.target.value })} onBlur={() => setTouched(true)} error={errors.cron} hint="e.g. 0 4 * * 0 (Sundays 04:00)" className="font-mono" spellCheck={false} />
        <Field id="drill-timezone" label="Drill time zone" list="drill-time-zones" value={v.timezone} onChange={(e) => set({ timezone: e.target.value })} onBlur={() => setTouched(true)} error={errors.timezone} />
        <datalist id="drill-time-zones">
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <Field
          id="drill-checksum-max"
          label="Checksum tables up to (MB)"
          type="number"
          min={0}
          inputMode="numeric"
          value={v.checksumMaxTableMb}
          onChange={(e) => set({ checksumMaxTableMb: e.target.value })}
          error={errors.checksumMaxTableMb}
          hint="Larger tables are counted, not checksummed, at backup time"
        />
      </div>
      {runs.length > 0 && (
        <p className="text-sm text-slate-600" data-testid="drill-next-runs">
          Next drills{!v.enabled && " (when switched on)"}:{" "}
          {runs.map((r, i) => (
            <span key={r}>
              {i > 0 && " · "}
              <time dateTime={r}>{formatDateTimeUtc(r)}</time> ({formatRelative(r)})
            </span>
          ))}
        </p>
      )}
    </Section>
  );
}
