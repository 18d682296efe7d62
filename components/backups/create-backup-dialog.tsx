"use client";
// "Back up now" (seed 002): QUICK records the commit and schema in seconds; FULL dumps the
// database, and the uploads directory too when asked.
import { useState } from "react";
import { Dialog } from "@/components/ui/dialog";
import { Button } from "@/components/ui/button";
import { useToast } from "@/components/ui/toast";
import { useCreateBackup } from "@/lib/hooks/use-backups";
import { shortId } from "@/lib/format";
import type { BackupKind } from "@/lib/validation/backups";
import { useTarget } from "@/lib/hooks/use-target-list";
import { DEFAULT_TARGET_NAME, targetParam } from "@/lib/targets-client";

const KINDS: { kind: BackupKind; title: string; hint: string }[] = [
  { kind: "FULL", title: "Full backup", hint: "The whole database (pg_dump), encrypted. Use before risky changes." },
  { kind: "QUICK", title: "Quick backup", hint: "Commit and schema state only, no data. Takes seconds; for routine deploys." },
];

export const queuedToastKey = (id: string) => `backup-queued:${id}`;

/** `target`: the name of the target to back up (the page's selection); `default` when absent. */
export function CreateBackupDialog({ open, onClose, target = DEFAULT_TARGET_NAME }: { open: boolean; onClose: () => void; target?: string }) {
  const info = useTarget(target);
  const [kind, setKind] = useState<BackupKind>("FULL");
  const [note, setNote] = useState("");
  const [includeFiles, setIncludeFiles] = useState(false);
  const [commit, setCommit] = useState("");
  const create = useCreateBackup();
  const toast = useToast();

  function close() {
    create.reset();
    onClose();
  }

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    try {
      const res = await create.mutateAsync({
        ...targetParam(target),
        kind,
        note: note.trim() || undefined,
        includeFiles: kind === "FULL" ? includeFiles : undefined,
        commitSha: kind === "QUICK" && commit.trim() ? commit.trim() : undefined,
      });
      // Taken down by the history once this backup has finished (backups-view.tsx).
      toast(`${kind === "FULL" ? "Full" : "Quick"} backup ${shortId(res.id)} of ${target} queued`, "success", { key: queuedToastKey(res.id) });
      setNote("");
      setIncludeFiles(false);
      setCommit("");
      close();
    } catch {
      // Shown below from create.error.
    }
  }

  return (
    <Dialog
      open={open}
      onClose={close}
      title={`Back up now: ${target}`}
      description={
        <>
          Backs up <strong>{target}</strong>
          {info ? ` (${info.environment}: ${info.database} on ${info.host})` : ""}. The backup runs in the background; its progress shows in the history.
        </>
      }
      testId="create-backup-dialog"
    >
      <form onSubmit={submit} className="flex flex-col gap-4">
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-sm font-medium text-slate-700">Kind</legend>
          {KINDS.map((k) => (
            <label
              key={k.kind}
              className={`flex cursor-pointer gap-3 rounded-lg border p-3 text-sm ${kind === k.kind ? "border-sky-600 bg-sky-50" : "border-slate-200 hover:bg-slate-50"}`}
            >
              <input type="radio" name="kind" value={k.kind} checked={kind === k.kind} onChange={() => setKind(k.kind)} className="mt-0.5 accent-sky-700" />
              <span>
                <span className="font-medium">{k.title}</span>
                <span className="block text-slate-600">{k.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        {kind === "QUICK" && (
          <div className="flex flex-col gap-1">
            <label htmlFor="backup-commit" className="text-sm font-medium text-slate-700">
              Commit <span className="font-normal text-slate-500">(optional when one is configured)</span>
            </label>
            <input
              id="backup-commit"
              value={commit}
              onChange={(e) => setCommit(e.target.value)}
              placeholder="e.g. 3f2c9a1"
              spellCheck={false}
              autoComplete="off"
              aria-describedby="backup-commit-hint"
              className="rounded-md border border-slate-300 px-3 py-2 font-mono text-sm shadow-sm"
            />
            <p id="backup-commit-hint" className="text-xs text-slate-500">
              A quick backup records only this commit. Empty: the server uses APP_COMMIT_SHA, or the git checkout in APP_REPO_DIR, and refuses when neither is set.
            </p>
          </div>
        )}
        <div className="flex flex-col gap-1">
          <label htmlFor="backup-note" className="text-sm font-medium text-slate-700">
            Note <span className="font-normal text-slate-500">(optional)</span>
          </label>
          <textarea
            id="backup-note"
            value={note}
            onChange={(e) => setNote(e.target.value)}
            maxLength={500}
            rows={2}
            placeholder="Before the pricing migration"
            className="rounded-md border border-slate-300 px-3 py-2 text-sm shadow-sm"
          />
        </div>
        <label className={`flex items-start gap-2 text-sm ${kind === "FULL" ? "" : "text-slate-400"}`}>
          <input
            type="checkbox"
            checked={kind === "FULL" && includeFiles}
            disabled={kind !== "FULL"}
            onChange={(e) => setIncludeFiles(e.target.checked)}
            className="mt-0.5 accent-sky-700"
          />
          <span>
            Include files
            <span className="block text-slate-500">Bundle the uploads directory with the database, taken in the same run.</span>
          </span>
        </label>
        {create.isError && (
          <p role="alert" className="text-sm text-red-700">
            {create.error.message}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="secondary" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" disabled={create.isPending}>
            {create.isPending ? "Starting…" : "Start backup"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
