"use client";
import { useState } from "react";
import type { BackupDto } from "@/lib/validation/backups";
import { Dialog } from "@/components/ui/dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { useToast } from "@/components/ui/toast";
import { useDeleteBackup } from "@/lib/hooks/use-backups";
import { formatBytes, formatDateTimeUtc, shortId } from "@/lib/format";

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

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (!backup || typed !== sid) return;
    try {
      await del.mutateAsync(backup.id);
      toast(`Backup ${sid} deleted`);
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
            The {backup.kind.toLowerCase()} backup from {formatDateTimeUtc(backup.createdAt)} ({formatBytes(backup.sizeBytes)}) and its
            manifest are removed from storage. This cannot be undone.
          </>
        )
      }
    >
      <form id="delete-backup-form" onSubmit={submit} className="flex flex-col gap-3">
        <Field
          label={`Type ${sid} to confirm`}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          autoCapitalize="off"
        />
        {del.isError && (
          <p role="alert" className="text-sm text-red-700">
            {del.error.message}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" disabled={typed !== sid || del.isPending}>
            {del.isPending ? "Deleting…" : "Delete backup"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
