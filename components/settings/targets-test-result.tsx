"use client";
// The answer of "Test connection": server version, pg_dump compatibility, the three
// capabilities as ✓/✗ and whether its backups would restore, and each missing privilege
// with the SQL that grants it (copyable).
import type { TargetTestDto } from "@/lib/hooks/use-targets";
import { CopyButton } from "@/components/ui/copy-button";

const CAPABILITIES = [
  { key: "canBackup", label: "Back up", prefix: "backup." },
  { key: "canRestoreInPlace", label: "Restore in place", prefix: "in_place." },
  { key: "canSwap", label: "Restore beside and swap", prefix: "swap." },
  // Whatever the role: the database's own functions must let a restore through (decision 153).
  { key: "restorable", label: "Its backups restore", prefix: "restore." },
] as const;

function Mark({ ok }: { ok: boolean }) {
  return (
    <span aria-hidden className={ok ? "text-green-700" : "text-red-700"}>
      {ok ? "✓" : "✗"}
    </span>
  );
}

export function TargetTestResult({ result }: { result: TargetTestDto }) {
  const connect = result.reasons.find((r) => r.check === "connect");
  const connectFailure = connect && !connect.ok ? connect : undefined;
  return (
    <section aria-label="Connection test result" data-testid="target-test-result" className="flex flex-col gap-3 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm">
      {connectFailure ? (
        <p role="alert" className="text-red-700">
          {connectFailure.message}
        </p>
      ) : (
        <>
          <p>
            <span className="font-medium">PostgreSQL {result.serverVersion}</span>
            <span className={`ml-2 ${result.pgDump.compatible ? "text-slate-600" : "text-red-700"}`}>
              <Mark ok={result.pgDump.compatible} /> {result.pgDump.message}
            </span>
          </p>
          {/* Who and where: with several hosts in the URL, which one answered (decision 183). */}
          {connect && <p className="text-slate-600" data-testid="target-test-connected">{connect.message}</p>}
          <ul className="flex flex-col gap-2">
            {CAPABILITIES.map((c) => {
              const ok = result[c.key];
              const missing = result.reasons.filter((r) => r.check.startsWith(c.prefix) && !r.ok);
              return (
                <li key={c.key} data-testid={`capability-${c.key}`} data-ok={ok}>
                  <span className="font-medium">
                    <Mark ok={ok} /> {c.label}
                  </span>
                  <span className="sr-only">{ok ? ": possible" : ": not possible"}</span>
                  {missing.length > 0 && (
                    <ul className="ml-5 mt-1 flex flex-col gap-1.5">
                      {missing.map((m, i) => (
                        <li key={`${m.check}-${i}`} className="text-slate-700">
                          {m.message}
                          {m.grant && (
                            <div className="mt-1 flex items-start gap-2">
                              <code className="block whitespace-pre-wrap rounded bg-white px-2 py-1 font-mono text-xs text-slate-900 ring-1 ring-slate-200">{m.grant}</code>
                              <CopyButton value={m.grant} label="Copy SQL" />
                            </div>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
    </section>
  );
}
