// A running restore's bar: how much of the backup is loaded into the database (and read in
// ahead of that), while its rows go in; then an indeterminate bar for the indexes,
// constraints, swap and checks, whose length nothing measures (decision 136).
import { Progress } from "@/components/ui/progress";
import { formatBytes } from "@/lib/format";
import type { RestoreProgressDto } from "@/lib/validation/restores";

const percent = (n: number, of: number) => Math.floor((100 * n) / of);

export function RestoreLiveProgress({ progress }: { progress: RestoreProgressDto | null | undefined }) {
  const p = progress && progress.totalBytes > 0 ? progress : null;
  const loading = p !== null && p.loadedBytes < p.totalBytes;
  return (
    <div className="flex flex-col gap-1" data-testid="restore-live-progress" data-loaded={p ? percent(p.loadedBytes, p.totalBytes) : undefined}>
      <Progress value={loading ? p.loadedBytes / p.totalBytes : null} label="Restore in progress" />
      {p && (
        <p className="text-xs tabular-nums text-slate-600">
          {loading
            ? `Loaded ${formatBytes(p.loadedBytes)} of ${formatBytes(p.totalBytes)} (${percent(p.loadedBytes, p.totalBytes)} %)` +
              (p.readBytes > p.loadedBytes ? ` · read in ${percent(p.readBytes, p.totalBytes)} %` : "")
            : `All ${formatBytes(p.totalBytes)} of the backup loaded`}
        </p>
      )}
    </div>
  );
}
