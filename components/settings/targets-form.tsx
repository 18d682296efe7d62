"use client";
// Add or change a target. The connection URL is a password field, tested with "Test
// connection" before saving, and never shown again: editing leaves it empty, and an empty
// field keeps the stored one. Each per-target section is either the target's own or
// inherited (absent), as lib/validation/targets.ts says; the default target's name,
// environment and URL come from the environment and are not editable here.
import { useMemo, useState } from "react";
import type { z } from "zod";
import { createTargetSchema, updateTargetSchema, type TargetSettings } from "@/lib/validation/targets";
import { cronNextRuns, DEFAULT_SETTINGS } from "@/lib/validation/settings";
import { BACKUP_KINDS, type BackupKind } from "@/lib/validation/backups";
import { useCreateTarget, useTestTarget, useUpdateTarget, type TargetDto, type TargetTestDto } from "@/lib/hooks/use-targets";
import { useChannelsQuery } from "@/lib/hooks/use-notification-channels";
import { HttpError } from "@/lib/hooks/api";
import { Button } from "@/components/ui/button";
import { Field, SelectField } from "@/components/ui/field";
import { useToast } from "@/components/ui/toast";
import { formatDateTimeUtc } from "@/lib/format";
import { RetentionGfsFields } from "./retention-gfs-fields";
import { TargetTestResult } from "./targets-test-result";

type Errors = Record<string, string>;
type Retention = NonNullable<TargetSettings["retention"]>;
const RETENTION_KEYS = ["days", "keepLast", "keepQuick", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const;

interface FormState {
  name: string;
  environment: string;
  databaseUrl: string;
  ownSchedule: boolean;
  schedule: { enabled: boolean; cron: string; timezone: string; kind: BackupKind };
  ownRetention: boolean;
  retention: Record<(typeof RETENTION_KEYS)[number], string>;
  checksFile: string;
  filesDir: string;
  copyFilesDir: string;
  routeNotifications: boolean;
  channelIds: string[];
  gateMaxAge: string;
  gateRequire: "" | "FULL" | "ANY";
  gateDuringBackup: "" | "block" | "allow";
  giveWaySeconds: string;
}

function fromTarget(t: TargetDto | null): FormState {
  const s = t?.settings ?? {};
  const r: Retention = s.retention ?? DEFAULT_SETTINGS.retention;
  return {
    name: t?.name ?? "",
    environment: t?.environment ?? "prod",
    databaseUrl: "",
    ownSchedule: !!s.schedule,
    schedule: s.schedule ?? { ...DEFAULT_SETTINGS.schedule },
    ownRetention: !!s.retention,
    retention: Object.fromEntries(RETENTION_KEYS.map((k) => [k, String(r[k])])) as FormState["retention"],
    checksFile: s.checksFile ?? "",
    filesDir: s.filesDir ?? "",
    copyFilesDir: s.copyFilesDir ?? "",
    routeNotifications: !!s.notify,
    channelIds: s.notify?.channelIds ?? [],
    gateMaxAge: s.gate?.maxAgeMinutes !== undefined ? String(s.gate.maxAgeMinutes) : "",
    gateRequire: s.gate?.require ?? "",
    gateDuringBackup: s.gate?.duringBackup ?? "",
    giveWaySeconds: s.giveWaySeconds !== undefined ? String(s.giveWaySeconds) : "",
  };
}

function settingsOf(v: FormState): TargetSettings {
  const gate = {
    ...(v.gateMaxAge.trim() ? { maxAgeMinutes: Number(v.gateMaxAge) } : {}),
    ...(v.gateRequire ? { require: v.gateRequire } : {}),
    ...(v.gateDuringBackup ? { duringBackup: v.gateDuringBackup } : {}),
  };
  return {
    ...(v.ownSchedule ? { schedule: { ...v.schedule, cron: v.schedule.cron.trim(), timezone: v.schedule.timezone.trim() } } : {}),
    ...(v.ownRetention ? { retention: Object.fromEntries(RETENTION_KEYS.map((k) => [k, Number(v.retention[k])])) as Retention } : {}),
    ...(v.checksFile.trim() ? { checksFile: v.checksFile.trim() } : {}),
    ...(v.filesDir.trim() ? { filesDir: v.filesDir.trim() } : {}),
    ...(v.copyFilesDir.trim() ? { copyFilesDir: v.copyFilesDir.trim() } : {}),
    ...(v.routeNotifications ? { notify: { channelIds: v.channelIds } } : {}),
    ...(Object.keys(gate).length ? { gate } : {}),
    ...(v.giveWaySeconds.trim() ? { giveWaySeconds: Number(v.giveWaySeconds) } : {}),
  } as TargetSettings;
}

function zodErrors(error: z.ZodError): Errors {
  const out: Errors = {};
  for (const i of error.issues) {
    const path = i.path.map(String);
    const key = path[0] === "settings" ? path.slice(1).join(".") : path[0] ?? "_";
    out[key] ??= i.message;
    if (path[0] === "settings" && path[1]) out[path[1]] ??= i.message;
  }
  return out;
}

function serverErrors(e: unknown): Errors {
  const fields = e instanceof HttpError ? (e.details as { fields?: { path: string; message: string }[] } | undefined)?.fields : undefined;
  const out: Errors = {};
  for (const f of fields ?? []) {
    const parts = f.path.split(".");
    out[parts[0] === "settings" ? parts.slice(1).join(".") || "settings" : parts[0] || "_"] ??= f.message;
    if (parts[0] === "settings" && parts[1]) out[parts[1]] ??= f.message;
  }
  return out;
}

export function TargetForm({ target, onDone }: { target: TargetDto | null; onDone: () => void }) {
  const editing = target !== null;
  const fixedIdentity = target?.isDefault ?? false;
  const [v, setV] = useState<FormState>(() => fromTarget(target));
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [tested, setTested] = useState<{ url: string; result: TargetTestDto } | null>(null);
  const create = useCreateTarget();
  const update = useUpdateTarget();
  const test = useTestTarget();
  const channels = useChannelsQuery();
  const toast = useToast();
  const set = (patch: Partial<FormState>) => setV((cur) => ({ ...cur, ...patch }));

  const nextRuns = useMemo(() => {
    if (!v.ownSchedule) return null;
    try {
      return cronNextRuns(v.schedule, new Date(), 3);
    } catch {
      return null;
    }
  }, [v.ownSchedule, v.schedule]);

  async function runTest() {
    setFormError(null);
    if (!v.databaseUrl.trim()) {
      setErrors((e) => ({ ...e, databaseUrl: "Enter the connection URL to test it" }));
      return;
    }
    try {
      const result = await test.mutateAsync({ databaseUrl: v.databaseUrl });
      setTested({ url: v.databaseUrl, result });
      setErrors((e) => ({ ...e, databaseUrl: "" }));
    } catch (e) {
      setErrors((cur) => ({ ...cur, ...serverErrors(e) }));
      setFormError((e as Error).message);
    }
  }

  async function save(e: React.FormEvent) {
    e.preventDefault();
    setFormError(null);
    const settings = settingsOf(v);
    const candidate = editing
      ? {
          ...(!fixedIdentity && v.name !== target.name ? { name: v.name } : {}),
          ...(!fixedIdentity && v.environment !== target.environment ? { environment: v.environment } : {}),
          ...(!fixedIdentity && v.databaseUrl.trim() ? { databaseUrl: v.databaseUrl.trim() } : {}),
          settings,
        }
      : { name: v.name, environment: v.environment, databaseUrl: v.databaseUrl.trim(), settings };
    const parsed = (editing ? updateTargetSchema : createTargetSchema).safeParse(candidate);
    if (!parsed.success) {
      setErrors(zodErrors(parsed.error));
      return;
    }
    setErrors({});
    try {
      if (editing) {
        await update.mutateAsync({ id: target.id, input: parsed.data });
        toast(`Target “${v.name}” saved`);
      } else {
        await create.mutateAsync(parsed.data as z.infer<typeof createTargetSchema>);
        toast(`Target “${v.name}” added`);
      }
      onDone();
    } catch (err) {
      setErrors(serverErrors(err));
      setFormError((err as Error).message);
    }
  }

  const pending = create.isPending || update.isPending;
  const showTest = tested && tested.url === v.databaseUrl;

  return (
    <form onSubmit={save} className="flex flex-col gap-5" aria-label={editing ? `Edit target ${target.name}` : "Add target"} noValidate>
      {fixedIdentity && <p className="text-sm text-slate-600">The default target is TARGET_DATABASE_URL: its name is fixed, and its environment and connection come from BACKUP_ENV and TARGET_DATABASE_URL. Only its settings change here.</p>}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field id="target-name" label="Name" value={v.name} disabled={fixedIdentity} onChange={(e) => set({ name: e.target.value })} error={errors.name} hint="Lower-case letters, digits and -, e.g. shop-prod. New backups are stored under it." />
        <Field id="target-environment" label="Environment" value={v.environment} disabled={fixedIdentity} onChange={(e) => set({ environment: e.target.value })} error={errors.environment} hint="prod, staging, … (a folder of new backups' storage keys)" />
      </div>
      {!fixedIdentity && (
        <div className="flex flex-col gap-2">
          <Field
            id="target-url"
            label="Connection URL"
            type="password"
            autoComplete="off"
            value={v.databaseUrl}
            placeholder={editing ? "Stored — leave empty to keep it" : "postgres://user:password@host:5432/database"}
            onChange={(e) => set({ databaseUrl: e.target.value })}
            error={errors.databaseUrl || undefined}
            hint="Stored encrypted; never shown again after saving. For a primary and its standbys, list the hosts (host1:5432,host2:5432) and add target_session_attrs=read-write."
          />
          <div>
            <Button type="button" variant="secondary" onClick={runTest} disabled={test.isPending || !v.databaseUrl.trim()}>
              {test.isPending ? "Testing…" : "Test connection"}
            </Button>
          </div>
          {showTest && <TargetTestResult result={tested.result} />}
        </div>
      )}

      <fieldset className="flex flex-col gap-3 border-t border-slate-200 pt-4">
        <legend className="text-sm font-semibold">Schedule</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={v.ownSchedule} onChange={(e) => set({ ownSchedule: e.target.checked })} />
          {target?.isDefault ? "Own schedule (otherwise Settings → Schedule)" : "Scheduled backups (otherwise none)"}
        </label>
        {v.ownSchedule && (
          <>
            <div className="grid gap-4 sm:grid-cols-3">
              <Field id="target-cron" label="Cron" value={v.schedule.cron} onChange={(e) => set({ schedule: { ...v.schedule, cron: e.target.value } })} error={errors["schedule.cron"] ?? errors.schedule} />
              <Field id="target-timezone" label="Time zone" value={v.schedule.timezone} onChange={(e) => set({ schedule: { ...v.schedule, timezone: e.target.value } })} error={errors["schedule.timezone"]} />
              <SelectField id="target-kind" label="Kind" value={v.schedule.kind} onChange={(e) => set({ schedule: { ...v.schedule, kind: e.target.value as BackupKind } })}>
                {BACKUP_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {k}
                  </option>
                ))}
              </SelectField>
            </div>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={v.schedule.enabled} onChange={(e) => set({ schedule: { ...v.schedule, enabled: e.target.checked } })} />
              Enabled
            </label>
            <p className="text-xs text-slate-600" data-testid="target-next-runs">
              {nextRuns ? `Next runs: ${nextRuns.map((d) => formatDateTimeUtc(d)).join(" · ")}` : "No next runs: fix the cron expression or time zone."}
            </p>
          </>
        )}
      </fieldset>

      <fieldset className="flex flex-col gap-3 border-t border-slate-200 pt-4">
        <legend className="text-sm font-semibold">Retention</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={v.ownRetention} onChange={(e) => set({ ownRetention: e.target.checked })} />
          Own retention (otherwise Settings → Retention, applied to this target&apos;s backups)
        </label>
        {v.ownRetention && (
          <>
            <div className="grid gap-4 sm:grid-cols-3">
              <Field id="target-retention-days" label="Days" type="number" min={0} value={v.retention.days} onChange={(e) => set({ retention: { ...v.retention, days: e.target.value } })} error={errors["retention.days"]} />
              <Field id="target-retention-last" label="Keep last (FULL)" type="number" min={0} value={v.retention.keepLast} onChange={(e) => set({ retention: { ...v.retention, keepLast: e.target.value } })} error={errors["retention.keepLast"]} />
              <Field id="target-retention-quick" label="Keep QUICK" type="number" min={0} value={v.retention.keepQuick} onChange={(e) => set({ retention: { ...v.retention, keepQuick: e.target.value } })} error={errors["retention.keepQuick"]} />
            </div>
            <RetentionGfsFields
              values={v.retention}
              errors={Object.fromEntries(Object.entries(errors).filter(([k]) => k.startsWith("retention.")).map(([k, m]) => [k.slice("retention.".length), m]))}
              onChange={(field, value) => set({ retention: { ...v.retention, [field]: value } })}
            />
          </>
        )}
      </fieldset>

      <fieldset className="grid gap-4 border-t border-slate-200 pt-4 sm:grid-cols-2">
        <legend className="text-sm font-semibold">Checks and files</legend>
        <Field id="target-checks-file" label="Checks file" value={v.checksFile} onChange={(e) => set({ checksFile: e.target.value })} error={errors.checksFile} hint={target?.isDefault ? "Empty: CHECKS_FILE" : "Empty: no integrity checks"} />
        <Field id="target-files-dir" label="Files directory" value={v.filesDir} onChange={(e) => set({ filesDir: e.target.value })} error={errors.filesDir} hint={target?.isDefault ? "Empty: FILES_DIR" : "Empty: no files part"} />
        <Field
          id="target-copy-files-dir"
          label="A restore into a copy puts the files in"
          value={v.copyFilesDir}
          placeholder="RESTORE_COPY_FILES_DIR"
          onChange={(e) => set({ copyFilesDir: e.target.value })}
          error={errors.copyFilesDir}
          hint="An absolute path outside the files directory; each copy's files in a directory of its own name, removed with the copy. Empty: RESTORE_COPY_FILES_DIR"
        />
      </fieldset>

      <fieldset className="flex flex-col gap-2 border-t border-slate-200 pt-4">
        <legend className="text-sm font-semibold">Notifications</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={v.routeNotifications} onChange={(e) => set({ routeNotifications: e.target.checked })} />
          Only to the channels chosen here (otherwise every channel subscribed to the event)
        </label>
        {v.routeNotifications && (
          <div className="ml-6 flex flex-col gap-1">
            {channels.data?.channels.length === 0 && <p className="text-xs text-slate-500">No channels yet: add them under Settings → General.</p>}
            {channels.data?.channels.map((c) => (
              <label key={c.id} className="flex items-center gap-2 text-sm">
                <input
                  type="checkbox"
                  checked={v.channelIds.includes(c.id)}
                  onChange={(e) => set({ channelIds: e.target.checked ? [...v.channelIds, c.id] : v.channelIds.filter((id) => id !== c.id) })}
                />
                {c.name} <span className="text-xs text-slate-500">({c.kind})</span>
              </label>
            ))}
            {errors["notify.channelIds"] && <p className="text-xs text-red-700">{errors["notify.channelIds"]}</p>}
          </div>
        )}
      </fieldset>

      <fieldset className="grid gap-4 border-t border-slate-200 pt-4 sm:grid-cols-2">
        <legend className="text-sm font-semibold">Deploy gate defaults</legend>
        <Field id="target-gate-age" label="Max backup age (minutes)" type="number" min={1} value={v.gateMaxAge} placeholder="60" onChange={(e) => set({ gateMaxAge: e.target.value })} error={errors["gate.maxAgeMinutes"] ?? errors.gate} hint="Empty: the gate request's own value (60)" />
        <SelectField id="target-gate-require" label="Require" value={v.gateRequire} onChange={(e) => set({ gateRequire: e.target.value as FormState["gateRequire"] })}>
          <option value="">The request&apos;s own (ANY)</option>
          <option value="FULL">FULL</option>
          <option value="ANY">ANY</option>
        </SelectField>
        <SelectField
          id="target-gate-during-backup"
          label="While a FULL backup runs"
          value={v.gateDuringBackup}
          onChange={(e) => set({ gateDuringBackup: e.target.value as FormState["gateDuringBackup"] })}
          hint="Its dump holds a lock on every table: a migration deployed meanwhile waits for it, with the application's queries behind"
        >
          <option value="">The request&apos;s own (block)</option>
          <option value="block">Block the deploy until it has finished</option>
          <option value="allow">Allow the deploy (no migrations)</option>
        </SelectField>
        <Field
          id="target-give-way"
          label="A scheduled backup gives way after (seconds)"
          type="number"
          min={0}
          value={v.giveWaySeconds}
          placeholder="BACKUP_GIVE_WAY_SECONDS"
          onChange={(e) => set({ giveWaySeconds: e.target.value })}
          error={errors.giveWaySeconds}
          hint="To a migration that waits this long for its lock: it stops and is retried. 0: never. Empty: BACKUP_GIVE_WAY_SECONDS"
        />
      </fieldset>

      {formError && (
        <p role="alert" className="text-sm text-red-700">
          {formError}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Button type="button" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" disabled={pending}>
          {pending ? "Saving…" : editing ? "Save" : "Add target"}
        </Button>
      </div>
    </form>
  );
}
