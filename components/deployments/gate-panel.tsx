"use client";
// The gate as it stands (seed 002's deploy protection): allowed with the backup's kind and
// age, or what is missing. Deploy stays disabled until the gate passes; "Back up first"
// opens the Quick/Full choice.
import Link from "next/link";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { useToast } from "@/components/ui/toast";
import { HttpError } from "@/lib/hooks/api";
import { useRunDeploy } from "@/lib/hooks/use-deployments";
import { useNow } from "@/lib/hooks/use-now";
import { elapsedSeconds, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { DeployState } from "@/lib/validation/deploy";
import { BackupFirstDialog } from "./backup-first-dialog";
import { withTarget } from "@/lib/targets-client";

const SHA = /^[0-9a-f]{7,40}$/i;

function headline(state: DeployState, now: Date): { text: string; ok: boolean } {
  const g = state.gate;
  if (g.allowed && g.backup) {
    // The clock ticks every 30 s; a backup that finished since must not read as negative.
    const age = Math.max(0, elapsedSeconds(g.backup.completedAt, null, now) ?? 0);
    return { ok: true, text: `Deploy allowed — ${g.backup.kind} backup ${formatDuration(age)} old` };
  }
  const backupMissing = !g.backup || g.reasons.some((r) => /backup/i.test(r) && !r.startsWith("Check "));
  return { ok: false, text: backupMissing ? "Backup required" : "Deploy blocked — checks failing" };
}

export function GatePanel({
  state,
  canDeploy,
  canBackup,
  onStarted,
  target,
}: {
  state: DeployState;
  canDeploy: boolean;
  canBackup: boolean;
  onStarted: (deploymentId: string) => void;
  /** The selected target's name; absent = default. */
  target?: string;
}) {
  const now = useNow(30_000);
  const [commit, setCommit] = useState(state.defaultCommit ?? "");
  const [backupOpen, setBackupOpen] = useState(false);
  const [blocked, setBlocked] = useState<string[] | null>(null);
  const run = useRunDeploy();
  // DEPLOY_COMMAND / DEPLOY_WEBHOOK_URL deploy the default target's app, and /api/deployments/run
  // gates `default` only: another target's deploys go through its own gate from CI.
  const otherTarget = !!target;
  const toast = useToast();
  const h = headline(state, now);
  const commitOk = SHA.test(commit.trim());
  const busy = !!state.running || run.isPending;

  async function deploy() {
    setBlocked(null);
    try {
      const r = await run.mutateAsync(commit.trim());
      if (r.hook) {
        toast(`Deploying ${commit.trim().slice(0, 10)}…`, "info");
        onStarted(r.deploymentId);
      } else {
        toast("Gate passed and recorded. No deploy hook is configured, so nothing was run.", "info");
      }
    } catch (e) {
      if (e instanceof HttpError && e.status === 428) setBlocked((e.details as { reasons?: string[] } | undefined)?.reasons ?? [e.message]);
      else toast((e as Error).message, "error");
    }
  }

  return (
    <section aria-labelledby="gate-heading" className="flex flex-col gap-4 rounded-lg border border-slate-200 bg-white p-5">
      <div
        data-testid="gate-state"
        data-allowed={state.gate.allowed}
        className={`flex items-start gap-3 rounded-md border px-4 py-3 ${h.ok ? "border-emerald-300 bg-emerald-50 text-emerald-950" : "border-red-300 bg-red-50 text-red-950"}`}
      >
        <svg aria-hidden viewBox="0 0 20 20" className={`mt-0.5 h-5 w-5 shrink-0 ${h.ok ? "text-emerald-600" : "text-red-600"}`} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
          <circle cx="10" cy="10" r="8.5" strokeWidth="1.5" />
          <path d={h.ok ? "M5.5 10.5l3 3 6-6" : "M10 5.5v6M10 14.5v.5"} />
        </svg>
        <div className="flex min-w-0 flex-col gap-1 [overflow-wrap:anywhere]">
          <h2 id="gate-heading" className="font-semibold">
            {h.text}
          </h2>
          {state.gate.backup && (
            <p className="text-sm">
              Newest {state.gate.backup.kind} backup{" "}
              <Link href={`/backups/${state.gate.backup.id}`} className="font-mono underline">
                {shortId(state.gate.backup.id)}
              </Link>{" "}
              finished {formatRelative(state.gate.backup.completedAt, now)}
              {state.gate.backup.commitSha ? `, commit ${state.gate.backup.commitSha.slice(0, 10)}` : ""}.
            </p>
          )}
          {state.gate.reasons.length > 0 && (
            <ul className="list-disc pl-5 text-sm">
              {state.gate.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          )}
          <p className="text-xs opacity-80">
            {state.gate.checksAt ? (
              <>
                Checks: {state.gate.checksStatus} (last run {formatRelative(state.gate.checksAt, now)}) ·{" "}
                <Link href={withTarget("/checks", target)} className="underline">
                  see checks
                </Link>
                . The gate runs them again when you deploy.
              </>
            ) : (
              <>
                Checks have not run yet; the gate runs them when you deploy ·{" "}
                <Link href={withTarget("/checks", target)} className="underline">
                  Checks
                </Link>
              </>
            )}
          </p>
        </div>
      </div>

      <div className="flex flex-col gap-3 sm:flex-row sm:items-end">
        <div className="min-w-0 sm:w-96">
          <Field
            label="Commit to deploy"
            value={commit}
            onChange={(e) => setCommit(e.target.value)}
            placeholder="e.g. 3f2c9a1"
            spellCheck={false}
            autoComplete="off"
            className="rounded-md border border-slate-300 bg-white px-3 py-2 font-mono text-sm shadow-sm"
            error={commit && !commitOk ? "7–40 hexadecimal characters" : undefined}
            hint={!commit ? "The git commit (SHA) to deploy" : undefined}
          />
        </div>
        <div className="flex flex-wrap gap-2">
          {canBackup && (
            <Button variant="secondary" onClick={() => setBackupOpen(true)}>
              Back up first
            </Button>
          )}
          {canDeploy && (
            <Button
              onClick={deploy}
              disabled={!state.gate.allowed || !commitOk || busy || otherTarget}
              title={otherTarget ? `The deploy hook deploys the default target's app, not ${target}` : !state.gate.allowed ? "A fresh backup and passing checks are needed first" : undefined}
            >
              {run.isPending ? "Checking…" : state.gate.allowed ? "Deploy" : "Deploy (backup required)"}
            </Button>
          )}
        </div>
      </div>

      {otherTarget && canDeploy && (
        <p className="text-sm text-slate-700" data-testid="other-target-deploy">
          Deploy on this page runs the configured deploy hook, which deploys the <strong>default</strong> target&apos;s app. For {target}, CI asks this
          gate itself: <code className="text-xs">POST /api/deploy/gate {`{"commitSha": "…", "target": "${target}"}`}</code>.
        </p>
      )}

      {blocked && (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-900 [overflow-wrap:anywhere]">
          <p className="font-medium">The gate refused the deploy:</p>
          <ul className="list-disc pl-5">
            {blocked.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </div>
      )}

      {state.running && (
        <p role="status" className="text-sm text-sky-800">
          A {state.running.type} is running; Deploy is available again when it finishes.
        </p>
      )}

      {!state.hooks.deploy ? (
        <div className="rounded-md border border-slate-200 bg-slate-50 px-4 py-3 text-sm text-slate-700" data-testid="hook-help">
          <p className="font-medium">No deploy hook is configured.</p>
          <p className="mt-1">
            Deploy then records the gate decision only. To let Vaultline run the deploy, set <code>DEPLOY_COMMAND</code> (run with{" "}
            <code>/bin/sh -c</code>, the commit in <code>$VAULTLINE_COMMIT</code>) or <code>DEPLOY_WEBHOOK_URL</code> (POSTed{" "}
            <code>{'{"commitSha","event":"deploy"}'}</code>) and restart Vaultline; <code>ROLLBACK_COMMAND</code> /{" "}
            <code>ROLLBACK_WEBHOOK_URL</code> do the same for rollbacks, and <code>HOOK_TIMEOUT_SECONDS</code> (now {state.hooks.timeoutSeconds} s)
            stops a hook that hangs. CI can ask the same gate: see “Pre-deploy gate in CI” in the README.
          </p>
        </div>
      ) : (
        <p className="text-sm text-slate-600">
          Deploy runs the configured {state.hooks.deploy.replace("+", " and ")} with the commit, behind the gate, and streams its output below (timeout{" "}
          {state.hooks.timeoutSeconds} s).
        </p>
      )}

      <BackupFirstDialog
        target={target}
        open={backupOpen}
        onClose={() => setBackupOpen(false)}
        commitSha={commitOk ? commit.trim().toLowerCase() : null}
        maxAgeMinutes={state.gate.maxAgeMinutes}
      />
    </section>
  );
}
