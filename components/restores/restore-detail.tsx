"use client";
// One restore: how it ran (strategy, ownership, how long the database was unavailable),
// what it reported, and — while the previous database is kept — Undo restore.
import { useState } from "react";
import Link from "next/link";
import { useDropKept, useKeepKeptLonger, useRestoreQuery, useUndoRestore } from "@/lib/hooks/use-restores";
import { isActive } from "@/lib/hooks/use-backups";
import { RestoreLiveProgress } from "@/components/restores/restore-live-progress";
import { SafetyBackupProgress } from "@/components/restores/safety-backup-progress";
import { StatusBadge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { useToast } from "@/components/ui/toast";
import { formatDateTimeUtc, formatDuration, shortId } from "@/lib/format";
import { DROP_WORD, END_BLOCKING_AFTER_SECONDS, SAFETY_BACKUP_PHASE, UNDO_WORD } from "@/lib/validation/restores";
import { TypedConfirmDialog } from "@/components/ui/typed-confirm-dialog";
import { useCan } from "@/components/user-context";
import { TargetBadge } from "@/components/targets/target-badge";
import { TargetWhere } from "@/components/targets/target-where";
import { targetOf, targetOrDefault, type TargetRefDto } from "@/lib/targets-client";

function UndoDialog({ id, open, onClose, previous, target }: { id: string; open: boolean; onClose: () => void; previous: string; target: TargetRefDto }) {
  const undo = useUndoRestore(id);
  const toast = useToast();
  return (
    <TypedConfirmDialog
      open={open}
      onClose={onClose}
      title="Undo restore"
      testId="undo-dialog"
      word={UNDO_WORD}
      purpose={`to put back the previous database of ${target.name}`}
      action="Undo restore"
      pendingAction="Undoing…"
      mutation={undo}
      onDone={(r) => toast(`Restore of ${target.name} undone: the previous database is back (unavailable for ${r.swapSeconds.toFixed(1)} s)`, "info")}
    >
      <p className="text-sm text-slate-800">
        The database of <TargetWhere target={target} /> as it was before this restore ({previous}) is swapped back in place; the restored one is kept under another name until the same
        deadline. Anything written to the database since the restore stays only in that kept copy. Connections are refused for a few seconds.
      </p>
    </TypedConfirmDialog>
  );
}

/** What a restore keeps beside the live database: its copy, the database before its swap, or (undone) the restored one. */
/** How long to keep it from now (decision 172): the sweep drops it then, not at the restore's own keepUntil. */
const KEEP_CHOICES = [
  { hours: 24, label: "1 more day" },
  { hours: 72, label: "3 more days" },
  { hours: 168, label: "7 more days" },
  { hours: 720, label: "30 more days" },
];

function KeepLonger({ id, database }: { id: string; database: string }) {
  const keep = useKeepKeptLonger(id);
  const [hours, setHours] = useState(KEEP_CHOICES[0].hours);
  return (
    <span className="mt-1 flex flex-wrap items-center gap-2 font-sans text-xs" data-testid="restore-keep-longer">
      <label className="flex items-center gap-1 text-slate-600">
        Keep {database} for
        <select value={hours} onChange={(e) => setHours(Number(e.target.value))} className="rounded border border-slate-300 px-1 py-0.5" aria-label="Keep it for">
          {KEEP_CHOICES.map((c) => (
            <option key={c.hours} value={c.hours}>
              {c.label}
            </option>
          ))}
        </select>
      </label>
      <Button variant="secondary" onClick={() => keep.mutate(hours)} disabled={keep.isPending}>
        {keep.isPending ? "Keeping…" : "Keep longer"}
      </Button>
      {keep.isSuccess && <span role="status" className="text-emerald-800">Kept until {formatDateTimeUtc(keep.data.keepUntil)}.</span>}
      {keep.isError && (
        <span role="alert" className="text-red-700">
          {keep.error.message}
        </span>
      )}
    </span>
  );
}

type KeptKind = "copy" | "previous" | "undone";
const KEPT_ACTION: Record<KeptKind, string> = { copy: "Drop the copy now", previous: "Drop the previous database now", undone: "Drop the restored copy now" };

/** Drops the kept database now (decision 170): a copy, or a swap's previous database, which ends Undo. */
function DropKeptDialog({
  id,
  open,
  onClose,
  database,
  kind,
  target,
  files,
}: {
  id: string;
  open: boolean;
  onClose: () => void;
  database: string;
  kind: KeptKind;
  target: TargetRefDto;
  /** Where a copy's files were put beside the live ones (decision 192). */
  files: string | null;
}) {
  const drop = useDropKept(id);
  const toast = useToast();
  return (
    <TypedConfirmDialog
      open={open}
      onClose={onClose}
      title={KEPT_ACTION[kind]}
      testId="drop-kept-dialog"
      word={DROP_WORD}
      purpose={`to drop ${database}`}
      action="Drop it"
      pendingAction="Dropping…"
      mutation={drop}
      onDone={() => toast(`${database} dropped`, "info")}
    >
      <p className="text-sm text-slate-800">
        <span className="font-mono text-xs">{database}</span> is dropped from the server of <TargetWhere target={target} /> now instead of when its time is up, and its disk is given
        back.{" "}
        {kind === "copy"
          ? `Read back what you need from it first: nothing of it is kept${files ? `, nor the backup's files the restore put beside the live ones (${files}), which are removed with it` : ""}. The live database and its files are not touched.`
          : kind === "undone"
            ? "It is the database this restore made, kept since the undo; the live database is not touched."
            : "This restore can then no longer be undone: the database as it was before the restore is gone, except in the restore's safety backup."}
      </p>
    </TypedConfirmDialog>
  );
}

export function RestoreDetail({ id }: { id: string }) {
  const q = useRestoreQuery(id);
  const [undoOpen, setUndoOpen] = useState(false);
  const [dropOpen, setDropOpen] = useState(false);
  const mayUndo = useCan("restores.run");
  if (q.isPending) return <Skeleton className="h-40 w-full" />;
  if (q.isError) return <p role="alert" className="text-sm text-red-700">{q.error.message}</p>;
  const r = q.data;
  const kept: KeptKind = r.strategy === "copy" ? "copy" : r.undoneAt ? "undone" : "previous";
  return (
    <div className="flex max-w-3xl flex-col gap-4" data-testid="restore-detail">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="text-xl font-semibold text-slate-900">Restore {shortId(r.id)}</h1>
        <StatusBadge status={r.status} />
        <div className="ml-auto flex gap-2">
          {r.previousDatabase && !r.previousDroppedAt && !isActive(r.status) && mayUndo && (
            <Button variant="secondary" onClick={() => setDropOpen(true)}>
              {KEPT_ACTION[kept]}
            </Button>
          )}
          {r.canUndo && mayUndo && (
            <Button variant="danger" onClick={() => setUndoOpen(true)}>
              Undo restore
            </Button>
          )}
        </div>
      </div>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        {targetOf(r) && (
          <>
            <dt className="text-slate-500">Target</dt>
            <dd>
              <TargetBadge target={targetOf(r)} />
            </dd>
          </>
        )}
        <dt className="text-slate-500">Backup</dt>
        <dd>
          <Link href={`/backups/${r.backupId}`} className="font-mono underline">
            {shortId(r.backupId)}
          </Link>
        </dd>
        <dt className="text-slate-500">Safety backup</dt>
        <dd>
          {r.safetyBackupId ? (
            <Link href={`/backups/${r.safetyBackupId}`} className="font-mono underline">
              {shortId(r.safetyBackupId)}
            </Link>
          ) : r.strategy === "copy" ? (
            "None: a copy leaves the live database as it was"
          ) : (
            "—"
          )}
        </dd>
        <dt className="text-slate-500">Started</dt>
        <dd>{r.startedAt ? formatDateTimeUtc(r.startedAt) : "—"}</dd>
        <dt className="text-slate-500">Took</dt>
        <dd>{r.durationSeconds !== null ? formatDuration(r.durationSeconds) : "—"}</dd>
        <dt className="text-slate-500">Strategy</dt>
        <dd>{r.strategy === "swap" ? "Beside and swap" : r.strategy === "in-place" ? "In place, one transaction" : r.strategy === "copy" ? "Into a copy beside the live database" : "—"}</dd>
        {r.swapSeconds !== null && (
          <>
            <dt className="text-slate-500">Unavailable</dt>
            <dd>{r.swapSeconds.toFixed(2)} s while the databases were swapped</dd>
          </>
        )}
        {r.defaultTablespace && (
          <>
            <dt className="text-slate-500">Tablespaces</dt>
            <dd>Every object in the database&apos;s own (chosen: the server lacked the backup&apos;s)</dd>
          </>
        )}
        {r.endBlockingSessions && (
          <>
            <dt className="text-slate-500">Blocking sessions</dt>
            <dd data-testid="restore-end-blocking">Ended after {END_BLOCKING_AFTER_SECONDS} s (chosen); each one is named under the warnings</dd>
          </>
        )}
        <dt className="text-slate-500">Owners</dt>
        <dd>{r.ownership === "reassign" ? "Given to Vaultline's role (chosen)" : r.createRoles ? "As in the backup; the roles the server lacked made as it recorded them" : "As in the backup"}</dd>
        {r.previousDatabase && r.strategy === "copy" && (
          <>
            <dt className="text-slate-500">Copy</dt>
            <dd data-testid="restore-copy-database">
              <span className="font-mono text-xs">{r.previousDatabase}</span>{" "}
              <span className="text-slate-500">
                {r.previousDroppedAt ? `(dropped ${formatDateTimeUtc(r.previousDroppedAt)})` : r.keepUntil ? `(kept until ${formatDateTimeUtc(r.keepUntil)}, then dropped)` : ""}
              </span>
              {!r.previousDroppedAt && (
                <span className="mt-1 block text-xs text-slate-600">
                  On the live database&apos;s server: connect as to the live database, with this database name, and read back what you need.
                </span>
              )}
              {!r.previousDroppedAt && !isActive(r.status) && mayUndo && <KeepLonger id={r.id} database={r.previousDatabase} />}
            </dd>
          </>
        )}
        {r.copyFilesPath && r.strategy === "copy" && (
          <>
            <dt className="text-slate-500">Copy&apos;s files</dt>
            <dd data-testid="restore-copy-files">
              <span className="font-mono text-xs break-all">{r.copyFilesPath}</span>{" "}
              <span className="text-slate-500">{r.previousDroppedAt ? `(removed with the copy ${formatDateTimeUtc(r.previousDroppedAt)})` : "(removed with the copy)"}</span>
              {!r.previousDroppedAt && (
                <span className="mt-1 block text-xs text-slate-600">
                  On Vaultline&apos;s host, beside the live files: the backup&apos;s files as they were, for the copy&apos;s rows. The live files are as they were.
                </span>
              )}
            </dd>
          </>
        )}
        {r.previousDatabase && r.strategy !== "copy" && (
          <>
            <dt className="text-slate-500">{r.undoneAt ? "Restored copy kept as" : "Previous database"}</dt>
            <dd className="font-mono text-xs">
              {r.previousDatabase}{" "}
              <span className="font-sans text-slate-500">
                {r.previousDroppedAt ? `(dropped ${formatDateTimeUtc(r.previousDroppedAt)})` : r.keepUntil ? `(kept until ${formatDateTimeUtc(r.keepUntil)})` : ""}
              </span>
              {!r.previousDroppedAt && !isActive(r.status) && mayUndo && <KeepLonger id={r.id} database={r.previousDatabase} />}
            </dd>
          </>
        )}
        {r.undoneAt && (
          <>
            <dt className="text-slate-500">Undone</dt>
            <dd>{formatDateTimeUtc(r.undoneAt)}</dd>
          </>
        )}
      </dl>
      {isActive(r.status) && (
        <div className="flex flex-col gap-2 rounded-md border border-slate-200 px-3 py-2" data-testid="restore-running">
          <p className="text-sm text-slate-700">{r.phase ?? "waiting for a worker"}</p>
          {r.phase === SAFETY_BACKUP_PHASE && r.safetyBackupId ? (
            <SafetyBackupProgress id={r.safetyBackupId} />
          ) : (
            <RestoreLiveProgress progress={r.progress} activity={r.activity} strategy={r.strategy} endBlocking={r.endBlockingSessions} />
          )}
        </div>
      )}
      {r.failureReason && (
        <p role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-950 [overflow-wrap:anywhere]">
          {r.failureReason}
        </p>
      )}
      {r.warnings.length > 0 && (
        <ul className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950">
          {r.warnings.map((w) => (
            <li key={w}>⚠ {w}</li>
          ))}
        </ul>
      )}
      {r.previousDatabase && (
        <DropKeptDialog id={r.id} open={dropOpen} onClose={() => setDropOpen(false)} database={r.previousDatabase} kind={kept} target={targetOrDefault(r)} files={r.copyFilesPath} />
      )}
      {r.previousDatabase && <UndoDialog id={r.id} open={undoOpen} onClose={() => setUndoOpen(false)} previous={r.previousDatabase} target={targetOrDefault(r)} />}
    </div>
  );
}
