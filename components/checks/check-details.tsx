// The details of one check result, by kind: which migrations differ, which rows break a
// rule (a sample), which files are missing or orphaned.
import type { CheckResult, DriftResult, FileSyncResult, IntegrityResult } from "@/lib/validation/checks";

function NameList({ title, names, tone = "slate" }: { title: string; names: string[] | undefined; tone?: "red" | "amber" | "slate" }) {
  if (!names?.length) return null;
  const color = tone === "red" ? "text-red-800" : tone === "amber" ? "text-amber-900" : "text-slate-700";
  return (
    <div>
      <p className="font-medium text-slate-700">{title}</p>
      <ul className={`mt-0.5 list-disc pl-5 font-mono text-xs ${color}`}>
        {names.map((n) => (
          <li key={n} className="break-all">
            {n}
          </li>
        ))}
      </ul>
    </div>
  );
}

function DriftDetails({ r }: { r: DriftResult }) {
  const d = r.details;
  if ("error" in d) return <p className="text-red-800">{d.error}</p>;
  if (d.against === "disk") {
    return (
      <div className="flex flex-col gap-2">
        <p className="text-slate-600">
          {d.applied} applied in the target, {d.onDisk} in <code className="break-all">{d.dir}</code>
          {d.targetTracksMigrations ? "" : " (the target has no _prisma_migrations table)"}.
        </p>
        <NameList title="On disk, not applied" names={d.onDiskNotApplied} tone="red" />
        <NameList title="Failed, not rolled back" names={d.failed} tone="red" />
        <NameList title="Applied, not on disk" names={d.appliedNotOnDisk} tone="amber" />
        <NameList title="Rolled back, not re-applied" names={d.rolledBack} tone="amber" />
        <NameList title="Changed on disk after being applied" names={d.checksumMismatch} tone="amber" />
      </div>
    );
  }
  if (d.against === "backup") {
    return (
      <div className="flex flex-col gap-2">
        <p className="text-slate-600">
          {d.applied} applied in the target, {d.inBackup} in the newest backup.
        </p>
        <NameList title="In the backup, missing from the target" names={d.missingFromTarget} tone="red" />
        <NameList title="Failed in the target" names={d.failedInTarget} tone="red" />
        <NameList title="Applied since the backup (a restore would revert them)" names={d.appliedSinceBackup} tone="amber" />
        <NameList title="Different checksum in the backup" names={d.checksumMismatch} tone="amber" />
        <NameList title="Failed in the backup" names={d.failedInBackup} tone="amber" />
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-2">
      <p className="text-slate-600">
        {d.applied} Vaultline migration{d.applied === 1 ? "" : "s"} applied.
      </p>
      <NameList title="Not applied" names={d.missing} tone="red" />
      <NameList title="Failed" names={d.failed} tone="red" />
      <NameList title="Changed after being applied" names={d.modified} tone="amber" />
      <NameList title="Applied by a newer Vaultline" names={d.unknown} tone="amber" />
    </div>
  );
}

function IntegrityDetails({ r }: { r: IntegrityResult }) {
  const d = r.details;
  const cols = d.columns ?? Object.keys(d.sample?.[0] ?? {});
  return (
    <div className="flex flex-col gap-2">
      {d.description && <p className="text-slate-600">{d.description}</p>}
      {d.sql && (
        <pre className="overflow-x-auto whitespace-pre-wrap rounded bg-slate-100 p-2 font-mono text-xs text-slate-800">{d.sql}</pre>
      )}
      <p className="text-slate-600">
        {d.severity === "warn" ? "Configured as a warning (does not block deploys)." : "A failure blocks deploys."}
        {d.count !== undefined && ` ${d.count}${d.capped ? "+" : ""} offending row${d.count === 1 ? "" : "s"}.`}
        {d.timeoutMs !== undefined && ` Timeout ${d.timeoutMs} ms.`}
      </p>
      {d.error && <p className="text-red-800">{d.error}</p>}
      {!!d.sample?.length && (
        <div className="overflow-x-auto">
          <table className="min-w-max text-left font-mono text-xs">
            <thead>
              <tr>
                {cols.map((c) => (
                  <th key={c} className="border-b border-slate-200 px-2 py-1 font-medium text-slate-600">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {d.sample.map((row, i) => (
                <tr key={i}>
                  {cols.map((c) => (
                    <td key={c} className="px-2 py-0.5 text-slate-800">
                      {row[c] === null ? <span className="text-slate-400">NULL</span> : String(row[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {d.count !== undefined && d.count > d.sample.length && <p className="mt-1 text-xs text-slate-500">First {d.sample.length} of {d.count}.</p>}
        </div>
      )}
    </div>
  );
}

function FileDetails({ r }: { r: FileSyncResult }) {
  const d = r.details;
  return (
    <div className="flex flex-col gap-2">
      {d.description && <p className="text-slate-600">{d.description}</p>}
      <p className="text-slate-600">
        <code>
          {d.table}.{d.column}
        </code>{" "}
        against <code className="break-all">{d.dir}</code>
        {d.prefix ? ` (values starting with "${d.prefix}")` : ""}: {d.referenced ?? "?"} referenced, {d.filesOnDisk ?? "?"} files on disk
        {d.skipped ? `, ${d.skipped} skipped (outside the prefix)` : ""}.
      </p>
      {d.error && <p className="text-red-800">{d.error}</p>}
      <NameList title={`Referenced but missing (${d.missingCount ?? 0})`} names={d.missing} tone="red" />
      <NameList title={`Files no row references (${d.orphanCount ?? 0})`} names={d.orphans} tone="amber" />
    </div>
  );
}

export function CheckDetails({ result }: { result: CheckResult }) {
  switch (result.kind) {
    case "drift":
      return <DriftDetails r={result} />;
    case "integrity":
      return <IntegrityDetails r={result} />;
    case "files":
      return <FileDetails r={result} />;
  }
}
