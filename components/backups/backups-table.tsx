"use client";
// The backup history: newest first, one row per attempt, with live progress for queued
// and running jobs. Rows have a fixed height so nothing shifts while progress arrives.
import Link from "next/link";
import type { BackupDto } from "@/lib/validation/backups";
import { Table, THead, Th, Td } from "@/components/ui/table";
import { KindBadge, TriggerBadge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { formatBytes, formatDateTimeUtc, formatDuration, formatRelative, shortHash, shortId } from "@/lib/format";
import { isActive, useLastSuccessQuery } from "@/lib/hooks/use-backups";
import { StatusCell } from "./status-cell";
import { BackupActions, type BackupDialogKind } from "./backup-actions";

export function BackupsTable({ backups, onOpen }: { backups: BackupDto[]; onOpen: (kind: BackupDialogKind, b: BackupDto) => void }) {
  const activeKinds = new Set(backups.filter((b) => isActive(b.status)).map((b) => b.kind));
  const lastFull = useLastSuccessQuery("FULL", activeKinds.has("FULL"));
  const lastQuick = useLastSuccessQuery("QUICK", activeKinds.has("QUICK"));
  // progressBytes counts the plain dump, so the estimate is the last run's final plain
  // byte count; its stored (compressed) size only when that is missing.
  const estimate = (b: BackupDto) => {
    const last = b.kind === "FULL" ? lastFull.data : lastQuick.data;
    return last ? last.progressBytes || last.sizeBytes || null : null;
  };

  return (
    <Table label="Backup history">
      <THead>
        <Th>Backup</Th>
        <Th>Status</Th>
        <Th>Created</Th>
        <Th>Kind</Th>
        <Th>Trigger</Th>
        <Th className="text-right">Size</Th>
        <Th className="text-right">Duration</Th>
        <Th>Initiated by</Th>
        <Th>Checksum</Th>
        <Th>Commit</Th>
        <Th>
          <span className="sr-only">Actions</span>
        </Th>
      </THead>
      <tbody>
        {backups.map((b) => (
          <tr key={b.id} data-backup-id={b.id} className="h-16 border-t border-slate-100 hover:bg-slate-50/60">
            <Td>
              <Link href={`/backups/${b.id}`} className="font-mono text-sm font-medium text-sky-800 underline-offset-2 hover:underline">
                {shortId(b.id)}
              </Link>
              {b.note && (
                <p className="max-w-40 truncate text-xs text-slate-500" title={b.note}>
                  {b.note}
                </p>
              )}
            </Td>
            <Td>
              <StatusCell backup={b} estimateBytes={estimate(b)} />
            </Td>
            <Td>
              <time dateTime={b.createdAt} title={formatDateTimeUtc(b.createdAt)}>
                {formatDateTimeUtc(b.createdAt)}
              </time>
              <p className="text-xs text-slate-500">{formatRelative(b.createdAt)}</p>
            </Td>
            <Td>
              <KindBadge kind={b.kind} />
            </Td>
            <Td>
              <TriggerBadge trigger={b.trigger} />
            </Td>
            <Td className="text-right tabular-nums">{isActive(b.status) ? "—" : formatBytes(b.sizeBytes)}</Td>
            <Td className="text-right tabular-nums">{formatDuration(b.durationSeconds)}</Td>
            <Td>{b.initiatedBy?.displayName ?? "System"}</Td>
            <Td>
              {b.checksumSha256 ? (
                <span className="inline-flex items-center gap-1">
                  <code className="text-xs text-slate-700" title={b.checksumSha256}>
                    {shortHash(b.checksumSha256)}
                  </code>
                  <CopyButton value={b.checksumSha256} label={`Copy checksum of ${shortId(b.id)}`} />
                </span>
              ) : (
                <span className="text-slate-400">—</span>
              )}
            </Td>
            <Td>{b.commitSha ? <code className="text-xs text-slate-700" title={b.commitSha}>{b.commitSha.slice(0, 7)}</code> : <span className="text-slate-400">—</span>}</Td>
            <Td>
              <BackupActions backup={b} onOpen={onOpen} />
            </Td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
