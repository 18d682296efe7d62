"use client";
// The second confirmation of a rollback: what will happen, then the exact word ROLLBACK.
import { useState } from "react";
import { Dialog } from "@/components/ui/dialog";
import { useRollback } from "@/lib/hooks/use-deployments";
import { formatDateTimeUtc, shortId } from "@/lib/format";
import { ROLLBACK_WORD } from "@/lib/validation/deploy";
import { TypedConfirm } from "@/components/ui/typed-confirm";
import type { BackupDto } from "@/lib/validation/backups";
import { TargetWhere } from "@/components/targets/target-where";
import { targetOrDefault } from "@/lib/targets-client";

export function RollbackDialog({
  backup,
  codeHook,
  open,
  onClose,
  onStarted,
}: {
  backup: BackupDto;
  codeHook: string | null;
  open: boolean;
  onClose: () => void;
  onStarted: (deploymentId: string) => void;
}) {
  const [typed, setTyped] = useState("");
  const rollback = useRollback();

  function close() {
    setTyped("");
    rollback.reset();
    onClose();
  }

  async function submit() {
    try {
      const r = await rollback.mutateAsync({ backupId: backup.id, confirm: typed });
      setTyped("");
      onStarted(r.deploymentId);
      onClose();
    } catch {
      // Shown below.
    }
  }

  const when = formatDateTimeUtc(backup.completedAt ?? backup.createdAt);
  // A rollback restores the backup's own target.
  const target = targetOrDefault(backup);
  return (
    <Dialog open={open} onClose={close} title={`Roll back to backup ${shortId(backup.id)}?`} description={`Of ${target.name}, from ${when}.`} testId="rollback-dialog">
      <TypedConfirm
        word={ROLLBACK_WORD}
        purpose={backup.kind === "FULL" ? `to replace ${target.name}` : "to confirm"}
        value={typed}
        onChange={setTyped}
        onConfirm={submit}
        onCancel={close}
        pending={rollback.isPending}
        error={rollback.isError ? rollback.error.message : null}
        action="Roll back now"
        pendingAction="Starting…"
        className="flex flex-col gap-4 text-sm"
      >
        <ul className="list-disc pl-5 text-slate-700">
          {backup.kind === "FULL" ? (
            <>
              <li>
                The database of <TargetWhere target={target} /> is replaced with this backup, all or nothing. Everything written since {when} is lost from the live database — but a safety
                backup of it is taken first, so this rollback can itself be undone.
              </li>
              <li>
                {codeHook && backup.commitSha
                  ? `Then the code is rolled back to commit ${backup.commitSha.slice(0, 10)} through the configured ${codeHook}.`
                  : codeHook
                    ? "This backup records no commit, so the code hook will not run."
                    : "No rollback hook is configured, so the code is not rolled back."}
              </li>
            </>
          ) : (
            <li>Only the code is rolled back (the database of <TargetWhere target={target} /> is not touched), to commit {backup.commitSha?.slice(0, 10)}, through the configured {codeHook}.</li>
          )}
        </ul>
      </TypedConfirm>
    </Dialog>
  );
}
