"use client";
// A restore's safety backup while it runs (decision 176). Before it, the restore's page said
// "safety backup" and nothing else, however long the dump took — and a safety backup queued
// behind the target's nightly backup (one backup of a target runs at a time) waited for it
// without a word. Now the page shows the safety backup's own progress, and when it waits for
// another backup, which one, how far that one is, and a way to cancel it so the restore goes on.
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { useToast } from "@/components/ui/toast";
import { useCan } from "@/components/user-context";
import { LiveProgress } from "@/components/backups/status-cell";
import { isActive, useBackupQuery, useCancelBackup, useLastSuccessQuery } from "@/lib/hooks/use-backups";
import { formatBytes, shortId } from "@/lib/format";
import { triggerWord } from "@/lib/validation/backups";

function Blocking({ id }: { id: string }) {
  const other = useBackupQuery(id);
  const cancel = useCancelBackup();
  const toast = useToast();
  const canCancel = useCan("backups.cancel");
  const b = other.data;
  if (!b || !isActive(b.status)) return null;
  return (
    <div role="status" data-testid="safety-waits-for" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950">
      <p>
        The safety backup waits for backup{" "}
        <Link href={`/backups/${b.id}`} className="font-mono underline">
          {shortId(b.id)}
        </Link>{" "}
        ({b.kind}, {triggerWord(b.trigger)}, {b.phase ?? "starting"}, {formatBytes(b.progressBytes)} so far) to finish: one backup of a database runs at a time.
      </p>
      <p className="mt-1 text-xs">Cancelling it lets the safety backup — itself a full backup of the live database — and the restore go on now.</p>
      {canCancel && (
        <Button
          size="sm"
          variant="secondary"
          className="mt-2"
          disabled={cancel.isPending || !!cancel.data}
          onClick={() =>
            cancel.mutate(b.id, {
              onSuccess: () => toast(`Backup ${shortId(b.id)} cancelled; the safety backup goes on`, "info"),
              onError: (e) => toast(e.message, "error"),
            })
          }
        >
          {cancel.isPending || cancel.data ? "Cancelling…" : `Cancel backup ${shortId(b.id)}`}
        </Button>
      )}
    </div>
  );
}

export function SafetyBackupProgress({ id }: { id: string }) {
  const safety = useBackupQuery(id);
  const b = safety.data;
  const last = useLastSuccessQuery("FULL", !!b && isActive(b.status), b?.target.name);
  if (!b || !isActive(b.status)) return null;
  const waitingFor = typeof b.metadata?.waitingFor === "string" && b.status === "QUEUED" ? b.metadata.waitingFor : null;
  return (
    <div className="flex flex-col gap-2" data-testid="safety-backup-progress">
      <LiveProgress backup={b} estimateBytes={last.data ? last.data.progressBytes || last.data.sizeBytes || null : null} />
      {waitingFor && <Blocking id={waitingFor} />}
    </div>
  );
}
