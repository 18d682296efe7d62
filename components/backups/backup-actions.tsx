"use client";
// What a user may do with one backup, by role and by state. The server checks again;
// this only hides what would be refused. The one consequential action (Restore, or
// Cancel while running) is a button; the rest sit in a menu to keep rows narrow.
import type { BackupDto } from "@/lib/validation/backups";
import { Button } from "@/components/ui/button";
import { Menu, MenuItem, MenuLink } from "@/components/ui/menu";
import { useToast } from "@/components/ui/toast";
import { useCan } from "@/components/user-context";
import { isActive, useCancelBackup, useDrillBackup, useVerifyBackup } from "@/lib/hooks/use-backups";
import { shortId } from "@/lib/format";

export type BackupDialogKind = "restore" | "delete";

export function BackupActions({ backup, onOpen, inline = false }: { backup: BackupDto; onOpen: (kind: BackupDialogKind, backup: BackupDto) => void; inline?: boolean }) {
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

  const secondary = [
    canDownload && stored && { key: "download", label: "Download", href: `/api/backups/${backup.id}/download` },
    canVerify && stored && { key: "verify", label: "Verify checksum", onSelect: () => run(verify, `Verification of ${sid} queued`) },
    canVerify && stored && full && { key: "drill", label: "Restore drill", onSelect: () => run(drill, `Restore drill of ${sid} queued`) },
    canDelete && !active && { key: "delete", label: "Delete…", danger: true, onSelect: () => onOpen("delete", backup) },
  ].filter(Boolean) as { key: string; label: string; href?: string; danger?: boolean; onSelect?: () => void }[];

  return (
    <div className="flex flex-wrap items-center justify-end gap-1">
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
      {inline
        ? secondary.map((a) =>
            a.href ? (
              <a key={a.key} href={a.href} download className="inline-flex items-center rounded-md border border-slate-300 bg-white px-2.5 py-1 text-xs font-medium text-slate-800 hover:bg-slate-100">
                {a.label}
              </a>
            ) : (
              <Button key={a.key} size="sm" variant={a.danger ? "danger" : "secondary"} onClick={a.onSelect}>
                {a.label.replace("…", "")}
              </Button>
            ),
          )
        : secondary.length > 0 && (
            <Menu label={`More actions for ${sid}`}>
              {secondary.map((a) =>
                a.href ? (
                  <MenuLink key={a.key} href={a.href} download>
                    {a.label}
                  </MenuLink>
                ) : (
                  <MenuItem key={a.key} onSelect={a.onSelect!} danger={a.danger}>
                    {a.label}
                  </MenuItem>
                ),
              )}
            </Menu>
          )}
    </div>
  );
}
