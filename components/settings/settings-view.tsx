"use client";
// /settings: schedule, retention, notifications and compression. ADMINs edit (one save per section,
// each audited); everyone else reads. The schedule previews its next runs as you type,
// computed with the same parser the server uses.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useUnsavedChangesWarning } from "@/lib/hooks/use-unsaved-changes";
import type { z } from "zod";
import { useSettingsQuery, useUpdateSettings, type SectionMetaDto } from "@/lib/hooks/use-settings";
import { HttpError } from "@/lib/hooks/api";
import { useCan } from "@/components/user-context";
import { KeysPanel } from "@/components/settings/keys-panel";
import { useToast } from "@/components/ui/toast";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { Field, SelectField } from "@/components/ui/field";
import { RetentionGfsFields } from "@/components/settings/retention-gfs-fields";
import { RetentionPreviewPanel } from "@/components/settings/retention-preview";
import { RETENTION_FIELDS } from "@/lib/validation/retention";
import { ErrorState } from "@/components/ui/empty-state";
import { formatDateTimeUtc, formatRelative } from "@/lib/format";
import { NotificationChannelsPanel } from "@/components/settings/notification-channels-panel";
import {
  COMPRESSION_LEVELS,
  compressionSchema,
  cronNextRuns,
  notificationsSchema,
  retentionSchema,
  scheduleSchema,
  type CompressionSettings,
  type NotificationSettings,
  type RetentionSettings,
  type ScheduleSettings,
  type SettingsSection,
  type SettingsUpdate,
} from "@/lib/validation/settings";

type Errors = Record<string, string>;

export function issuesToErrors(error: z.ZodError): Errors {
  const out: Errors = {};
  for (const i of error.issues) out[String(i.path[0] ?? "_")] ??= i.message;
  return out;
}

/** Field errors from the server's VALIDATION_FAILED details ("schedule.cron" → "cron"). */
function serverErrors(e: unknown, section: SettingsSection): Errors {
  const fields = e instanceof HttpError ? (e.details as { fields?: { path: string; message: string }[] } | undefined)?.fields : undefined;
  const out: Errors = {};
  for (const f of fields ?? []) {
    const [s, key] = f.path.split(".");
    if (s === section) out[key || "_"] ??= f.message;
  }
  return out;
}

export function Section({
  title,
  description,
  meta,
  children,
  onSubmit,
  canEdit,
  saving,
  error,
  id,
  dirty = false,
}: {
  dirty?: boolean;
  title: string;
  description: string;
  meta: SectionMetaDto | null;
  children: React.ReactNode;
  onSubmit: () => void;
  canEdit: boolean;
  saving: boolean;
  error: string | null;
  id: string;
}) {
  return (
    <form
      aria-labelledby={`${id}-heading`}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
      className="rounded-lg border border-slate-200 bg-white"
      noValidate
    >
      <div className="border-b border-slate-100 px-4 py-3">
        <h2 id={`${id}-heading`} className="text-base font-semibold">
          {title}
        </h2>
        <p className="text-sm text-slate-600">{description}</p>
      </div>
      <fieldset disabled={!canEdit || saving} className="flex flex-col gap-4 px-4 py-4">
        <legend className="sr-only">{title}</legend>
        {children}
      </fieldset>
      <div className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-100 px-4 py-3 text-xs text-slate-500">
        {dirty && canEdit && (
          <span className="font-medium text-amber-800" data-testid={`${id}-unsaved`}>
            Unsaved changes
          </span>
        )}
        <span>{meta ? `Version ${meta.version} · changed ${formatRelative(meta.updatedAt)}${meta.updatedBy ? ` by ${meta.updatedBy}` : ""}` : "Defaults (never changed)"}</span>
        {error && (
          <span role="alert" className="text-sm text-red-700">
            {error}
          </span>
        )}
        {canEdit && (
          <Button type="submit" size="sm" disabled={saving}>
            {saving ? "Saving…" : `Save ${title.toLowerCase()}`}
          </Button>
        )}
      </div>
    </form>
  );
}

export function Check({ label, hint, checked, onChange, id }: { label: string; hint?: string; checked: boolean; onChange: (v: boolean) => void; id: string }) {
  return (
    <label htmlFor={id} className="flex items-start gap-2 text-sm">
      <input id={id} type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} className="mt-0.5 accent-sky-700" />
      <span>
        <span className="font-medium text-slate-800">{label}</span>
        {hint && <span className="block text-slate-500">{hint}</span>}
      </span>
    </label>
  );
}

export function useSave(section: SettingsSection, title: string) {
  const update = useUpdateSettings();
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Errors>({});
  async function save(body: SettingsUpdate) {
    setError(null);
    setFieldErrors({});
    try {
      const res = await update.mutateAsync(body);
      toast(res.changed.includes(section) ? `${title} saved` : `${title}: nothing changed`, res.changed.includes(section) ? "success" : "info");
    } catch (e) {
      setFieldErrors(serverErrors(e, section));
      setError((e as Error).message);
      toast(`${title} not saved: ${(e as Error).message}`, "error");
    }
  }
  /** A server error belongs to the value it was given for: editing the field clears it. */
  const clearField = (key: string) => setFieldErrors((f) => (key in f ? Object.fromEntries(Object.entries(f).filter(([k]) => k !== key)) : f));
  return { save, saving: update.isPending, error, fieldErrors, clearField };
}

type DirtyProps = { onDirty: (section: SettingsSection, dirty: boolean) => void };

function useReportDirty(section: SettingsSection, dirty: boolean, onDirty: DirtyProps["onDirty"]) {
  useEffect(() => {
    onDirty(section, dirty);
  }, [section, dirty, onDirty]);
  useEffect(() => () => onDirty(section, false), [section, onDirty]);
}

/**
 * A section's form: the values as typed against those saved (`start`), the errors to show — the
 * schema's once the section is changed or submitted, the server's until their field is edited —
 * and a submit that saves what parses. Each section only says how its values parse.
 */
function useSectionForm<V extends Record<string, unknown>, P>(
  section: SettingsSection,
  title: string,
  start: V,
  parse: (v: V) => z.ZodSafeParseResult<P>,
  update: (data: P) => SettingsUpdate,
  onDirty: DirtyProps["onDirty"],
) {
  const [v, setRaw] = useState(start);
  const { save, saving, error, fieldErrors, clearField } = useSave(section, title);
  const [touched, setTouched] = useState(false);
  const dirty = JSON.stringify(v) !== JSON.stringify(start);
  useReportDirty(section, dirty, onDirty);
  const setV = (next: V) => {
    for (const k of Object.keys(next)) if (next[k] !== v[k]) clearField(k);
    setRaw(next);
  };
  const parsed = parse(v);
  // A changed field is checked as it is typed, so the reason sits at the field at once.
  const errors: Errors = { ...((touched || dirty) && !parsed.success ? issuesToErrors(parsed.error) : {}), ...fieldErrors };
  const onSubmit = () => {
    setTouched(true);
    if (parsed.success) save(update(parsed.data));
  };
  return { v, setV, setTouched, parsed, dirty, errors, onSubmit, saving, error };
}

export const TIME_ZONES: string[] = (() => {
  try {
    return ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
  } catch {
    return ["UTC"];
  }
})();

function ScheduleForm({
  initial,
  meta,
  serverNextRuns,
  canEdit,
  onDirty,
}: { initial: ScheduleSettings; meta: SectionMetaDto | null; serverNextRuns: string[]; canEdit: boolean } & DirtyProps) {
  const { v, setV, setTouched, dirty, errors, onSubmit, saving, error } = useSectionForm(
    "schedule",
    "Schedule",
    initial,
    (x) => scheduleSchema.safeParse(x),
    (schedule) => ({ schedule }),
    onDirty,
  );
  const set = (patch: Partial<ScheduleSettings>) => setV({ ...v, ...patch });
  const preview = useMemo(() => {
    const ok = scheduleSchema.safeParse(v);
    if (!ok.success) return null;
    try {
      return cronNextRuns(ok.data, new Date(), 5).map((d) => d.toISOString());
    } catch {
      return null;
    }
  }, [v]);
  const runs = canEdit ? (preview ?? []) : serverNextRuns;
  const sectionError = error && errors._ ? `${error} (${errors._})` : error;

  return (
    <Section
      id="schedule"
      title="Schedule"
      description="When scheduled backups run. The cron expression is read in the time zone below."
      meta={meta}
      canEdit={canEdit}
      saving={saving}
      error={sectionError}
      dirty={dirty}
      onSubmit={onSubmit}
    >
      <Check id="schedule-enabled" label="Scheduled backups on" checked={v.enabled} onChange={(enabled) => set({ enabled })} />
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="schedule-cron" label="Cron expression" value={v.cron} onChange={(e) => set({ cron: e.target.value })} onBlur={() => setTouched(true)} error={errors.cron} hint="minute hour day month weekday, e.g. 0 2 * * *" className="font-mono" spellCheck={false} />
        <Field id="schedule-timezone" label="Time zone" list="time-zones" value={v.timezone} onChange={(e) => set({ timezone: e.target.value })} onBlur={() => setTouched(true)} error={errors.timezone} />
        <datalist id="time-zones">
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
        <SelectField id="schedule-kind" label="Kind" value={v.kind} onChange={(e) => set({ kind: e.target.value as ScheduleSettings["kind"] })}>
          <option value="FULL">Full (database)</option>
          <option value="QUICK">Quick (commit and schema)</option>
        </SelectField>
      </div>
      <div>
        <h3 className="text-sm font-medium text-slate-700">Next runs{!v.enabled && " (when switched on)"}</h3>
        {runs.length ? (
          <ol className="mt-1 flex flex-col gap-0.5 text-sm text-slate-700" data-testid="next-runs">
            {runs.map((r) => (
              <li key={r}>
                <time dateTime={r}>{formatDateTimeUtc(r)}</time> <span className="text-slate-500">({formatRelative(r)})</span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="mt-1 text-sm text-slate-500" data-testid="next-runs-missing">
            {errors.cron || errors.timezone
              ? `No next runs: fix the ${[errors.cron && "cron expression", errors.timezone && "time zone"].filter(Boolean).join(" and ")} above.`
              : "Fix the expression to see the next runs."}
          </p>
        )}
      </div>
    </Section>
  );
}

export function numberField(value: string): number {
  return value.trim() === "" ? Number.NaN : Number(value);
}

function RetentionForm({ initial, meta, canEdit, onDirty }: { initial: RetentionSettings; meta: SectionMetaDto | null; canEdit: boolean } & DirtyProps) {
  const start = Object.fromEntries(RETENTION_FIELDS.map((f) => [f, String(initial[f])])) as Record<(typeof RETENTION_FIELDS)[number], string>;
  const { v, setV, parsed, dirty, errors, onSubmit, saving, error } = useSectionForm(
    "retention",
    "Retention",
    start,
    (x) => retentionSchema.safeParse(Object.fromEntries(RETENTION_FIELDS.map((f) => [f, numberField(x[f])]))),
    (retention) => ({ retention }),
    onDirty,
  );
  return (
    <Section
      id="retention"
      dirty={dirty}
      title="Retention"
      description="Which backups are kept. The newest successful full backup is never pruned, whatever these say."
      meta={meta}
      canEdit={canEdit}
      saving={saving}
      error={error}
      onSubmit={onSubmit}
    >
      <div className="grid gap-4 sm:grid-cols-3">
        <Field id="retention-days" label="Keep for (days)" type="number" min={0} max={3650} inputMode="numeric" value={v.days} onChange={(e) => setV({ ...v, days: e.target.value })} error={errors.days} hint="Backups older than this are pruned" />
        <Field id="retention-keep-last" label="Always keep the last (full)" type="number" min={0} max={1000} inputMode="numeric" value={v.keepLast} onChange={(e) => setV({ ...v, keepLast: e.target.value })} error={errors.keepLast} hint="However old they are" />
        <Field id="retention-keep-quick" label="Keep quick backups" type="number" min={0} max={1000} inputMode="numeric" value={v.keepQuick} onChange={(e) => setV({ ...v, keepQuick: e.target.value })} error={errors.keepQuick} hint="The newest this many" />
      </div>
      <RetentionGfsFields values={v} errors={errors} onChange={(field, value) => setV({ ...v, [field]: value })} />
      <RetentionPreviewPanel policy={parsed.success ? parsed.data : null} dirty={dirty} />
    </Section>
  );
}

function NotificationsForm({ initial, meta, canEdit, onDirty }: { initial: NotificationSettings; meta: SectionMetaDto | null; canEdit: boolean } & DirtyProps) {
  const [start] = useState(() => ({ missedBackupAfterHours: String(initial.missedBackupAfterHours) }));
  const { v, setV, dirty, errors, onSubmit, saving, error } = useSectionForm(
    "notifications",
    "Notifications",
    start,
    (x) => notificationsSchema.safeParse({ missedBackupAfterHours: numberField(x.missedBackupAfterHours) }),
    (notifications) => ({ notifications }),
    onDirty,
  );
  return (
    <Section
      id="notifications"
      dirty={dirty}
      title="Notifications"
      description="When the missed-backup alert fires. Where alerts go, and which, is set per channel below."
      meta={meta}
      canEdit={canEdit}
      saving={saving}
      error={error}
      onSubmit={onSubmit}
    >
      <div className="max-w-xs">
        <Field id="notify-missed" label="Alert when no backup for (hours)" type="number" min={1} max={8760} inputMode="numeric" value={v.missedBackupAfterHours} onChange={(e) => setV({ ...v, missedBackupAfterHours: e.target.value })} error={errors.missedBackupAfterHours} />
      </div>
    </Section>
  );
}

const CODEC_LABELS: Record<CompressionSettings["codec"], string> = {
  zstd: "zstd (recommended)",
  gzip: "gzip",
  none: "None outside pg_dump (pg_dump's own zlib, as before)",
};

function CompressionForm({ initial, meta, canEdit, onDirty }: { initial: CompressionSettings; meta: SectionMetaDto | null; canEdit: boolean } & DirtyProps) {
  const start = { codec: initial.codec, level: initial.level === null ? "" : String(initial.level) };
  const { v, setV, dirty, errors, onSubmit, saving, error } = useSectionForm(
    "compression",
    "Compression",
    start,
    (x) => compressionSchema.safeParse({ codec: x.codec, level: x.codec === "none" ? null : numberField(x.level) }),
    (compression) => ({ compression }),
    onDirty,
  );
  const range = v.codec === "none" ? null : COMPRESSION_LEVELS[v.codec];
  return (
    <Section
      id="compression"
      dirty={dirty}
      title="Compression"
      description="How full backups are compressed before they are encrypted. Applies to the next backup; every existing backup stays readable, and the manifest of each says how to read it."
      meta={meta}
      canEdit={canEdit}
      saving={saving}
      error={error}
      onSubmit={onSubmit}
    >
      <div className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <SelectField
          id="compression-codec"
          label="Codec"
          value={v.codec}
          onChange={(e) => {
            const codec = e.target.value as CompressionSettings["codec"];
            // Each codec starts at its fastest level; a level valid for zstd may not be for gzip.
            setV({ codec, level: codec === "none" ? "" : codec === initial.codec && initial.level !== null ? String(initial.level) : "1" });
          }}
        >
          {(Object.keys(CODEC_LABELS) as CompressionSettings["codec"][]).map((c) => (
            <option key={c} value={c}>
              {CODEC_LABELS[c]}
            </option>
          ))}
        </SelectField>
        {range ? (
          <Field
            id="compression-level"
            label="Level"
            type="number"
            min={range.min}
            max={range.max}
            inputMode="numeric"
            value={v.level}
            onChange={(e) => setV({ ...v, level: e.target.value })}
            error={errors.level}
            hint={`${range.min}–${range.max}; higher is slower${v.codec === "zstd" ? ", and on typical dumps barely smaller: 1 keeps pace with pg_dump" : " and smaller"}.`}
          />
        ) : (
          <p className="self-end text-sm text-slate-500" data-testid="compression-none-hint">
            pg_dump compresses the archive itself, in its single thread: slower and larger than zstd.
          </p>
        )}
      </div>
    </Section>
  );
}

/** `children`: sections owned by other modules (the drill schedule), shown once the settings loaded. */
export function SettingsView({ children }: { children?: React.ReactNode }) {
  const q = useSettingsQuery();
  const canEdit = useCan("settings.write");
  const canKeys = useCan("keys.manage");
  const [dirty, setDirty] = useState<Record<string, boolean>>({});
  const onDirty = useCallback((section: SettingsSection, d: boolean) => setDirty((prev) => (prev[section] === d ? prev : { ...prev, [section]: d })), []);
  useUnsavedChangesWarning(canEdit && Object.values(dirty).some(Boolean), "Your settings changes are not saved. Leave and lose them?");
  return (
    <div className="flex max-w-4xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Settings</h1>
        {!canEdit && <p className="mt-1 text-sm text-slate-600">Read-only: only an ADMIN can change settings.</p>}
      </div>
      {q.isPending ? (
        <div role="status" aria-label="Loading settings" className="flex flex-col gap-4">
          <Skeleton className="h-64 w-full" />
          <Skeleton className="h-40 w-full" />
        </div>
      ) : q.isError ? (
        <ErrorState title="Could not load the settings" error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <>
          {/* Keyed by version so a save elsewhere (another tab, another admin) refreshes the form. */}
          <ScheduleForm key={`s${q.data.meta.schedule?.version ?? 0}`} initial={q.data.settings.schedule} meta={q.data.meta.schedule} serverNextRuns={q.data.nextRuns} canEdit={canEdit} onDirty={onDirty} />
          <RetentionForm key={`r${q.data.meta.retention?.version ?? 0}`} initial={q.data.settings.retention} meta={q.data.meta.retention} canEdit={canEdit} onDirty={onDirty} />
          <NotificationsForm key={`n${q.data.meta.notifications?.version ?? 0}`} initial={q.data.settings.notifications} meta={q.data.meta.notifications} canEdit={canEdit} onDirty={onDirty} />
          <NotificationChannelsPanel canEdit={canEdit} />
          <CompressionForm key={`c${q.data.meta.compression?.version ?? 0}`} initial={q.data.settings.compression} meta={q.data.meta.compression} canEdit={canEdit} onDirty={onDirty} />
          {canKeys && <KeysPanel />}
          {children}
        </>
      )}
    </div>
  );
}
