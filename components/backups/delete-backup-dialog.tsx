"use client";
import { useState } from "react";
import type { BackupDto } from "@/lib/validation/backups";
import { Dialog } from "@/components/ui/dialog";
import { TypedConfirm } from "@/components/ui/typed-confirm";
import { useToast } from "@/components/ui/toast";
import { useDeleteBackup } from "@/lib/hooks/use-backups";
import { formatBytes, formatDateTimeUtc, shortId } from "@/lib/format";
import { TargetWhere } from "@/components/targets/target-where";
import { targetOrDefault } from "@/lib/targets-client";

/** Deleting removes the archive from storage for good, so the user types the short id. */
export function DeleteBackupDialog({ backup, onClose, onDeleted }: { backup: BackupDto | null; onClose: () => void; onDeleted?: () => void }) {
  const [typed, setTyped] = useState("");
  const del = useDeleteBackup();
  const toast = useToast();
  const sid = backup ? shortId(backup.id) : "";

  function close() {
    setTyped("");
    del.reset();
    onClose();
  }

  async function submit() {
    if (!backup) return;
    try {
      await del.mutateAsync(backup.id);
      toast(`Backup ${sid} deleted from ${targetOrDefault(backup).name}`);
      close();
      onDeleted?.();
    } catch {
      // Shown in the dialog from del.error.
    }
  }

  return (
    <Dialog
      open={!!backup}
      onClose={close}
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
    >
      <TypedConfirm
        word={sid}
        value={typed}
        onChange={setTyped}
        onConfirm={submit}
        onCancel={close}
        pending={del.isPending}
        error={del.isError ? del.error.message : null}
        action="Delete backup"
        pendingAction="Deleting…"
      />
    </Dialog>
  );
}
