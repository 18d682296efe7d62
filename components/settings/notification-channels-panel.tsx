"use client";
// Settings → Notification channels: each channel with its events and delivery health (a
// channel that keeps failing says so, with its last error), "Send test", and for ADMINs
// add, change and remove. Secret fields are write-only: the form never shows a stored
// URL or token, and leaving one empty when editing keeps it.
import { useState } from "react";
import type { z } from "zod";
import {
  CHANNEL_KINDS,
  CHANNEL_KIND_LABELS,
  DEFAULT_CHANNEL_EVENTS,
  EVENT_LABELS,
  NOTIFICATION_EVENTS,
  SECRET_FIELDS,
  createChannelSchema,
  updateChannelSchema,
  type NotificationChannelKind,
  type NotificationEvent,
} from "@/lib/validation/notification-channels";
import { useChannelsQuery, useCreateChannel, useDeleteChannel, useTestChannel, useUpdateChannel, type ChannelDto, type ChannelTestDto } from "@/lib/hooks/use-notification-channels";
import { HttpError } from "@/lib/hooks/api";
import { Button } from "@/components/ui/button";
import { Badge } from "@/components/ui/badge";
import { Dialog } from "@/components/ui/dialog";
import { Field, SelectField } from "@/components/ui/field";
import { Skeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { useToast } from "@/components/ui/toast";
import { formatDateTimeUtc, formatRelative } from "@/lib/format";

type Errors = Record<string, string>;

const URL_HINTS: Record<Exclude<NotificationChannelKind, "EMAIL">, string> = {
  SLACK: "Slack incoming webhook URL (https://hooks.slack.com/services/…).",
  DISCORD: "Discord channel webhook URL (https://discord.com/api/webhooks/…).",
  TEAMS: "The URL of a Teams Workflows flow “Post to a channel when a webhook request is received” (Adaptive Card). Retired Office 365 connector URLs do not work.",
  NTFY: "The topic URL, e.g. https://ntfy.sh/my-backups.",
  WEBHOOK: "Any endpoint taking a JSON POST; signed with X-Vaultline-Signature.",
};

function zodErrors(error: z.ZodError): Errors {
  const out: Errors = {};
  for (const i of error.issues) out[String(i.path[0] ?? "_")] ??= i.message;
  return out;
}

function serverErrors(e: unknown): Errors {
  const fields = e instanceof HttpError ? (e.details as { fields?: { path: string; message: string }[] } | undefined)?.fields : undefined;
  const out: Errors = {};
  for (const f of fields ?? []) out[f.path.split(".")[0] || "_"] ??= f.message;
  return out;
}

interface FormState {
  kind: NotificationChannelKind;
  name: string;
  enabled: boolean;
  events: NotificationEvent[];
  url: string;
  token: string;
  signingSecret: string;
  smtpUrl: string;
  recipients: string;
}

const blank = (): FormState => ({ kind: "SLACK", name: "", enabled: true, events: [...DEFAULT_CHANNEL_EVENTS], url: "", token: "", signingSecret: "", smtpUrl: "", recipients: "" });

const fromChannel = (c: ChannelDto): FormState => ({ ...blank(), kind: c.kind, name: c.name, enabled: c.enabled, events: [...c.events], recipients: c.recipients.join("\n") });

const splitAddresses = (s: string) => s.split(/[\s,;]+/).map((e) => e.trim()).filter(Boolean);

function createCandidate(v: FormState) {
  const base = { kind: v.kind, name: v.name, enabled: v.enabled, events: v.events };
  if (v.kind === "EMAIL") return { ...base, recipients: splitAddresses(v.recipients), ...(v.smtpUrl.trim() ? { smtpUrl: v.smtpUrl } : {}) };
  return {
    ...base,
    url: v.url,
    ...(v.kind === "NTFY" && v.token.trim() ? { token: v.token } : {}),
    ...(v.kind === "WEBHOOK" && v.signingSecret.trim() ? { signingSecret: v.signingSecret } : {}),
  };
}

/** Only what changed; an empty secret field keeps the stored value. */
function updateCandidate(v: FormState, c: ChannelDto) {
  const out: Record<string, unknown> = {};
  if (v.name !== c.name) out.name = v.name;
  if (v.enabled !== c.enabled) out.enabled = v.enabled;
  if ([...v.events].sort().join() !== [...c.events].sort().join()) out.events = v.events;
  if (c.kind === "EMAIL" && v.recipients !== c.recipients.join("\n")) out.recipients = splitAddresses(v.recipients);
  for (const k of SECRET_FIELDS[c.kind]) if (v[k].trim()) out[k] = v[k];
  return out;
}

function ChannelForm({ channel, onDone }: { channel?: ChannelDto; onDone: () => void }) {
  const [v, setV] = useState<FormState>(() => (channel ? fromChannel(channel) : blank()));
  const [touched, setTouched] = useState(false);
  const [server, setServer] = useState<Errors>({});
  const [error, setError] = useState<string | null>(null);
  const create = useCreateChannel();
  const update = useUpdateChannel();
  const toast = useToast();
  const pending = create.isPending || update.isPending;
  const editing = !!channel;
  const candidate = editing ? updateCandidate(v, channel) : createCandidate(v);
  const parsed = editing ? updateChannelSchema.safeParse(candidate) : createChannelSchema.safeParse(candidate);
  const errors = { ...(touched && !parsed.success ? zodErrors(parsed.error) : {}), ...server };
  const set = (patch: Partial<FormState>) => {
    setServer({});
    setV({ ...v, ...patch });
  };
  const id = (k: string) => `channel-${channel?.id ?? "new"}-${k}`;
  const secretHint = (k: string, fallback: string) => (editing && channel.secretsSet.includes(k) ? "Stored and hidden. Leave empty to keep it; type a new value to replace it." : fallback);

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    setError(null);
    if (!parsed.success) return;
    try {
      if (editing) {
        await update.mutateAsync({ id: channel.id, input: parsed.data as Parameters<typeof update.mutateAsync>[0]["input"] });
        toast(`Channel “${v.name}” saved`);
      } else {
        await create.mutateAsync(parsed.data as Parameters<typeof create.mutateAsync>[0]);
        toast(`Channel “${v.name}” added`);
      }
      onDone();
    } catch (err) {
      setServer(serverErrors(err));
      setError((err as Error).message);
    }
  }

  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-4 rounded-md border border-slate-200 bg-slate-50 p-4" aria-label={editing ? `Edit ${channel.name}` : "Add a channel"} data-testid={editing ? "channel-edit-form" : "channel-add-form"}>
      <div className="grid gap-4 sm:grid-cols-2">
        <SelectField id={id("kind")} label="Type" value={v.kind} disabled={editing} onChange={(e) => set({ kind: e.target.value as NotificationChannelKind })}>
          {CHANNEL_KINDS.map((k) => (
            <option key={k} value={k}>
              {CHANNEL_KIND_LABELS[k]}
            </option>
          ))}
        </SelectField>
        <Field id={id("name")} label="Name" value={v.name} maxLength={80} placeholder="#ops-alerts" onChange={(e) => set({ name: e.target.value })} error={errors.name} />
      </div>
      {v.kind === "EMAIL" ? (
        <>
          <div className="flex flex-col gap-1">
            <label htmlFor={id("recipients")} className="text-sm font-medium text-slate-700">
              Recipients
            </label>
            <textarea id={id("recipients")} rows={3} value={v.recipients} onChange={(e) => set({ recipients: e.target.value })} aria-invalid={!!errors.recipients} aria-describedby={id("recipients-hint")} className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm" />
            <p id={id("recipients-hint")} className={`text-xs ${errors.recipients ? "text-red-700" : "text-slate-500"}`}>
              {errors.recipients ?? "One address per line."}
            </p>
          </div>
          <Field id={id("smtpUrl")} label="SMTP server (optional)" type="password" autoComplete="off" placeholder={editing && channel.secretsSet.includes("smtpUrl") ? "•••••• (stored)" : "smtp://user:password@mail.example.com:587"} value={v.smtpUrl} onChange={(e) => set({ smtpUrl: e.target.value })} error={errors.smtpUrl} hint={secretHint("smtpUrl", "Empty: the server's SMTP_URL.")} />
        </>
      ) : (
        <>
          <Field id={id("url")} label="Webhook URL" type="password" autoComplete="off" placeholder={editing ? "•••••• (stored)" : "https://…"} value={v.url} onChange={(e) => set({ url: e.target.value })} error={errors.url} hint={secretHint("url", URL_HINTS[v.kind])} />
          {v.kind === "NTFY" && <Field id={id("token")} label="Access token (optional)" type="password" autoComplete="off" placeholder={editing && channel.secretsSet.includes("token") ? "•••••• (stored)" : "tk_…"} value={v.token} onChange={(e) => set({ token: e.target.value })} error={errors.token} hint={secretHint("token", "For a protected topic; sent as Authorization: Bearer.")} />}
          {v.kind === "WEBHOOK" && <Field id={id("signingSecret")} label="Signing secret (optional)" type="password" autoComplete="off" placeholder={editing && channel.secretsSet.includes("signingSecret") ? "•••••• (stored)" : ""} value={v.signingSecret} onChange={(e) => set({ signingSecret: e.target.value })} error={errors.signingSecret} hint={secretHint("signingSecret", "Empty: the server's WEBHOOK_SECRET signs, if set.")} />}
        </>
      )}
      <fieldset className="flex flex-col gap-2">
        <legend className="mb-1 text-sm font-medium text-slate-700">Send for</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {NOTIFICATION_EVENTS.map((ev) => (
            <label key={ev} className="flex items-center gap-2 text-sm">
              <input type="checkbox" className="accent-sky-700" checked={v.events.includes(ev)} onChange={(e) => set({ events: e.target.checked ? [...v.events, ev] : v.events.filter((x) => x !== ev) })} />
              {EVENT_LABELS[ev]}
            </label>
          ))}
        </div>
        {errors.events && <p className="text-xs text-red-700">{errors.events}</p>}
      </fieldset>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" className="accent-sky-700" checked={v.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        Enabled
      </label>
      {(error || (touched && errors._)) && (
        <p role="alert" className="text-sm text-red-700">
          {error ?? errors._}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" size="sm" disabled={pending}>
          {pending ? "Saving…" : editing ? "Save channel" : "Add channel"}
        </Button>
        <Button type="button" size="sm" variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function Health({ c }: { c: ChannelDto }) {
  const h = c.health;
  if (h.failing) {
    return (
      <div role="status" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-900" data-testid="channel-failing">
        <p className="font-medium">
          Failing: {h.consecutiveFailures} failed deliver{h.consecutiveFailures === 1 ? "y" : "ies"} in a row
          {h.lastFailureAt ? `, last ${formatRelative(h.lastFailureAt)}` : ""}
        </p>
        {h.lastError && <p className="break-words font-mono text-xs">{h.lastError}</p>}
        <p className="text-xs">Last success: {h.lastSuccessAt ? formatDateTimeUtc(h.lastSuccessAt) : "never"}</p>
      </div>
    );
  }
  return (
    <p className="text-xs text-slate-500" data-testid="channel-health">
      {h.lastSuccessAt ? `Last delivered ${formatRelative(h.lastSuccessAt)}` : "Nothing sent yet"}
    </p>
  );
}

function testLine(r: ChannelTestDto): string {
  if (r.ok) return r.status ? `Test delivered: the receiver answered HTTP ${r.status}.` : "Test delivered: the mail server accepted it.";
  return `Test failed: ${r.error ?? (r.status ? `HTTP ${r.status}` : "no answer")}`;
}

function ChannelCard({ c, canEdit }: { c: ChannelDto; canEdit: boolean }) {
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const test = useTestChannel();
  const remove = useDeleteChannel();
  const toast = useToast();

  async function sendTest() {
    setResult(null);
    try {
      const r = await test.mutateAsync(c.id);
      setResult({ ok: r.ok, text: testLine(r) });
    } catch (err) {
      setResult({ ok: false, text: (err as Error).message });
    }
  }

  async function onRemove() {
    setConfirm(false);
    try {
      await remove.mutateAsync(c.id);
      toast(`Channel “${c.name}” removed`);
    } catch (err) {
      toast((err as Error).message, "error");
    }
  }

  return (
    <li className="flex flex-col gap-3 border-t border-slate-100 px-4 py-3 first:border-t-0" data-testid="notification-channel" aria-label={c.name}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <p className="font-medium">
            {c.name} <Badge tone="blue">{CHANNEL_KIND_LABELS[c.kind]}</Badge> {!c.enabled && <Badge>Disabled</Badge>}
          </p>
          <p className="break-all text-xs text-slate-500">{c.kind === "EMAIL" ? c.recipients.join(", ") : c.destination}</p>
          <div className="mt-1 flex flex-wrap gap-1">
            {c.events.length === 0 ? <span className="text-xs text-amber-800">Routed for no event</span> : c.events.map((e) => <Badge key={e}>{EVENT_LABELS[e]}</Badge>)}
          </div>
        </div>
        {canEdit && (
          <div className="flex gap-2">
            <Button size="sm" variant="secondary" onClick={sendTest} disabled={test.isPending}>
              {test.isPending ? "Sending…" : "Send test"}
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setEditing((e) => !e)}>
              Edit
            </Button>
            <Button size="sm" variant="ghost" className="text-red-700 hover:bg-red-50" onClick={() => setConfirm(true)}>
              Remove
            </Button>
          </div>
        )}
      </div>
      {result && (
        <p role="status" data-testid="channel-test-result" className={`text-sm ${result.ok ? "text-emerald-800" : "text-red-700"}`}>
          {result.text}
        </p>
      )}
      <Health c={c} />
      {editing && <ChannelForm channel={c} onDone={() => setEditing(false)} />}
      <Dialog
        open={confirm}
        onClose={() => setConfirm(false)}
        title={`Remove “${c.name}”?`}
        description="Nothing more is sent to it. Its URL and tokens are deleted; adding it again needs them."
        footer={
          <>
            <Button variant="secondary" onClick={() => setConfirm(false)}>
              Cancel
            </Button>
            <Button variant="danger" onClick={onRemove}>
              Remove channel
            </Button>
          </>
        }
      />
    </li>
  );
}

export function NotificationChannelsPanel({ canEdit }: { canEdit: boolean }) {
  const q = useChannelsQuery();
  const [adding, setAdding] = useState(false);
  const failing = q.data?.channels.filter((c) => c.enabled && c.health.failing).length ?? 0;
  return (
    <section aria-labelledby="channels-heading" className="rounded-lg border border-slate-200 bg-white">
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-100 px-4 py-3">
        <div>
          <h2 id="channels-heading" className="text-base font-semibold">
            Notification channels
          </h2>
          <p className="text-sm text-slate-600">Slack, Discord, Teams, ntfy, a signed JSON webhook or email, several at once, each for the events you choose.</p>
        </div>
        {failing > 0 && <Badge tone="red">{failing} failing</Badge>}
      </div>
      {q.isPending ? (
        <div role="status" aria-label="Loading channels" className="p-4">
          <Skeleton className="h-16 w-full" />
        </div>
      ) : q.isError ? (
        <div className="p-4">
          <ErrorState title="Could not load the notification channels" error={q.error} onRetry={() => q.refetch()} />
        </div>
      ) : q.data.channels.length === 0 ? (
        <div className="p-4">
          <EmptyState title="No notification channels">Nothing is sent anywhere: failed backups go unnoticed until someone looks.</EmptyState>
        </div>
      ) : (
        <ul>
          {q.data.channels.map((c) => (
            <ChannelCard key={c.id} c={c} canEdit={canEdit} />
          ))}
        </ul>
      )}
      {canEdit && (
        <div className="border-t border-slate-100 px-4 py-3">
          {adding ? (
            <ChannelForm onDone={() => setAdding(false)} />
          ) : (
            <Button size="sm" onClick={() => setAdding(true)}>
              Add channel
            </Button>
          )}
        </div>
      )}
    </section>
  );
}
