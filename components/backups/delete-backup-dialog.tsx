"use client";
import type { BackupDto } from "@/lib/validation/backups";
import { TypedConfirmDialog } from "@/components/ui/typed-confirm-dialog";
import { useToast } from "@/components/ui/toast";
import { useDeleteBackup } from "@/lib/hooks/use-backups";
import { formatBytes, formatDateTimeUtc, shortId } from "@/lib/format";
import { TargetWhere } from "@/components/targets/target-where";
import { targetOrDefault } from "@/lib/targets-client";

/** Deleting removes the archive from storage for good, so the user types the short id. */
export function DeleteBackupDialog({ backup, onClose, onDeleted }: { backup: BackupDto | null; onClose: () => void; onDeleted?: () => void }) {
  const del = useDeleteBackup();
  const toast = useToast();
  const sid = backup ? shortId(backup.id) : "";
  return (
    <TypedConfirmDialog
      open={!!backup}
      onClose={onClose}
      title={`Delete backup ${sid}?`}
      testId="delete-dialog"
      description={
        backup && (
          <>
            The {backup.kind.toLowerCase()} backup of <TargetWhere target={targetOrDefault(backup)} /> from {formatDateTimeUtc(backup.createdAt)} (
            {formatBytes(backup.sizeBytes)}) and its manifest are removed from storage. This cannot be undone.
          </>
        )
      }
      word={sid}
      purpose="to confirm"
      action="Delete backup"
      pendingAction="Deleting…"
      mutation={{ ...del, mutateAsync: () => del.mutateAsync(backup!.id) }}
      onDone={() => {
        toast(`Backup ${sid} deleted from ${targetOrDefault(backup!).name}`);
        onDeleted?.();
      }}
    />
  );
}
