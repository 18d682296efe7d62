"use client";
// What a user may do with one backup, by role and by state. The server checks again;
// this only hides what would be refused.
import type { BackupDto } from "@/lib/validation/backups";
import { Button } from "@/components/ui/button";
import { useToast } from "@/components/ui/toast";
import { useCan } from "@/components/user-context";
import { isActive, useCancelBackup, useDrillBackup, useVerifyBackup } from "@/lib/hooks/use-backups";
import { shortId } from "@/lib/format";

export type BackupDialogKind = "restore" | "delete";

export function BackupActions({ backup, onOpen }: { backup: BackupDto; onOpen: (kind: BackupDialogKind, backup: BackupDto) => void }) {
  const toast = useToast();
  const canDownload = useCan("backups.download");
  const canVerify = useCan("backups.verify");
  const canCancel = useCan("backups.cancel");
  const canRestore = useCan("restores.run");
  const canDelete = useCan("backups.delete");
  const verify = useVerifyBackup();
  const drill = useDrillBackup();
  const cancel = useCancelBackup();

  const done = backup.status === "SUCCEEDED";
  const stored = done && !!backup.storageKey;
  const full = backup.kind === "FULL";
  const active = isActive(backup.status);
  const sid = shortId(backup.id);

  const run = (m: typeof verify, ok: string) =>
    m.mutate(backup.id, { onSuccess: () => toast(ok, "info"), onError: (e) => toast(e.message, "error") });

  return (
    <div className="flex items-center justify-end gap-1">
      {canDownload && stored && (
        <a
          href={`/api/backups/${backup.id}/download`}
          className="inline-flex items-center rounded-md px-2.5 py-1 text-xs font-medium text-slate-700 hover:bg-slate-100"
          download
        >
          Download
        </a>
      )}
      {canVerify && stored && (
        <Button size="sm" variant="ghost" disabled={verify.isPending} onClick={() => run(verify, `Verification of ${sid} queued`)}>
          Verify
        </Button>
      )}
      {canVerify && stored && full && (
        <Button
          size="sm"
          variant="ghost"
          disabled={drill.isPending}
          title="Restore into a scratch database and run the checks; production is not touched"
          onClick={() => run(drill, `Restore drill of ${sid} queued`)}
        >
          Drill
        </Button>
      )}
      {canCancel && active && (
        <Button size="sm" variant="secondary" disabled={cancel.isPending} onClick={() => run(cancel, `Cancelling ${sid}`)}>
          Cancel
        </Button>
      )}
      {canRestore && done && full && (
        <Button size="sm" variant="secondary" onClick={() => onOpen("restore", backup)}>
          Restore
        </Button>
      )}
      {canDelete && !active && (
        <Button size="sm" variant="ghost" className="text-red-700 hover:bg-red-50" onClick={() => onOpen("delete", backup)}>
          Delete
        </Button>
      )}
    </div>
  );
}
