// A running restore's bar: how much of the backup is loaded into the database (and read in
// ahead of that), while its rows go in (decision 136); then, where the restore counts them,
// the indexes and constraints made of the archive's. Below it, what the server is doing
// (decision 157): each index or constraint being built and how far, and any session whose
// lock the restore waits for — the one thing at 3 a.m. nobody can see from the outside.
import { Progress } from "@/components/ui/progress";
import { formatBytes, formatDuration } from "@/lib/format";
import { describeBlocker, describeBuild } from "@/lib/restore-activity-text";
import { END_BLOCKING_AFTER_SECONDS, type RestoreActivityDto, type RestoreProgressDto } from "@/lib/validation/restores";

const percent = (n: number, of: number) => Math.floor((100 * n) / of);

/** A wait shorter than this is the ordinary give and take of locks, not worth a warning. */
const WAIT_WORTH_SAYING_S = 5;

export function RestoreLiveProgress({
  progress,
  activity,
  strategy,
  endBlocking = false,
}: {
  progress: RestoreProgressDto | null | undefined;
  activity?: RestoreActivityDto | null;
  strategy?: string | null;
  /** The restore was asked to end the sessions blocking it (decision 185). */
  endBlocking?: boolean;
}) {
  const p = progress && progress.totalBytes > 0 ? progress : null;
  const loading = p !== null && p.loadedBytes < p.totalBytes;
  const items = !loading && activity?.items && activity.items.of > 0 ? activity.items : null;
  const value = loading ? p.loadedBytes / p.totalBytes : items ? items.made / items.of : null;
  const builds = (activity?.sessions ?? []).filter((s) => s.waitingFor.length === 0).map(describeBuild).filter((b): b is string => b !== null);
  const waits = (activity?.sessions ?? []).filter((s) => s.waitingFor.length > 0 && s.seconds >= WAIT_WORTH_SAYING_S);
  return (
    <div className="flex flex-col gap-1" data-testid="restore-live-progress" data-loaded={p ? percent(p.loadedBytes, p.totalBytes) : undefined}>
      <Progress value={value} label="Restore in progress" />
      {p && (
        <p className="text-xs tabular-nums text-slate-600">
          {loading
            ? `Loaded ${formatBytes(p.loadedBytes)} of ${formatBytes(p.totalBytes)} (${percent(p.loadedBytes, p.totalBytes)} %)` +
              (p.readBytes > p.loadedBytes ? ` · read in ${percent(p.readBytes, p.totalBytes)} %` : "")
            : `All ${formatBytes(p.totalBytes)} of the backup loaded`}
          {items && ` · indexes and constraints: ${items.made} of ${items.of} made`}
        </p>
      )}
      {builds.length > 0 && (
        <ul className="text-xs tabular-nums text-slate-600" data-testid="restore-building">
          {builds.map((b) => (
            <li key={b}>Building {b}</li>
          ))}
        </ul>
      )}
      {waits.map((s) => (
        <div key={s.pid} role="alert" data-testid="restore-waiting" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <p>
            Waiting {formatDuration(s.seconds)} for a lock held by {s.waitingFor.map(describeBlocker).join("; ")}.
          </p>
          <p className="mt-1 text-xs">
            The restore goes on once that transaction ends.
            {endBlocking ? ` As chosen, the restore ends it once it has held the lock for ${END_BLOCKING_AFTER_SECONDS} s (if its role may).` : ""}
            {strategy === "in-place" ? " If it is still held when the restore's lock timeout (RESTORE_LOCK_TIMEOUT_SECONDS) runs out, the restore stops and rolls back, changing nothing." : ""}{" "}
            To end it now: <code className="font-mono">{s.waitingFor.map((b) => `SELECT pg_terminate_backend(${b.pid});`).join(" ")}</code>
          </p>
        </div>
      ))}
    </div>
  );
}
