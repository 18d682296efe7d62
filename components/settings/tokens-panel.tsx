"use client";
// /settings/tokens: API tokens for CI and scripts. A new token's secret is shown once,
// here, and never again (only its hash is stored).
import { useState } from "react";
import { useCreateToken, useRevokeToken, useTokensQuery, type TokenDto } from "@/lib/hooks/use-tokens";
import { SCOPES, type Scope } from "@/lib/permissions";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Dialog } from "@/components/ui/dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { Badge } from "@/components/ui/badge";
import { TableSkeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { useToast } from "@/components/ui/toast";
import { formatDateTimeUtc, formatRelative } from "@/lib/format";

const SCOPE_HINTS: Record<Scope, string> = {
  "backups:read": "list and read backups, restores, checks, audit",
  "backups:download": "download backup archives",
  "backups:write": "create and verify backups",
  restore: "restore, delete, roll back",
  deploy: "pre-deploy gate and deployments",
  settings: "read and change settings",
  metrics: "Prometheus /api/metrics",
};

function NewSecret({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  return (
    <div role="alert" data-testid="new-token-secret" className="flex flex-col gap-2 rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-950">
      <p className="font-medium">Copy the secret of “{name}” now. It will not be shown again.</p>
      <p className="text-sm">Vaultline keeps only a hash of it. If you lose it, revoke this token and create another.</p>
      <div className="flex items-center gap-2 rounded-md border border-amber-200 bg-white px-3 py-2">
        <code className="min-w-0 flex-1 break-all font-mono text-sm text-slate-900" data-testid="token-secret">
          {secret}
        </code>
        <CopyButton value={secret} label="Copy token" />
      </div>
      <div>
        <Button variant="secondary" size="sm" onClick={onDone}>
          I have copied it
        </Button>
      </div>
    </div>
  );
}

export function TokensPanel() {
  const tokens = useTokensQuery();
  const create = useCreateToken();
  const revoke = useRevokeToken();
  const toast = useToast();
  const [scopes, setScopes] = useState<Scope[]>(["backups:read"]);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [confirm, setConfirm] = useState<TokenDto | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function onCreate(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const expires = String(f.get("expiresAt") ?? "");
    setError(null);
    if (scopes.length === 0) {
      setError("Choose at least one scope");
      return;
    }
    try {
      const res = await create.mutateAsync({
        name: String(f.get("name")),
        scopes,
        // A date input means the end of that day, UTC.
        expiresAt: expires ? new Date(`${expires}T23:59:59Z`).toISOString() : undefined,
      });
      setCreated({ name: res.name, secret: res.token });
      form.reset();
      setScopes(["backups:read"]);
      toast("Token created");
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function onRevoke() {
    if (!confirm) return;
    const t = confirm;
    setConfirm(null);
    try {
      await revoke.mutateAsync(t.id);
      toast(`Token “${t.name}” revoked`);
    } catch (err) {
      toast((err as Error).message, "error");
    }
  }

  return (
    <section className="flex max-w-5xl flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">API tokens</h1>
        <p className="mt-1 text-sm text-slate-600">
          For CI and scripts: <code className="text-xs">Authorization: Bearer vl_…</code>. A token acts with its scopes only, never beyond its creator&apos;s role.
        </p>
      </div>

      {created && <NewSecret name={created.name} secret={created.secret} onDone={() => setCreated(null)} />}

      {tokens.isPending ? (
        <TableSkeleton rows={3} label="Loading tokens" />
      ) : tokens.isError ? (
        <ErrorState title="Could not load the tokens" error={tokens.error} onRetry={() => tokens.refetch()} />
      ) : tokens.data.tokens.length === 0 ? (
        <EmptyState title="No API tokens">Create one below for your CI pipeline&apos;s pre-deploy gate.</EmptyState>
      ) : (
        <Table label="API tokens">
          <THead>
            <Th>Name</Th>
            <Th>Token</Th>
            <Th>Scopes</Th>
            <Th>Created</Th>
            <Th>Last used</Th>
            <Th>Expires</Th>
            <Th>
              <span className="sr-only">Actions</span>
            </Th>
          </THead>
          <tbody>
            {tokens.data.tokens.map((t) => {
              const expired = !!t.expiresAt && new Date(t.expiresAt) <= new Date();
              return (
                <tr key={t.id} className="h-14 border-t border-slate-100">
                  <Td className="font-medium">{t.name}</Td>
                  <Td>
                    <code className="text-xs text-slate-600">{t.prefix}…</code>
                  </Td>
                  <Td className="whitespace-normal">
                    <div className="flex max-w-xs flex-wrap gap-1">
                      {t.scopes.map((s) => (
                        <Badge key={s}>{s}</Badge>
                      ))}
                    </div>
                  </Td>
                  <Td>
                    {formatDateTimeUtc(t.createdAt)}
                    <p className="text-xs text-slate-500">by {t.createdBy.displayName}</p>
                  </Td>
                  <Td>{t.lastUsedAt ? formatRelative(t.lastUsedAt) : <span className="text-slate-400">Never</span>}</Td>
                  <Td>{t.expiresAt ? <span className={expired ? "text-red-700" : undefined}>{expired ? "Expired " : ""}{formatDateTimeUtc(t.expiresAt)}</span> : <span className="text-slate-400">Never</span>}</Td>
                  <Td className="text-right">
                    <Button size="sm" variant="ghost" className="text-red-700 hover:bg-red-50" onClick={() => setConfirm(t)}>
                      Revoke
                    </Button>
                  </Td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}

      <form onSubmit={onCreate} className="flex flex-col gap-4 rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="text-lg font-medium">Create a token</h2>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Name" name="name" required maxLength={80} placeholder="github-actions-deploy" />
          <Field label="Expires on (optional)" name="expiresAt" type="date" hint="At the end of that day, UTC. Empty: never." />
        </div>
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-sm font-medium text-slate-700">Scopes</legend>
          <div className="grid gap-2 sm:grid-cols-2">
            {SCOPES.map((s) => (
              <label key={s} className="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  checked={scopes.includes(s)}
                  onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
                  className="mt-0.5 accent-sky-700"
                />
                <span>
                  <code className="text-xs font-medium">{s}</code>
                  <span className="block text-xs text-slate-500">{SCOPE_HINTS[s]}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
        {error && (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        )}
        <div>
          <Button type="submit" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create token"}
          </Button>
        </div>
      </form>

      <Dialog
        open={!!confirm}
        onClose={() => setConfirm(null)}
        title={`Revoke “${confirm?.name ?? ""}”?`}
        description="Anything using this token gets 401 from its next request. This cannot be undone."
        footer={
          <>
            <Button variant="secondary" onClick={() => setConfirm(null)}>
              Cancel
            </Button>
            <Button variant="danger" onClick={onRevoke}>
              Revoke token
            </Button>
          </>
        }
      />
    </section>
  );
}
