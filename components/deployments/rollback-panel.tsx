"use client";
// Rollback (seed 002), with double confirmation: choose a backup here, then type ROLLBACK
// in the dialog. FULL backups restore the database first; QUICK ones only run the code hook.
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { useRollbackTargetsQuery } from "@/lib/hooks/use-deployments";
import { formatDateTimeUtc, formatRelative, shortId } from "@/lib/format";
import { triggerName } from "@/components/ui/badge";
import type { DeployState } from "@/lib/validation/deploy";
import { RollbackDialog } from "./rollback-dialog";

export function RollbackPanel({ state, onStarted, target }: { state: DeployState; onStarted: (deploymentId: string) => void; target?: string }) {
  const targets = useRollbackTargetsQuery(true, target);
  const [id, setId] = useState("");
  const [open, setOpen] = useState(false);
  const backups = targets.data?.backups ?? [];
  const chosen = backups.find((b) => b.id === id) ?? null;
  const codeHook = state.hooks.rollback;
  const unusable =
    chosen?.kind === "QUICK"
      ? !codeHook
        ? "A QUICK backup holds only the commit; configure ROLLBACK_COMMAND or ROLLBACK_WEBHOOK_URL to roll the code back to it."
        : !chosen.commitSha
          ? "This QUICK backup records no commit."
          : null
      : null;

  return (
    <section aria-labelledby="rollback-heading" className="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-5">
      <div>
        <h2 id="rollback-heading" className="text-lg font-semibold">
          Roll back
        </h2>
        <p className="mt-1 text-sm text-slate-600">
          A Full backup restores the database (after a safety backup of the current one) and then rolls the code back to the backup’s commit
          {codeHook ? ` through the configured ${codeHook}` : " — once ROLLBACK_COMMAND or ROLLBACK_WEBHOOK_URL is configured"}. A Quick backup rolls back the code only.
        </p>
      </div>
      <div className="flex flex-col gap-2 sm:flex-row sm:items-end">
        <div className="flex flex-col gap-1 sm:w-[36rem]">
          <label htmlFor="rollback-backup" className="text-sm font-medium text-slate-700">
            Backup to roll back to
          </label>
          <select
            id="rollback-backup"
            value={id}
            onChange={(e) => setId(e.target.value)}
            disabled={targets.isPending || backups.length === 0}
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm"
          >
            <option value="">{targets.isPending ? "Loading backups…" : backups.length ? "Choose a backup" : "No successful backups"}</option>
            {backups.map((b) => (
              <option key={b.id} value={b.id}>
                {b.kind === "FULL" ? "Full" : "Quick"} · {formatDateTimeUtc(b.completedAt ?? b.createdAt)} ({formatRelative(b.completedAt ?? b.createdAt)}) · {triggerName(b.trigger)}
                {b.commitSha ? ` · commit ${b.commitSha.slice(0, 10)}` : ""} · {shortId(b.id)}
              </option>
            ))}
          </select>
        </div>
        <Button variant="danger" disabled={!chosen || !!unusable || !!state.running} onClick={() => setOpen(true)}>
          Roll back…
        </Button>
      </div>
      {unusable && <p className="text-sm text-amber-800">{unusable}</p>}
      {targets.isError && (
        <p role="alert" className="text-sm text-red-700">
          {targets.error.message}
        </p>
      )}
      {chosen && <RollbackDialog backup={chosen} codeHook={codeHook} open={open} onClose={() => setOpen(false)} onStarted={onStarted} />}
    </section>
  );
}
