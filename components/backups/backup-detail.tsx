"use client";
// /backups/[id]: every field of one backup, its manifest, checksums, verification and
// drill results, and the phase log. Polls while the backup is queued or running.
import { useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { isActive, useBackupQuery, useLastSuccessQuery, type BackupDetail } from "@/lib/hooks/use-backups";
import { KindBadge, StatusBadge, TriggerBadge } from "@/components/ui/badge";
import { CopyButton } from "@/components/ui/copy-button";
import { Skeleton } from "@/components/ui/skeleton";
import { EmptyState, ErrorState } from "@/components/ui/empty-state";
import { formatBytes, formatClockUtc, formatDateTimeUtc, formatDuration, formatRelative, shortId } from "@/lib/format";
import { LiveProgress } from "./status-cell";
import { BackupLocks } from "./backup-locks";
import { BackupActions, type BackupDialogKind } from "./backup-actions";
import { RestoreDialog } from "./restore-dialog";
import { DeleteBackupDialog } from "./delete-backup-dialog";
import { TargetBadge } from "@/components/targets/target-badge";
import { targetOf, withTarget } from "@/lib/targets-client";
import { HttpError } from "@/lib/hooks/api";
import type { BackupTombstone } from "@/lib/backup/related";
import { FilesChangedNote } from "./files-changed-note";
import { triggerWord } from "@/lib/validation/backups";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-0.5 border-t border-slate-100 py-2 sm:grid-cols-[12rem_1fr] sm:gap-4">
      <dt className="text-sm text-slate-500">{label}</dt>
      <dd className="min-w-0 text-sm [overflow-wrap:anywhere]">{children ?? <span className="text-slate-400">—</span>}</dd>
    </div>
  );
}

function Hash({ value, label }: { value: string | null | undefined; label: string }) {
  if (!value) return <span className="text-slate-400">—</span>;
  return (
    <span className="inline-flex max-w-full items-start gap-1">
      <code className="break-all font-mono text-xs">{value}</code>
      <CopyButton value={value} label={`Copy ${label}`} />
    </span>
  );
}

function Card({ title, children, id }: { title: string; children: React.ReactNode; id?: string }) {
  return (
    <section aria-labelledby={id} className="rounded-lg border border-slate-200 bg-white px-4 py-3">
      <h2 id={id} className="mb-1 text-base font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

function JsonBlock({ value }: { value: unknown }) {
  return <pre className="max-h-[32rem] overflow-auto rounded-md bg-slate-900 p-3 text-xs leading-relaxed text-slate-100">{JSON.stringify(value, null, 2)}</pre>;
}

/** verify / drill results as the worker records them under metadata; shape varies by version. */
function ResultCard({ title, value }: { title: string; value: unknown }) {
  if (!isObj(value)) return null;
  const status = typeof value.status === "string" ? value.status : typeof value.ok === "boolean" ? (value.ok ? "PASSED" : "FAILED") : null;
  const at = (value.at ?? value.completedAt ?? value.finishedAt) as string | undefined;
  const tone = status && /pass|succeed|ok/i.test(status) ? "text-emerald-800" : status ? "text-red-800" : "text-slate-700";
  return (
    <Card title={title}>
      <dl>
        {status && (
          <Row label="Result">
            <span className={`font-medium ${tone}`}>{status}</span>
          </Row>
        )}
        {at && <Row label="At">{formatDateTimeUtc(at)}</Row>}
        {typeof value.durationSeconds === "number" && <Row label="Duration">{formatDuration(value.durationSeconds)}</Row>}
        {typeof (value.reason ?? value.error ?? value.failureReason) === "string" && (
          <Row label="Reason">{String(value.reason ?? value.error ?? value.failureReason)}</Row>
        )}
        {Array.isArray(value.tables) && value.tables.length > 0 && (
          <Row label="Tables">
            {`${value.tables.filter((t) => isObj(t) && t.ok).length} of ${value.tables.length} match the backup's ${value.compared === "checksums" ? "row counts and checksums" : "row counts"}`}
          </Row>
        )}
        {typeof value.recoverySeconds === "number" && <Row label="Recovery time">{formatDuration(value.recoverySeconds)} (download, decrypt, restore)</Row>}
        {typeof value.note === "string" && <Row label="Note">{value.note}</Row>}
      </dl>
      <details className="mt-2">
        <summary className="cursor-pointer text-sm text-slate-600">All details</summary>
        <JsonBlock value={value} />
      </details>
    </Card>
  );
}

function PhaseLog({ phases }: { phases: unknown }) {
  if (!Array.isArray(phases) || phases.length === 0) return null;
  const list = phases.filter(isObj) as { phase?: string; at?: string }[];
  return (
    <Card title="Phase log" id="phases-heading">
      <ol className="relative ml-2 border-l border-slate-200 py-1">
        {list.map((p, i) => {
          const next = list[i + 1]?.at;
          const took = p.at && next ? (new Date(next).getTime() - new Date(p.at).getTime()) / 1000 : null;
          return (
            <li key={i} className="mb-2 ml-4 text-sm last:mb-0">
              <span aria-hidden className="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border-2 border-white bg-sky-600" />
              <span className="font-medium">{p.phase ?? "?"}</span>
              <span className="ml-2 text-slate-500">
                {p.at && <time dateTime={p.at}>{formatClockUtc(p.at)}</time>}
                {took !== null && ` · ${formatDuration(took)}`}
              </span>
            </li>
          );
        })}
      </ol>
    </Card>
  );
}

function Manifest({ manifest }: { manifest: unknown }) {
  if (!isObj(manifest)) {
    return (
      <Card title="Manifest" id="manifest-heading">
        <p className="text-sm text-slate-500">No manifest is stored for this backup (it did not complete, or it was removed).</p>
      </Card>
    );
  }
  if (typeof manifest.error === "string" && manifest.formatVersion === undefined) {
    return (
      <Card title="Manifest" id="manifest-heading">
        <p role="alert" className="text-sm text-red-800 [overflow-wrap:anywhere]">
          Could not read the manifest from storage: {manifest.error}
        </p>
      </Card>
    );
  }
  const parts = Array.isArray(manifest.parts) ? (manifest.parts.filter(isObj) as Obj[]) : [];
  const db = isObj(manifest.database) ? manifest.database : null;
  const enc = isObj(manifest.encryption) ? manifest.encryption : null;
  const migrations = Array.isArray(manifest.prismaMigrations) ? (manifest.prismaMigrations as Obj[]) : null;
  const rows = isObj(manifest.tableRowEstimates) ? Object.entries(manifest.tableRowEstimates) : [];
  return (
    <Card title="Manifest" id="manifest-heading">
      <dl>
        {db && (
          <Row label="Database">{`${String(db.name)} on ${String(db.host)} (PostgreSQL ${String(db.serverVersion)})${typeof db.dumpedFrom === "string" ? `, dumped from ${db.dumpedFrom}` : ""}`}</Row>
        )}
        {typeof manifest.pgDumpVersion === "string" && <Row label="pg_dump">{manifest.pgDumpVersion}</Row>}
        {enc && <Row label="Encryption">{typeof enc.keyId === "string" ? `${String(enc.algorithm)}, key ${enc.keyId}` : String(enc.algorithm)}</Row>}
        {typeof manifest.schemaHash === "string" && (
          <Row label="Schema hash">
            <Hash value={manifest.schemaHash} label="schema hash" />
          </Row>
        )}
        {typeof manifest.appVersion === "string" && <Row label="Vaultline version">{manifest.appVersion}</Row>}
        {migrations && <Row label="Migrations">{`${migrations.length} recorded in _prisma_migrations`}</Row>}
      </dl>
      {parts.length > 0 && (
        <div className="relative mt-3 overflow-x-auto">
          <h3 className="mb-1 text-sm font-medium">Parts and checksums</h3>
          <table className="w-full min-w-max text-left text-xs">
            <thead className="text-slate-500">
              <tr>
                <th className="py-1 pr-3 font-medium">Part</th>
                <th className="py-1 pr-3 font-medium">Stored</th>
                <th className="py-1 pr-3 font-medium">Plain</th>
                <th className="py-1 pr-3 font-medium">SHA-256 (stored, encrypted)</th>
                <th className="py-1 font-medium">SHA-256 (plain)</th>
              </tr>
            </thead>
            <tbody>
              {parts.map((p) => (
                <tr key={String(p.name)} className="border-t border-slate-100 align-top">
                  <td className="py-1 pr-3 font-medium">{String(p.name)}</td>
                  <td className="py-1 pr-3 tabular-nums">{formatBytes(Number(p.sizeBytes))}</td>
                  <td className="py-1 pr-3 tabular-nums">{formatBytes(Number(p.plainSizeBytes))}</td>
                  <td className="py-1 pr-3">
                    <Hash value={String(p.sha256)} label={`stored checksum of ${String(p.name)}`} />
                  </td>
                  <td className="py-1">
                    <Hash value={String(p.plainSha256)} label={`plain checksum of ${String(p.name)}`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <FilesChangedNote part={parts.find((p) => p.name === "files")} />
        </div>
      )}
      {rows.length > 0 && (
        <details className="mt-3">
          <summary className="cursor-pointer text-sm text-slate-700">Estimated rows by table ({rows.length})</summary>
          <ul className="mt-1 grid gap-x-6 font-mono text-xs text-slate-700 sm:grid-cols-2">
            {rows.map(([t, n]) => (
              <li key={t}>
                {t}: ~{Number(n).toLocaleString("en-US")}
              </li>
            ))}
          </ul>
        </details>
      )}
      {migrations && migrations.length > 0 && (
        <details className="mt-2">
          <summary className="cursor-pointer text-sm text-slate-700">Migrations ({migrations.length})</summary>
          <ul className="mt-1 font-mono text-xs text-slate-700">
            {migrations.map((m, i) => (
              <li key={i}>
                {String(m.migration_name)}
                {m.rolled_back_at ? " (rolled back)" : !m.finished_at ? " (failed)" : ""}
              </li>
            ))}
          </ul>
        </details>
      )}
      <details className="mt-2">
        <summary className="cursor-pointer text-sm text-slate-700">manifest.json</summary>
        <JsonBlock value={manifest} />
      </details>
    </Card>
  );
}

function Fields({ b }: { b: BackupDetail }) {
  return (
    <Card title="Backup" id="fields-heading">
      <dl>
        <Row label="Id">
          <Hash value={b.id} label="backup id" />
        </Row>
        {targetOf(b) && (
          <Row label="Target">
            <TargetBadge target={targetOf(b)} />
          </Row>
        )}
        <Row label="Status">
          <StatusBadge status={b.status} />
        </Row>
        {b.failureReason && <Row label="Failure reason"><span className="text-red-800">{b.failureReason}</span></Row>}
        <Row label="Kind">
          <KindBadge kind={b.kind} />
        </Row>
        <Row label="Trigger">
          <TriggerBadge trigger={b.trigger} />
        </Row>
        <Row label="Initiated by">{b.initiatedBy ? `${b.initiatedBy.displayName} (${b.initiatedBy.email})` : "System"}</Row>
        <Row label="Note">{b.note}</Row>
        <Row label="Created">{`${formatDateTimeUtc(b.createdAt)} · ${formatRelative(b.createdAt)}`}</Row>
        <Row label="Started">{b.startedAt && formatDateTimeUtc(b.startedAt)}</Row>
        <Row label="Completed">{b.completedAt && formatDateTimeUtc(b.completedAt)}</Row>
        <Row label="Duration">{b.durationSeconds !== null ? formatDuration(b.durationSeconds) : null}</Row>
        <Row label="Size">{b.sizeBytes !== null ? `${formatBytes(b.sizeBytes)} (${b.sizeBytes.toLocaleString("en-US")} bytes)` : null}</Row>
        <Row label="Checksum (SHA-256)">
          <Hash value={b.checksumSha256} label="checksum" />
        </Row>
        <Row label="Encrypted">{b.encrypted ? "Yes (OpenPGP AES-256)" : b.kind === "QUICK" ? "No data stored (its manifest alone, plain JSON)" : "No"}</Row>
        <Row label="Commit">{b.commitSha && <Hash value={b.commitSha} label="commit" />}</Row>
        <Row label="Storage key">{b.storageKey && <code className="break-all font-mono text-xs">{b.storageKey}</code>}</Row>
        <Row label="Verification">
          {b.verifyStatus ? (
            <span className={b.verifyStatus === "PASSED" ? "text-emerald-800" : "text-red-800"}>
              {b.verifyStatus === "PASSED" ? "Passed" : "Failed"}
              {b.verifiedAt && ` · ${formatDateTimeUtc(b.verifiedAt)}`}
            </span>
          ) : (
            "Not verified yet"
          )}
        </Row>
        {(b.attempt > 1 || b.retryOfId) && (
          <Row label="Attempt">
            {b.attempt}
            {b.retryOfId && (
              <>
                {" "}
                · retry of{" "}
                <Link href={`/backups/${b.retryOfId}`} className="font-mono underline">
                  {shortId(b.retryOfId)}
                </Link>
              </>
            )}
          </Row>
        )}
      </dl>
    </Card>
  );
}

/** A removed backup: when, by whom, and by which retention rule — from the audit log. */
function Tombstone({ id, tombstone: t }: { id: string; tombstone: BackupTombstone | null }) {
  if (!t) {
    return (
      <>
        <h1 className="text-2xl font-semibold">
          Backup <span className="font-mono">{shortId(id)}</span>
        </h1>
        <EmptyState title="This backup does not exist">
          No backup with the id <code className="break-all font-mono">{id}</code> is in the catalogue, and the audit log records no delete or prune of it: check the id.
        </EmptyState>
      </>
    );
  }
  return (
    <section data-testid="backup-tombstone" aria-labelledby="tombstone-heading" className="rounded-lg border border-slate-300 bg-slate-50 px-4 py-3">
      <h1 id="tombstone-heading" className="text-xl font-semibold">
        Backup <span className="font-mono">{shortId(id)}</span> was {t.how === "pruned" ? "pruned by the retention policy" : "deleted"}
      </h1>
      <dl className="mt-2">
        <Row label="Removed">{`${formatDateTimeUtc(t.at)} · ${formatRelative(t.at)}${t.by ? ` · by ${t.by}` : ""}`}</Row>
        {t.how === "pruned" && <Row label="Rule">{t.reason ?? "not recorded"}</Row>}
        <Row label="Was">{[t.kind, t.trigger && triggerWord(t.trigger), t.status?.toLowerCase()].filter(Boolean).join(" · ") || null}</Row>
        <Row label="Created">{t.createdAt && formatDateTimeUtc(t.createdAt)}</Row>
        <Row label="Size">{t.sizeBytes !== null ? formatBytes(t.sizeBytes) : null}</Row>
        <Row label="Id">
          <Hash value={id} label="backup id" />
        </Row>
      </dl>
      <p className="mt-2 text-sm text-slate-600">
        Its archive and manifest are gone from storage. The{" "}
        <Link href={`/audit?action=${t.how === "pruned" ? "retention.pruned" : "backup.deleted"}`} className="underline">
          audit log
        </Link>{" "}
        keeps the record.
      </p>
    </section>
  );
}

/** A PRE_RESTORE backup names its restore; a cancelled, empty one says why it never ran. */
function SafetyFor({ b }: { b: BackupDetail }) {
  const s = b.safetyFor!;
  const refused = b.status === "CANCELLED" && s.restoreStatus === "FAILED";
  return (
    <section
      data-testid="safety-for"
      aria-label="What this safety backup was for"
      className={`rounded-lg border px-4 py-3 text-sm [overflow-wrap:anywhere] ${b.status === "CANCELLED" ? "border-amber-300 bg-amber-50 text-amber-950" : "border-slate-200 bg-white"}`}
    >
      <p className="font-medium">
        Safety backup for restore <span className="font-mono">{shortId(s.restoreId)}</span> of backup{" "}
        <Link href={`/backups/${s.backupId}`} className="font-mono underline">
          {shortId(s.backupId)}
        </Link>{" "}
        ({formatDateTimeUtc(s.at)}).
      </p>
      {b.status === "CANCELLED" ? (
        <p className="mt-1">
          {refused
            ? "It is empty: it did not run because the restore was refused before the database was touched, so there was nothing to protect."
            : `It is empty: it did not run because the restore ${s.restoreStatus === "CANCELLED" ? "was cancelled" : "did not go ahead"}.`}
          {s.restoreFailureReason && (
            <>
              {" "}
              The restore’s reason: <span className="text-red-800">{s.restoreFailureReason}</span>
            </>
          )}
        </p>
      ) : (
        <p className="mt-1 text-slate-600">Restoring it undoes that restore.</p>
      )}
      <p className="mt-1">
        <Link href={withTarget("/restores", targetOf(b)?.name)} className="underline">
          Restore history
        </Link>
      </p>
    </section>
  );
}

const KNOWN_META = new Set(["phases", "verify", "verification", "drill", "locks"]);

export function BackupDetailView({ id }: { id: string }) {
  const backup = useBackupQuery(id);
  const running = !!backup.data && isActive(backup.data.status);
  const target = targetOf(backup.data);
  const last = useLastSuccessQuery(backup.data?.kind ?? "FULL", running, target?.name);
  const router = useRouter();
  const [dialog, setDialog] = useState<BackupDialogKind | null>(null);

  if (backup.isPending) {
    return (
      <div className="flex max-w-5xl flex-col gap-4" role="status" aria-label="Loading backup">
        <Skeleton className="h-8 w-64" />
        <Skeleton className="h-96 w-full" />
      </div>
    );
  }
  if (backup.isError) {
    return (
      <div className="flex max-w-5xl flex-col gap-4">
        <Link href="/backups" className="text-sm text-slate-600 underline">
          ← All backups
        </Link>
        {backup.error instanceof HttpError && backup.error.status === 404 ? (
          <Tombstone id={id} tombstone={(backup.error.details as { tombstone?: BackupTombstone } | undefined)?.tombstone ?? null} />
        ) : (
          <ErrorState title="Could not load the backup" error={backup.error} onRetry={() => backup.refetch()} />
        )}
      </div>
    );
  }
  const b = backup.data;
  const meta = isObj(b.metadata) ? b.metadata : {};
  const otherMeta = Object.fromEntries(Object.entries(meta).filter(([k]) => !KNOWN_META.has(k)));
  return (
    <div className="flex min-w-0 max-w-5xl flex-col gap-4">
      <Link href={withTarget("/backups", target?.name)} className="text-sm text-slate-600 underline">
        ← All backups{target ? ` of ${target.name}` : ""}
      </Link>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold">
          Backup <span className="font-mono">{shortId(b.id)}</span> <StatusBadge status={b.status} />
        </h1>
        <BackupActions backup={b} onOpen={(k) => setDialog(k)} inline />
      </div>
      {isActive(b.status) && (
        <div className="flex max-w-md items-center rounded-lg border border-sky-200 bg-sky-50 px-4 py-3">
          <LiveProgress backup={b} estimateBytes={last.data ? last.data.progressBytes || last.data.sizeBytes || null : null} />
        </div>
      )}
      <BackupLocks locks={b.locks} running={isActive(b.status)} />
      {b.safetyFor && <SafetyFor b={b} />}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-2">
        <div className="flex min-w-0 flex-col gap-4">
          <Fields b={b} />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <PhaseLog phases={meta.phases} />
          <ResultCard title="Verification" value={meta.verify ?? meta.verification} />
          <ResultCard title="Restore drill" value={meta.drill} />
          {Object.keys(otherMeta).length > 0 && (
            <Card title="Other metadata">
              <JsonBlock value={otherMeta} />
            </Card>
          )}
        </div>
      </div>
      <Manifest manifest={b.manifest} />
      <RestoreDialog backup={dialog === "restore" ? b : null} onClose={() => setDialog(null)} />
      <DeleteBackupDialog backup={dialog === "delete" ? b : null} onClose={() => setDialog(null)} onDeleted={() => router.push(withTarget("/backups", target?.name))} />
    </div>
  );
}

