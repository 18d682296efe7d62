"use client";
// The Overview's storage panel: how much the stored backups take (against STORAGE_WARN_BYTES)
// and, for local storage, its disk drawn with the next backup on it — so "the next backup
// will not fit" is seen the day before, not learnt from the failure (decision 159).
import { useStorageQuery } from "@/lib/hooks/use-storage";
import { formatBytes, plural } from "@/lib/format";
import { Skeleton } from "@/components/ui/skeleton";
import { DiskBar } from "@/components/ui/disk-bar";
import type { StorageDisk } from "@/lib/backup/storage-usage";

function DiskLine({ disk }: { disk: StorageDisk }) {
  const below = disk.freeBytes < disk.reserveBytes;
  const tone = below || !disk.fits ? "font-medium text-red-700" : "text-slate-700";
  return (
    <div data-testid="storage-disk" data-fits={disk.fits ? "yes" : "no"}>
      <p className={`text-sm ${tone}`}>
        Disk (<span className="font-mono text-xs">{disk.dir}</span>): {formatBytes(disk.freeBytes)} free of {formatBytes(disk.totalBytes)}.{" "}
        {below
          ? `Less than the ${formatBytes(disk.reserveBytes)} a backup leaves free (DISK_RESERVE_MB): backups stop until there is room. Free space, or prune older backups.`
          : disk.nextBackupBytes === 0
            ? `Backups stop before less than ${formatBytes(disk.reserveBytes)} would be left.`
            : disk.fits
              ? `The next backup (about ${formatBytes(disk.nextBackupBytes)}, the largest FULL of the last 8 days) fits, with ${formatBytes(disk.reserveBytes)} left free.`
              : `The next backup (about ${formatBytes(disk.nextBackupBytes)}, the largest FULL of the last 8 days) may not fit above the ${formatBytes(disk.reserveBytes)} left free: free space, or prune older backups.`}
      </p>
      {disk.totalBytes > 0 && (
        <DiskBar totalBytes={disk.totalBytes} freeBytes={disk.freeBytes} plannedBytes={disk.nextBackupBytes} plannedLabel="the next backup" reserveBytes={disk.reserveBytes} />
      )}
    </div>
  );
}

export function StoragePanel() {
  const q = useStorageQuery();
  return (
    <section aria-labelledby="storage-heading" className="flex max-w-3xl flex-col gap-2 rounded-lg border border-slate-200 bg-white p-4" data-testid="storage-panel">
      <h2 id="storage-heading" className="text-lg font-semibold">
        Storage
      </h2>
      {q.isPending ? (
        <Skeleton className="h-12 w-full" />
      ) : q.isError ? (
        <p className="text-sm text-slate-500">Storage usage could not be read: {q.error.message}</p>
      ) : (
        <>
          <p className={`text-sm ${q.data.overWarn ? "font-medium text-amber-800" : "text-slate-700"}`} data-testid="storage-usage">
            {plural(q.data.backups, "backup")} stored, {formatBytes(q.data.totalBytes)}
            {q.data.warnBytes !== null && (q.data.overWarn ? ` — over the ${formatBytes(q.data.warnBytes)} of STORAGE_WARN_BYTES.` : ` of the ${formatBytes(q.data.warnBytes)} STORAGE_WARN_BYTES allows.`)}
            {q.data.warnBytes === null && "."}
          </p>
          {q.data.disk && <DiskLine disk={q.data.disk} />}
        </>
      )}
    </section>
  );
}
