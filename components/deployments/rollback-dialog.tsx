"use client";
// The second confirmation of a rollback: what will happen, then the exact word ROLLBACK.
import { useState } from "react";
import { Dialog } from "@/components/ui/dialog";
import { Button } from "@/components/ui/button";
import { useRollback } from "@/lib/hooks/use-deployments";
import { formatDateTimeUtc, shortId } from "@/lib/format";
import { ROLLBACK_WORD } from "@/lib/validation/deploy";
import type { BackupDto } from "@/lib/validation/backups";

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

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    if (typed !== ROLLBACK_WORD) return;
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
  return (
    <Dialog open={open} onClose={close} title={`Roll back to backup ${shortId(backup.id)}?`} description={`From ${when}.`} testId="rollback-dialog">
      <form onSubmit={submit} className="flex flex-col gap-4 text-sm">
        <ul className="list-disc pl-5 text-slate-700">
          {backup.kind === "FULL" ? (
            <>
              <li>
                The database is replaced with this backup, all or nothing. Everything written since {when} is lost from the live database — but a safety
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
            <li>Only the code is rolled back, to commit {backup.commitSha?.slice(0, 10)}, through the configured {codeHook}. The database is not touched.</li>
          )}
        </ul>
        <div className="flex flex-col gap-1">
          <label htmlFor="rollback-word" className="font-medium text-slate-700">
            Type {ROLLBACK_WORD} to confirm
          </label>
          <input
            id="rollback-word"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            autoComplete="off"
            spellCheck={false}
            className="rounded-md border border-slate-300 px-3 py-2 font-mono shadow-sm"
          />
        </div>
        {rollback.isError && (
          <p role="alert" className="text-red-700">
            {rollback.error.message}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" disabled={typed !== ROLLBACK_WORD || rollback.isPending}>
            {rollback.isPending ? "Starting…" : "Roll back now"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
