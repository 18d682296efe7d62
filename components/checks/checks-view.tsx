"use client";
// /checks — seed 004's pre-deploy validation: schema drift, integrity rules, file sync.
// Shows the last run (from Run now, the deploy gate, or the checks after a restore).
import Link from "next/link";
import { useCan } from "@/components/user-context";
import { useChecksQuery, useRunChecks } from "@/lib/hooks/use-checks";
import { Badge, type Tone } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { useToast } from "@/components/ui/toast";
import { elapsedSeconds, formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import type { CheckKind, CheckResult, CheckStatus } from "@/lib/validation/checks";
import type { StoredCheckRun } from "@/lib/validation/deploy";
import { CheckDetails } from "./check-details";
import { useSelectedTarget } from "@/components/targets/use-selected-target";
import { TargetContext } from "@/components/targets/target-context";

const tone: Record<CheckStatus, Tone> = { pass: "green", warn: "amber", fail: "red", error: "slate" };
const label: Record<CheckStatus, string> = { pass: "Pass", warn: "Warning", fail: "Fail", error: "Error" };

export function CheckStatusBadge({ status }: { status: CheckStatus }) {
  return (
    <Badge tone={tone[status]} title={status === "error" ? "The check could not run" : undefined}>
      {label[status]}
    </Badge>
  );
}

const GROUPS: { kind: CheckKind; title: string; hint: string }[] = [
  { kind: "drift", title: "Schema drift", hint: "Migrations applied in the database, compared with the code, the newest backup and Vaultline's own schema." },
  { kind: "integrity", title: "Integrity rules", hint: "Read-only SQL rules from CHECKS_FILE: each lists the rows that break it." },
  { kind: "files", title: "File sync", hint: "Files the database references, compared with the uploads directory." },
];

function source(s: StoredCheckRun): React.ReactNode {
  if (s.source === "gate") return <>by the pre-deploy gate{s.by ? ` (${s.by})` : ""}</>;
  if (s.source === "restore") return <>after restore {s.restoreId ? shortId(s.restoreId) : ""}</>;
  return <>by {s.by ?? "someone"}</>;
}

function ResultRow({ r }: { r: CheckResult }) {
  return (
    <li className="border-t border-slate-100 first:border-t-0" data-check-id={r.id}>
      <details className="group px-4 py-3" open={r.status === "fail" || r.status === "error"}>
        <summary className="flex cursor-pointer list-none flex-wrap items-start gap-x-3 gap-y-1">
          <CheckStatusBadge status={r.status} />
          <span className="font-medium">{r.name}</span>
          <span className="ml-auto text-xs tabular-nums text-slate-500">{r.durationMs} ms</span>
          <span className="min-w-0 basis-full text-sm text-slate-700 [overflow-wrap:anywhere]">{r.summary}</span>
          <span className="text-xs text-sky-800 group-open:hidden">Show details</span>
          <span className="hidden text-xs text-sky-800 group-open:inline">Hide details</span>
        </summary>
        <div className="mt-2 text-sm">
          <CheckDetails result={r} />
        </div>
      </details>
    </li>
  );
}

export function ChecksView() {
  const target = useSelectedTarget();
  const q = useChecksQuery(target.param);
  const run = useRunChecks(target.param);
  const canRun = useCan("checks.run");
  const toast = useToast();

  async function runNow() {
    try {
      const r = await run.mutateAsync();
      toast(`Checks finished: ${label[r.last.run.status].toLowerCase()}`, r.last.run.status === "pass" ? "success" : "info");
    } catch (e) {
      toast((e as Error).message, "error");
    }
  }

  const last = q.data?.last ?? null;
  return (
    <div className="flex max-w-5xl flex-col gap-6">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold">Checks</h1>
          <TargetContext name={target.name} />
          <p className="mt-1 max-w-2xl text-sm text-slate-600">
            Schema drift, integrity rules and file sync — the checks the{" "}
            <Link href={target.href("/deployments")} className="underline">
              pre-deploy gate
            </Link>{" "}
            runs, and every restore runs afterwards. Failures and errors block deploys; warnings do not.
          </p>
        </div>
        {canRun && (
          <Button onClick={runNow} disabled={run.isPending}>
            {run.isPending ? "Running…" : "Run now"}
          </Button>
        )}
      </div>

      {q.isPending ? (
        <Skeleton className="h-48 w-full" label="Loading checks" />
      ) : q.isError ? (
        <ErrorState title="Could not load the checks" error={q.error} onRetry={() => q.refetch()} />
      ) : !last ? (
        <EmptyState title="No checks have run yet" action={canRun ? <Button onClick={runNow} disabled={run.isPending}>Run now</Button> : undefined}>
          They run on every gate call, after every restore, and when you press Run now. Integrity rules and file-sync entries come from CHECKS_FILE;
          the comparison with the code&apos;s migrations needs APP_MIGRATIONS_DIR.
        </EmptyState>
      ) : (
        <>
          <div className="flex flex-wrap items-center gap-3 rounded-lg border border-slate-200 bg-white px-4 py-3 text-sm" data-testid="checks-summary">
            <CheckStatusBadge status={last.run.status} />
            <span>
              {last.run.results.filter((r) => r.status === "pass").length} of {last.run.results.length} passing
            </span>
            <span className="text-slate-500">
              Last run <time dateTime={last.run.finishedAt}>{formatDateTimeUtc(last.run.finishedAt)}</time> ({formatRelative(last.run.finishedAt)}), {source(last)},
              took {formatDuration(elapsedSeconds(last.run.startedAt, last.run.finishedAt))}
            </span>
          </div>
          {GROUPS.map((g) => {
            const results = last.run.results.filter((r) => r.kind === g.kind);
            return (
              <section key={g.kind} aria-labelledby={`checks-${g.kind}`} className="flex flex-col gap-2">
                <div>
                  <h2 id={`checks-${g.kind}`} className="text-lg font-semibold">
                    {g.title}
                  </h2>
                  <p className="text-sm text-slate-600">{g.hint}</p>
                </div>
                {results.length === 0 ? (
                  <p className="rounded-lg border border-dashed border-slate-300 bg-white px-4 py-3 text-sm text-slate-600">
                    {g.kind === "drift" ? "No drift comparison ran." : "Nothing configured: add entries to CHECKS_FILE."}
                  </p>
                ) : (
                  <ul className="rounded-lg border border-slate-200 bg-white">
                    {results.map((r) => (
                      <ResultRow key={r.id} r={r} />
                    ))}
                  </ul>
                )}
              </section>
            );
          })}
        </>
      )}
    </div>
  );
}
