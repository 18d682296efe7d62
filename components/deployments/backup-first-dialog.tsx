"use client";
// Seed 002's "Create a backup first?": Quick (code only, seconds) or Full (code + database).
// It is a PRE_DEPLOY backup of the commit typed into the Deploy field (the server falls
// back to the configured commit). The backup is started at once and watched until it
// ends; when it succeeds the gate is asked again, and Deploy enables.
import { useEffect, useState } from "react";
import { Dialog } from "@/components/ui/dialog";
import { Button } from "@/components/ui/button";
import { Progress } from "@/components/ui/progress";
import { useToast } from "@/components/ui/toast";
import { useBackupStatusQuery, useCreatePreDeployBackup, deployKeys } from "@/lib/hooks/use-deployments";
import { useQueryClient } from "@tanstack/react-query";
import { formatBytes, formatMinutes, shortId } from "@/lib/format";
import type { BackupKind } from "@/lib/validation/backups";
import { DEFAULT_TARGET_NAME } from "@/lib/targets-client";

const CHOICES: { kind: BackupKind; title: string; what: string; time: string }[] = [
  { kind: "QUICK", title: "Quick backup", what: "Code only: the running commit and the schema state, no data.", time: "Takes seconds. For routine deploys." },
  { kind: "FULL", title: "Full backup", what: "Code + database: the commit and a full pg_dump, encrypted.", time: "Takes longer (seconds to minutes). For schema changes and risky deploys." },
];

export function BackupFirstDialog({
  open,
  onClose,
  commitSha,
  maxAgeMinutes,
  target,
}: {
  /** The target to back up (the page's selection); absent = default. */
  target?: string;
  open: boolean;
  onClose: () => void;
  /** The commit about to be deployed, when the Deploy field holds a valid one. */
  commitSha: string | null;
  maxAgeMinutes: number;
}) {
  const [jobId, setJobId] = useState<string | null>(null);
  const create = useCreatePreDeployBackup();
  const status = useBackupStatusQuery(jobId);
  const qc = useQueryClient();
  const toast = useToast();
  const s = status.data?.status;

  useEffect(() => {
    if (s === "SUCCEEDED") {
      void qc.invalidateQueries({ queryKey: deployKeys.all });
      toast(`Backup ${shortId(jobId!)} done: Deploy is enabled once the gate agrees`);
    }
  }, [s, jobId, qc, toast]);

  function close() {
    if (s === "SUCCEEDED" || !jobId) {
      setJobId(null);
      create.reset();
    }
    onClose();
  }

  async function start(kind: BackupKind) {
    try {
      const r = await create.mutateAsync({ kind, commitSha: commitSha ?? undefined, target });
      setJobId(r.id);
    } catch {
      // Shown below from create.error.
    }
  }

  const running = !!jobId && (s === undefined || s === "QUEUED" || s === "RUNNING");
  return (
    <Dialog
      open={open}
      onClose={close}
      title="Create a backup first?"
      description={`A deploy needs a successful backup of ${target ?? DEFAULT_TARGET_NAME} from the last ${formatMinutes(maxAgeMinutes)}, so that it can be rolled back. ${
        commitSha ? `This backup records commit ${commitSha.slice(0, 10)}, the one you are about to deploy.` : "Type the commit to deploy first, or the configured commit (APP_COMMIT_SHA / APP_REPO_DIR) is recorded."
      }`}
      testId="backup-first-dialog"
    >
      {!jobId ? (
        <div className="flex flex-col gap-3">
          <div className="grid gap-3 sm:grid-cols-2">
            {CHOICES.map((c) => (
              <button
                key={c.kind}
                type="button"
                disabled={create.isPending}
                onClick={() => start(c.kind)}
                className="flex flex-col gap-1 rounded-lg border border-slate-200 p-4 text-left text-sm hover:border-sky-600 hover:bg-sky-50 disabled:opacity-60"
              >
                <span className="text-base font-medium">{c.title}</span>
                <span className="text-slate-700">{c.what}</span>
                <span className="text-slate-500">{c.time}</span>
              </button>
            ))}
          </div>
          {create.isError && (
            <p role="alert" className="text-sm text-red-700">
              {create.error.message}
            </p>
          )}
        </div>
      ) : (
        <div className="flex flex-col gap-3 text-sm" data-testid="backup-first-progress">
          <p>
            Backup <span className="font-mono">{shortId(jobId)}</span>:{" "}
            <span className="font-medium">
              {s === "SUCCEEDED" ? "done" : s === "FAILED" ? "failed" : s === "CANCELLED" ? "cancelled" : (status.data?.phase ?? "queued")}
            </span>
            {status.data && status.data.progressBytes > 0 && <span className="text-slate-500"> · {formatBytes(status.data.progressBytes)}</span>}
          </p>
          {running && <Progress value={null} label="Backup progress" />}
          {s === "SUCCEEDED" && (
            <p role="status" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-emerald-900">
              The backup succeeded. Close this and deploy.
            </p>
          )}
          {(s === "FAILED" || s === "CANCELLED") && (
            <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900">
              {status.data?.failureReason ?? "The backup did not finish."} Try again, or see the Backups page.
            </p>
          )}
          {status.isError && (
            <p role="alert" className="text-red-700">
              {status.error.message}
            </p>
          )}
          <div className="flex justify-end gap-2">
            {(s === "FAILED" || s === "CANCELLED") && (
              <Button variant="secondary" onClick={() => setJobId(null)}>
                Try again
              </Button>
            )}
            <Button variant={s === "SUCCEEDED" ? "primary" : "secondary"} onClick={close}>
              {running ? "Close (it keeps running)" : "Close"}
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
