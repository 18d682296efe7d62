"use client";
// Settings → Targets: the databases Vaultline protects, with their environment, where they
// are (host and database, never credentials) and their schedule. ADMINs add (testing the
// connection first), change and remove them; OPERATORs may re-test a stored one.
import { useState } from "react";
import { useCan } from "@/components/user-context";
import { useDeleteTarget, useTargetsQuery, useTestTarget, type TargetDto, type TargetTestDto } from "@/lib/hooks/use-targets";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Skeleton } from "@/components/ui/skeleton";
import { ErrorState } from "@/components/ui/empty-state";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { TypedConfirm } from "@/components/ui/typed-confirm";
import { useToast } from "@/components/ui/toast";
import { formatDateTimeUtc, plural } from "@/lib/format";
import { TargetForm } from "./targets-form";
import { TargetTestResult } from "./targets-test-result";

function scheduleSummary(t: TargetDto): string {
  const s = t.settings.schedule;
  if (!s) return t.isDefault ? "Settings → Schedule" : "None";
  if (!s.enabled) return "Off";
  return `${s.cron} (${s.timezone}), ${s.kind}`;
}

function DeleteTarget({ target, onClose }: { target: TargetDto; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  const del = useDeleteTarget();
  const toast = useToast();
  const n = target.backupCount;
  return (
    <Dialog open onClose={onClose} title={`Remove target ${target.name}`} testId="delete-target-dialog">
      <TypedConfirm
        word={target.name}
        value={typed}
        onChange={setTyped}
        onCancel={onClose}
        pending={del.isPending}
        error={error}
        action={`Remove ${target.name}`}
        pendingAction="Removing…"
        onConfirm={async () => {
          setError(null);
          try {
            await del.mutateAsync({ id: target.id, force: n > 0 });
            toast(`Target “${target.name}” removed`);
            onClose();
          } catch (e) {
            setError((e as Error).message);
          }
        }}
      >
        <p className="text-sm text-slate-700">
          This removes {target.name} ({target.environment}, {target.host}/{target.database}) from Vaultline. The database itself is not touched.
        </p>
        {n > 0 && (
          <p className="text-sm font-medium text-red-700" data-testid="delete-target-count">
            {plural(n, "backup")} of {target.name} will be deleted with it — the stored archives and their rows — and its restores, deployments and drills. This cannot be undone.
          </p>
        )}
      </TypedConfirm>
    </Dialog>
  );
}

export function TargetsPanel() {
  const q = useTargetsQuery();
  const admin = useCan("targets.write");
  const mayTest = useCan("targets.test");
  const [editing, setEditing] = useState<TargetDto | "new" | null>(null);
  const [removing, setRemoving] = useState<TargetDto | null>(null);
  const [testResult, setTestResult] = useState<{ name: string; result: TargetTestDto } | null>(null);
  const test = useTestTarget();
  const toast = useToast();

  if (q.isPending) return <Skeleton className="h-40" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => q.refetch()} />;
  const targets = q.data.targets;

  return (
    <section aria-labelledby="targets-heading" className="flex flex-col gap-4">
      <div className="flex items-center justify-between gap-4">
        <div>
          <h2 id="targets-heading" className="text-lg font-semibold">
            Targets
          </h2>
          <p className="text-sm text-slate-600">The databases this Vaultline backs up. Connection URLs are stored encrypted and never shown.</p>
        </div>
        {admin && <Button onClick={() => setEditing("new")}>Add target</Button>}
      </div>
      <Table label="Targets">
        <THead>
          <tr>
            <Th>Name</Th>
            <Th>Environment</Th>
            <Th>Host / database</Th>
            <Th>Schedule</Th>
            <Th>Next run</Th>
            <Th className="text-right">Actions</Th>
          </tr>
        </THead>
        <tbody>
          {targets.map((t) => (
            <tr key={t.id} data-testid={`target-row-${t.name}`}>
              <Td>
                <span className="font-medium">{t.name}</span> {t.isDefault && <Badge tone="blue">default</Badge>}
              </Td>
              <Td>{t.environment}</Td>
              <Td className="font-mono text-xs">
                {t.host}/{t.database}
              </Td>
              <Td>{scheduleSummary(t)}</Td>
              <Td>{t.today.nextRunAt ? formatDateTimeUtc(t.today.nextRunAt) : "—"}</Td>
              <Td className="text-right">
                <div className="flex justify-end gap-1">
                  {mayTest && (
                    <Button
                      size="sm"
                      variant="ghost"
                      disabled={test.isPending}
                      onClick={async () => {
                        try {
                          setTestResult({ name: t.name, result: await test.mutateAsync({ id: t.id }) });
                        } catch (e) {
                          toast((e as Error).message, "error");
                        }
                      }}
                    >
                      Test
                    </Button>
                  )}
                  {admin && (
                    <Button size="sm" variant="ghost" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>
                      Edit
                    </Button>
                  )}
                  {admin && !t.isDefault && (
                    <Button size="sm" variant="ghost" className="text-red-700" onClick={() => setRemoving(t)} aria-label={`Remove ${t.name}`}>
                      Remove
                    </Button>
                  )}
                </div>
              </Td>
            </tr>
          ))}
        </tbody>
      </Table>

      {editing && (
        <Dialog open onClose={() => setEditing(null)} title={editing === "new" ? "Add target" : `Edit target ${editing.name}`} size="lg" testId="target-dialog">
          <TargetForm target={editing === "new" ? null : editing} onDone={() => setEditing(null)} />
        </Dialog>
      )}
      {removing && <DeleteTarget target={removing} onClose={() => setRemoving(null)} />}
      {testResult && (
        <Dialog open onClose={() => setTestResult(null)} title={`Connection test: ${testResult.name}`} size="lg" footer={<Button onClick={() => setTestResult(null)}>Close</Button>}>
          <TargetTestResult result={testResult.result} />
        </Dialog>
      )}
    </section>
  );
}
