"use client";
// The backup history: newest first, one row per attempt, with live progress for queued
// and running jobs. Rows have a fixed height so nothing shifts while progress arrives,
// and related facts share a cell so the table fits a laptop screen without scrolling. Below
// the md breakpoint the same rows are stacked cards, so phones never scroll sideways.
import Link from "next/link";
import type { BackupDto } from "@/lib/validation/backups";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { KindBadge, TriggerBadge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { formatBytes, formatDateTimeUtc, formatDuration, formatRelative, shortHash, shortId } from "@/lib/format";
import { isActive, useLastSuccessQuery } from "@/lib/hooks/use-backups";
import { StatusCell } from "./status-cell";
import { BackupActions, type BackupDialogKind } from "./backup-actions";
import { NoteText } from "./note-text";
import { TargetBadge } from "@/components/targets/target-badge";
import { targetOf } from "@/lib/targets-client";

export function BackupsTable({ backups, onOpen, target }: { backups: BackupDto[]; onOpen: (kind: BackupDialogKind, b: BackupDto) => void; target?: string }) {
  const activeKinds = new Set(backups.filter((b) => isActive(b.status)).map((b) => b.kind));
  const lastFull = useLastSuccessQuery("FULL", activeKinds.has("FULL"), target);
  const lastQuick = useLastSuccessQuery("QUICK", activeKinds.has("QUICK"), target);
  // progressBytes counts the plain dump, so the estimate is the last run's final plain
  // byte count; its stored (compressed) size only when that is missing.
  const estimate = (b: BackupDto) => {
    const last = b.kind === "FULL" ? lastFull.data : lastQuick.data;
    return last ? last.progressBytes || last.sizeBytes || null : null;
  };

  return (
    <>
    <div className="hidden md:block">
    <Table label="Backup history">
      <THead>
        <Th>Backup</Th>
        <Th>Status</Th>
        <Th>Target</Th>
        <Th>
          Created <span className="normal-case">(UTC)</span> · by
        </Th>
        <Th>Kind · trigger</Th>
        <Th className="text-right">Size · duration</Th>
        <Th>Checksum · commit</Th>
        <Th>
          <span className="sr-only">Actions</span>
        </Th>
      </THead>
      <tbody>
        {backups.map((b) => {
          const active = isActive(b.status);
          const by = b.initiatedBy?.displayName ?? "System";
          return (
            <tr key={b.id} data-backup-id={b.id} className="h-16 border-t border-slate-100 hover:bg-slate-50/60">
              <Td>
                <Link href={`/backups/${b.id}`} className="font-mono text-sm font-medium text-sky-800 underline-offset-2 hover:underline" aria-label={`Backup ${shortId(b.id)}`}>
                  {shortId(b.id)}
                </Link>
                <NoteText note={b.note} className="max-w-[9rem]" />
              </Td>
              <Td>
                <StatusCell backup={b} estimateBytes={estimate(b)} />
              </Td>
              <Td>
                <TargetBadge target={targetOf(b)} className="max-w-[9rem] flex-col items-start" />
              </Td>
              <Td>
                <time dateTime={b.createdAt} title={formatRelative(b.createdAt)}>
                  {formatDateTimeUtc(b.createdAt).replace(" UTC", "")}
                </time>
                <p className="max-w-[11rem] truncate text-xs text-slate-500" title={`${by} · ${formatRelative(b.createdAt)}`}>
                  {by} · {formatRelative(b.createdAt)}
                </p>
              </Td>
              <Td>
                <div className="flex flex-col items-start gap-1">
                  <KindBadge kind={b.kind} />
                  <TriggerBadge trigger={b.trigger} />
                </div>
              </Td>
              <Td className="text-right tabular-nums">
                <div>{active ? "—" : formatBytes(b.sizeBytes)}</div>
                <div className="text-xs text-slate-500">{formatDuration(b.durationSeconds)}</div>
              </Td>
              <Td>
                {b.checksumSha256 ? (
                  <span className="inline-flex items-center gap-0.5">
                    <code className="text-xs text-slate-700" title={b.checksumSha256}>
                      {shortHash(b.checksumSha256)}
                    </code>
                    <CopyButton value={b.checksumSha256} label={`Copy checksum of ${shortId(b.id)}`} />
                  </span>
                ) : (
                  <span className="text-xs text-slate-400">no checksum</span>
                )}
                <p className="text-xs text-slate-500">
                  {b.commitSha ? (
                    <code title={b.commitSha}>commit {b.commitSha.slice(0, 7)}</code>
                  ) : (
                    <span className="text-slate-400">no commit</span>
                  )}
                </p>
              </Td>
              <Td>
                <BackupActions backup={b} onOpen={onOpen} />
              </Td>
            </tr>
          );
        })}
      </tbody>
    </Table>
    </div>
    <ul aria-label="Backup history" className="flex flex-col gap-2 md:hidden" data-testid="backup-cards">
      {backups.map((b) => (
        <BackupCard key={b.id} b={b} estimate={estimate(b)} onOpen={onOpen} />
      ))}
    </ul>
    </>
  );
}

function BackupCard({ b, estimate, onOpen }: { b: BackupDto; estimate: number | null; onOpen: (kind: BackupDialogKind, b: BackupDto) => void }) {
  const active = isActive(b.status);
  return (
    <li data-backup-card-id={b.id} className="flex min-w-0 flex-col gap-2 rounded-lg border border-slate-200 bg-white p-3 text-sm">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <Link href={`/backups/${b.id}`} className="font-mono font-medium text-sky-800 underline underline-offset-2" aria-label={`Backup ${shortId(b.id)}`}>
          {shortId(b.id)}
        </Link>
        <span className="flex flex-wrap gap-1">
          <TargetBadge target={targetOf(b)} />
          <KindBadge kind={b.kind} />
          <TriggerBadge trigger={b.trigger} />
        </span>
      </div>
      <StatusCell backup={b} estimateBytes={estimate} />
      <p className="text-xs text-slate-600">
        <time dateTime={b.createdAt}>{formatDateTimeUtc(b.createdAt)}</time> · {formatRelative(b.createdAt)} · {b.initiatedBy?.displayName ?? "System"}
      </p>
      <p className="text-xs text-slate-600 tabular-nums">
        {active ? "—" : formatBytes(b.sizeBytes)} · {formatDuration(b.durationSeconds)}
        {b.commitSha ? ` · commit ${b.commitSha.slice(0, 7)}` : ""}
      </p>
      <NoteText note={b.note} />
      <BackupActions backup={b} onOpen={onOpen} />
    </li>
  );
}
