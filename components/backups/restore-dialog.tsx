"use client";
// The restore modal (DESIGN §5, seed 003): first what will change, then the typed word,
// then live progress of the restore job, ending in the safety backup's link or the reason.
import { useState } from "react";
import Link from "next/link";
import type { BackupDto } from "@/lib/validation/backups";
import { Dialog } from "@/components/ui/dialog";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { StatusBadge } from "@/components/ui/badge";
import { useToast } from "@/components/ui/toast";
import { useRestorePreviewQuery, useStartRestore, isActive, type RestorePreview } from "@/lib/hooks/use-backups";
import { useRestoreQuery } from "@/lib/hooks/use-restores";
import { useNow } from "@/lib/hooks/use-now";
import { elapsedSeconds, formatBytes, formatDateTimeUtc, formatDuration, shortId } from "@/lib/format";
import { END_BLOCKING_AFTER_SECONDS, RESTORE_WORD, SAFETY_BACKUP_PHASE } from "@/lib/validation/restores";
import { TypedConfirm } from "@/components/ui/typed-confirm";
import { DiskBar } from "@/components/ui/disk-bar";
import { TargetWhere } from "@/components/targets/target-where";
import { RestoreLiveProgress } from "@/components/restores/restore-live-progress";
import { SafetyBackupProgress } from "@/components/restores/safety-backup-progress";
import { targetOrDefault, withTarget } from "@/lib/targets-client";

type Names = string[] | undefined;

function ChangeList({ title, items, tone }: { title: string; items: Names; tone: "add" | "drop" | "revert" | "change" }) {
  if (!items?.length) return null;
  const color = tone === "add" ? "text-emerald-800" : tone === "change" ? "text-amber-900" : "text-red-800";
  const sign = tone === "add" ? "+" : tone === "drop" ? "−" : tone === "change" ? "~" : "↶";
  return (
    <div>
      <h4 className="text-sm font-medium text-slate-800">
        {title} <span className="font-normal text-slate-500">({items.length})</span>
      </h4>
      <ul className={`mt-1 max-h-32 overflow-y-auto rounded-md bg-slate-50 px-3 py-2 font-mono text-xs ${color}`}>
        {items.map((x) => (
          <li key={x} className="[overflow-wrap:anywhere]">
            <span aria-hidden>{sign} </span>
            {x}
          </li>
        ))}
      </ul>
    </div>
  );
}

const count = (n: number | null | undefined) => (n === null || n === undefined ? "—" : `~${n.toLocaleString("en-US")}`);

const KIND_LABELS: Record<string, string> = {
  schemas: "Schemas",
  extensions: "Extensions",
  tables: "Tables",
  views: "Views",
  materializedViews: "Materialized views",
  sequences: "Sequences",
  functions: "Functions",
  types: "Types and enum values",
  indexes: "Indexes",
  constraints: "Constraints",
  triggers: "Triggers",
  policies: "Row-level security policies",
  largeObjects: "Large objects",
};

/**
 * Every object kind with a difference, each with what comes back, goes, changes or changes owner.
 * Given away (`reassign`), every object is Vaultline's role's: the backup's owners are not listed (decision 196).
 */
function ObjectGroups({ objects: all, reassign }: { objects: NonNullable<RestorePreview["objects"]>; reassign: boolean }) {
  const objects = reassign ? Object.fromEntries(Object.entries(all).map(([k, o]) => [k, { ...o, ownerChanged: [] }])) : all;
  const kinds = Object.entries(objects).filter(([, o]) => o.added.length + o.dropped.length + o.changed.length + o.ownerChanged.length > 0);
  if (!kinds.length) return <p className="text-sm text-slate-600">{reassign ? "Every object and grant matches the backup." : "Every object, owner and grant matches the backup."}</p>;
  return (
    <div className="flex flex-col gap-2" data-testid="restore-objects">
      {kinds.map(([kind, o]) => (
        <details key={kind} className="rounded-md border border-slate-200 px-3 py-2" open={o.dropped.length > 0}>
          <summary className="cursor-pointer text-sm font-medium text-slate-800">
            {KIND_LABELS[kind] ?? kind}{" "}
            <span className="font-normal text-slate-500">
              {[
                o.added.length && `${o.added.length} back`,
                o.dropped.length && `${o.dropped.length} removed`,
                o.changed.length && `${o.changed.length} changed`,
                o.ownerChanged.length && `${o.ownerChanged.length} owner`,
              ]
                .filter(Boolean)
                .join(" · ")}
            </span>
          </summary>
          <div className="mt-2 grid gap-2 sm:grid-cols-2">
            <ChangeList title="Comes back" items={o.added} tone="add" />
            <ChangeList title="Removed (made after the backup)" items={o.dropped} tone="drop" />
            <ChangeList title="Definition or grants change" items={o.changed} tone="change" />
            <ChangeList title="Owner changes (now → backup)" items={o.ownerChanged} tone="change" />
          </div>
        </details>
      ))}
    </div>
  );
}

function PlanBox({ plan, asCopy }: { plan: NonNullable<RestorePreview["plan"]>; asCopy: boolean }) {
  return (
    <div className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-800" data-testid="restore-plan" data-strategy={asCopy ? "copy" : plan.strategy}>
      {asCopy ? (
        <p>
          <span className="font-medium">Strategy: into a copy beside the live database.</span> A new database on the same server; the live one is not touched.
        </p>
      ) : (
        <p>
          <span className="font-medium">{plan.strategy === "swap" ? "Strategy: beside and swap." : "Strategy: in place."}</span> {plan.strategyReason}
        </p>
      )}
      <p className="mt-1">
        {plan.ownership.canKeep
          ? "Owners and grants are restored as they were in the backup."
          : `Owners and grants cannot be restored as they were: ${plan.ownership.problems.join(" ")}`}
      </p>
      {plan.standby && (
        <p className="mt-1 font-medium text-red-700" data-testid="restore-standby">
          This target&apos;s database is on a standby (read-only): the restore will refuse to run. Restore on the primary.
        </p>
      )}
      {plan.pooled && (
        <p className="mt-1 font-medium text-red-700" data-testid="restore-pooled">
          This target&apos;s URL goes through a connection pooler in transaction mode: the restore will refuse to run. Use the database&apos;s direct URL, or the pooler&apos;s session mode.
        </p>
      )}
      {plan.preparedTransactions && plan.preparedTransactions.length > 0 && (
        <p className="mt-1 font-medium text-red-700" data-testid="restore-prepared">
          {plan.preparedTransactions.length === 1 ? "A transaction prepared" : `${plan.preparedTransactions.length} transactions prepared`} for two-phase commit (
          {plan.preparedTransactions.map((t) => t.gid).join(", ")}) {plan.preparedTransactions.length === 1 ? "holds" : "hold"} this database: the restore will refuse to run until{" "}
          {plan.preparedTransactions.length === 1 ? "it is" : "they are"} committed or rolled back.
        </p>
      )}
      {plan.tempSpace && <TempSpaceLine space={plan.tempSpace} />}
      {plan.serverDisk && <ServerDiskLine disk={plan.serverDisk} strategy={asCopy ? "copy" : plan.strategy} keepHours={plan.keepHours ?? 24} />}
      {plan.filesDisk && <FilesDiskLine disk={plan.filesDisk} />}
      {plan.needsSuperuser && plan.needsSuperuser.objects.length > 0 && (
        <p className="mt-1 font-medium text-red-700" data-testid="restore-needs-superuser">
          Only a superuser may create {plan.needsSuperuser.objects.length === 1 ? "one object" : `${plan.needsSuperuser.objects.length} objects`} in this backup, and{" "}
          {plan.needsSuperuser.user} is not one: the restore will fail and change nothing.
        </p>
      )}
    </div>
  );
}

/** The swap restore's temporary copy of the archive: what it needs beside what the disk has. */
function TempSpaceLine({ space }: { space: NonNullable<NonNullable<RestorePreview["plan"]>["tempSpace"]> }) {
  const short = space.freeBytes !== null && space.freeBytes < space.neededBytes;
  return (
    <p className={`mt-1 ${short ? "font-medium text-red-700" : ""}`} data-testid="restore-temp-space" data-enough={short ? "no" : "yes"}>
      Temporary space in <span className="font-mono text-xs">{space.dir}</span>: {formatBytes(space.neededBytes)} needed,{" "}
      {space.freeBytes === null ? "free space unknown" : `${formatBytes(space.freeBytes)} free`}
      {short ? " — not enough: the restore will refuse to run." : "."}
    </p>
  );
}

type ServerDiskPlan = NonNullable<NonNullable<RestorePreview["plan"]>["serverDisk"]>;

/**
 * The server's disk (lib/backup/server-disk.ts): what the restored copy takes there beside
 * what the disk has, drawn as the disk is — used, the copy, the room the restore leaves, free.
 * A database with relations in other tablespaces gets one bar per disk its copy lands on.
 */
function ServerDiskLine({ disk, strategy, keepHours }: { disk: ServerDiskPlan; strategy: "swap" | "in-place" | "copy"; keepHours: number }) {
  const copyDisks = disk.disks?.filter((d) => d.holds.includes("copy")) ?? [];
  // Restores recorded before the copy was split by tablespace carry the whole copy only.
  const needOn = (d: (typeof copyDisks)[number]) => d.neededBytes ?? disk.neededBytes;
  const shortOn = (d: (typeof copyDisks)[number]) => d.freeBytes - disk.reserveBytes < needOn(d);
  const short = copyDisks.some(shortOn);
  const one = copyDisks.length === 1 ? copyDisks[0] : null;
  const basis = disk.basis === "backup" ? "the database's size when it was backed up" : "the live database's size now; this backup did not record its own";
  const held =
    strategy === "copy"
      ? `until the copy is dropped, ${keepHours} h after it is made`
      : strategy === "swap"
        ? `until the previous database is dropped, ${keepHours} h after the swap`
        : "until the restore's transaction ends";
  const partOf = (d: (typeof copyDisks)[number]) => (d.tablespaces?.length ? `the copy's part in ${d.tablespaces.join(", ")}` : "the copy");
  return (
    <div className="mt-1" data-testid="restore-server-disk" data-enough={copyDisks.length ? (short ? "no" : "yes") : "unknown"}>
      <p className={short ? "font-medium text-red-700" : ""}>
        Server disk{one && <> (<span className="font-mono text-xs">{one.dir}</span>)</>}: the restored copy takes about {formatBytes(disk.neededBytes)} ({basis}), {held}
        {one ? `; ${formatBytes(one.freeBytes)} free of ${formatBytes(one.totalBytes)}.` : copyDisks.length ? `, spread over ${copyDisks.length} disks by tablespace.` : "."}
        {copyDisks.length > 0 &&
          (short ? ` Not enough: the restore stops before less than ${formatBytes(disk.reserveBytes)} would be left, so it will most likely not finish. Free space on the server first.` : ` The restore stops if less than ${formatBytes(disk.reserveBytes)} would be left.`)}
        {!copyDisks.length && ` Vaultline cannot see the server's free space (${disk.unmeasured ?? "not measured"}): check the server has room before you restore.`}
      </p>
      {copyDisks.map((d) => (
        <div key={d.dir} data-testid="restore-server-disk-part" data-enough={shortOn(d) ? "no" : "yes"}>
          {!one && (
            <p className={`mt-1 text-xs ${shortOn(d) ? "font-medium text-red-700" : "text-slate-600"}`}>
              <span className="font-mono">{d.dir}</span> ({d.tablespaces?.length ? `tablespace${d.tablespaces.length > 1 ? "s" : ""} ${d.tablespaces.join(", ")}` : "the copy"}): about {formatBytes(needOn(d))},{" "}
              {formatBytes(d.freeBytes)} free of {formatBytes(d.totalBytes)}
            </p>
          )}
          {d.totalBytes > 0 && <DiskBar totalBytes={d.totalBytes} freeBytes={d.freeBytes} plannedBytes={needOn(d)} plannedLabel={partOf(d)} reserveBytes={disk.reserveBytes} />}
        </div>
      ))}
    </div>
  );
}

type FilesDiskPlan = NonNullable<NonNullable<RestorePreview["plan"]>["filesDisk"]>;

/** FILES_DIR's disk (lib/backup/files-disk.ts): the backup's files land there beside the files there now. */
function FilesDiskLine({ disk }: { disk: FilesDiskPlan }) {
  const short = disk.freeBytes !== null && disk.freeBytes - disk.reserveBytes < disk.neededBytes;
  return (
    <div className="mt-1" data-testid="restore-files-disk" data-enough={disk.freeBytes === null ? "unknown" : short ? "no" : "yes"}>
      <p className={short ? "font-medium text-red-700" : ""}>
        Files (<span className="font-mono text-xs">{disk.dir}</span>): the backup&apos;s files take about {formatBytes(disk.neededBytes)}, beside the files there now until they are all in place
        {disk.freeBytes === null ? "; the disk's free space is unknown." : `; ${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes ?? 0)}.`}
        {short && ` Not enough above the ${formatBytes(disk.reserveBytes)} a restore leaves free: the restore will refuse to run.`}
      </p>
      {disk.freeBytes !== null && !!disk.totalBytes && (
        <DiskBar totalBytes={disk.totalBytes} freeBytes={disk.freeBytes} plannedBytes={disk.neededBytes} plannedLabel="the files" reserveBytes={disk.reserveBytes} />
      )}
    </div>
  );
}

function PreviewBody({ preview, asCopy, reassign }: { preview: RestorePreview; asCopy: boolean; reassign: boolean }) {
  // A copy changes nothing live: it is warned of what concerns the copy only (decision 169).
  const warnings = (asCopy ? preview.copyWarnings : preview.warnings) ?? [];
  const d = preview.differences;
  // Given to Vaultline's role, the database keeps its owner (and its grants, unless kept): the lines for that (decision 196).
  const database = (reassign ? (d.databaseReassigned ?? d.database) : d.database) ?? [];
  const lists = [d.tables.added, d.tables.dropped, d.columns.added, d.columns.dropped, d.columns.changed, d.migrations.reverted, d.migrations.reapplied, database];
  const none = lists.every((l) => !l?.length);
  const rows = Object.entries(preview.rowEstimates ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="flex flex-col gap-3" data-testid="restore-preview">
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
        <dt className="text-slate-500">Taken</dt>
        <dd>{formatDateTimeUtc(preview.backup.completedAt ?? preview.backup.createdAt)}</dd>
        <dt className="text-slate-500">Age</dt>
        <dd>{typeof preview.ageSeconds === "number" ? `${formatDuration(preview.ageSeconds)} old` : "—"}</dd>
        <dt className="text-slate-500">Size</dt>
        <dd>{formatBytes(preview.backup.sizeBytes)}</dd>
        {preview.backup.commitSha && (
          <>
            <dt className="text-slate-500">Commit</dt>
            <dd className="font-mono text-xs">{preview.backup.commitSha.slice(0, 12)}</dd>
          </>
        )}
        {preview.verified && (
          <>
            <dt className="text-slate-500">Archive</dt>
            <dd className={preview.verified.ok ? "text-emerald-800" : "text-red-800"}>
              {preview.verified.ok ? "Checksum and key verified" : `Failed verification: ${preview.verified.reason ?? "unknown reason"}`}
            </dd>
          </>
        )}
      </dl>
      {warnings.length > 0 && (
        <ul className="flex flex-col gap-1 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950" data-testid="restore-warnings">
          {warnings.map((w, i) => (
            <li key={i}>⚠ {w}</li>
          ))}
        </ul>
      )}
      {preview.plan && <PlanBox plan={preview.plan} asCopy={asCopy} />}
      <h3 className="text-sm font-semibold text-slate-900">{asCopy ? "How the copy differs from the live database" : "What the restore changes in the live database"}</h3>
      {reassign && (
        <p className="text-sm text-slate-600" data-testid="restore-reassign-note">
          Owners given to Vaultline&apos;s role (chosen): every restored object will be owned by it, so the backup&apos;s owners are not listed below, and
          the database keeps its owner{preview.plan?.ownership.reassignKeepsGrants === false ? " and its grants" : ""}.
        </p>
      )}
      {preview.objects && <ObjectGroups objects={preview.objects} reassign={reassign} />}
      {none ? (
        <p className="text-sm text-slate-600">No schema or migration differences: the tables, columns, migrations and the database&apos;s own settings and grants match the backup.</p>
      ) : (
        <div className="grid gap-3 sm:grid-cols-2">
          <ChangeList title="Tables that will appear" items={d.tables.added} tone="add" />
          <ChangeList title="Tables that will disappear" items={d.tables.dropped} tone="drop" />
          <ChangeList title="Columns that will appear" items={d.columns.added} tone="add" />
          <ChangeList title="Columns that will disappear" items={d.columns.dropped} tone="drop" />
          <ChangeList title="Columns whose type changes" items={d.columns.changed} tone="change" />
          <ChangeList title="Migrations reverted" items={d.migrations.reverted} tone="revert" />
          <ChangeList title="Migrations reapplied" items={d.migrations.reapplied} tone="add" />
          <ChangeList title="The database's owner, grants, comment and settings" items={database} tone="change" />
        </div>
      )}
      {rows.length > 0 && (
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-700">Rows by table, now and in the backup ({rows.length})</summary>
          <table className="mt-1 w-full text-left font-mono text-xs text-slate-700">
            <thead className="text-slate-500">
              <tr>
                <th className="py-0.5 pr-3 font-medium">Table</th>
                <th className="py-0.5 pr-3 text-right font-medium">Now</th>
                <th className="py-0.5 text-right font-medium">Backup</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([t, r]) => (
                <tr key={t}>
                  <td className="py-0.5 pr-3 [overflow-wrap:anywhere]">{t}</td>
                  <td className="py-0.5 pr-3 text-right tabular-nums">{count(r?.live)}</td>
                  <td className="py-0.5 text-right tabular-nums">{count(r?.backup)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}

function RestoreProgress({ restoreId, safetyBackupId, targetName }: { restoreId: string; safetyBackupId: string | null; targetName: string }) {
  const restore = useRestoreQuery(restoreId);
  const r = restore.data;
  const active = !r || isActive(r.status);
  const now = useNow(1000, active);
  const safety = r?.safetyBackupId ?? safetyBackupId;
  const safetyLink = safety && (
    <Link href={`/backups/${safety}`} className="font-medium underline underline-offset-2">
      safety backup {shortId(safety)}
    </Link>
  );

  if (restore.isError && !r) return <p role="alert" className="text-sm text-red-700">Could not follow the restore: {restore.error.message}</p>;
  return (
    <div className="flex flex-col gap-3" data-testid="restore-progress" data-status={r?.status ?? "QUEUED"}>
      <div className="flex items-center gap-2">
        <StatusBadge status={r?.status ?? "QUEUED"} />
        <span className="text-sm text-slate-600">{r?.phase ?? (active ? "waiting for a worker" : "")}</span>
        {active && <span className="ml-auto text-sm tabular-nums text-slate-500">{formatDuration(elapsedSeconds(r?.startedAt ?? r?.createdAt ?? null, null, now))}</span>}
      </div>
      {active &&
        (r?.phase === SAFETY_BACKUP_PHASE && safety ? <SafetyBackupProgress id={safety} /> : <RestoreLiveProgress progress={r?.progress} activity={r?.activity} strategy={r?.strategy} endBlocking={r?.endBlockingSessions} />)}
      {active && (
        <p className="text-sm text-slate-600">
          The restore runs on the server; closing this window does not stop it. Follow it on the{" "}
          <Link href={withTarget("/restores", targetName)} className="underline">
            Restores
          </Link>{" "}
          page.
        </p>
      )}
      {r?.status === "SUCCEEDED" && r.strategy === "copy" && (
        <p role="status" data-testid="restore-copy-made" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-950">
          The backup was restored into <span className="font-mono text-xs">{r.previousDatabase}</span>
          {r.durationSeconds !== null ? ` in ${formatDuration(r.durationSeconds)}` : ""}, beside the live database of {targetName}, which was not touched. It is kept
          {r.keepUntil ? ` until ${formatDateTimeUtc(r.keepUntil)}` : ""}.{" "}
          <Link href={`/restores/${r.id}`} className="underline">
            Restore details
          </Link>
          {r.warnings.length > 0 && <span className="mt-1 block text-amber-900">⚠ {r.warnings.join(" ")}</span>}
        </p>
      )}
      {r?.status === "SUCCEEDED" && r.strategy !== "copy" && (
        <p role="status" className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-950">
          The database was restored{r.durationSeconds !== null ? ` in ${formatDuration(r.durationSeconds)}` : ""}. The state from before the restore is kept as{" "}
          {safetyLink ?? "a safety backup"}
          {r.canUndo ? " and as the previous database, which Undo swaps back in seconds" : ""}.{" "}
          <Link href={`/restores/${r.id}`} className="underline">
            Restore details
          </Link>
          {r.warnings.length > 0 && <span className="mt-1 block text-amber-900">⚠ {r.warnings.join(" ")}</span>}
        </p>
      )}
      {(r?.status === "FAILED" || r?.status === "CANCELLED") && (
        <div role="alert" className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-950">
          <p className="font-medium">The restore did not complete: {r.failureReason ?? "no reason recorded"}</p>
          {safety && <p className="mt-1">The state from before the attempt is kept as {safetyLink}.</p>}
        </div>
      )}
    </div>
  );
}

/** The roles the server lacks and the backup can make (decision 171): made first, or every object given to Vaultline's role. */
function MissingRolesChoice({
  roles,
  choice,
  onChange,
}: {
  roles: NonNullable<RestorePreview["missingRoles"]>;
  choice: "create" | "reassign";
  onChange: (c: "create" | "reassign") => void;
}) {
  const n = roles.creatable.length;
  return (
    <fieldset className="flex flex-col gap-1 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950" data-testid="restore-missing-roles">
      <legend className="px-1 font-medium">
        {n === 1 ? "A role" : `${n} roles`} the backup needs {n === 1 ? "is" : "are"} not on this server: {roles.creatable.join(", ")}
      </legend>
      <label className="flex items-start gap-2">
        <input type="radio" name="restore-roles" value="create" checked={choice === "create"} onChange={() => onChange("create")} className="mt-1" />
        <span>
          <strong>Create {n === 1 ? "it" : "them"} as the backup recorded {n === 1 ? "it" : "them"}</strong> — attributes, memberships, settings and comment, before
          anything else; dropped again if the restore fails.
          {roles.passwordless.length > 0 && (
            <>
              {" "}
              A backup holds no password: set one for {roles.passwordless.join(", ")} before the application connects.
            </>
          )}
          {roles.needSuperuser.length > 0 && <> Only a superuser may make {roles.needSuperuser.join(", ")}.</>}
        </span>
      </label>
      <label className="flex items-start gap-2">
        <input type="radio" name="restore-roles" value="reassign" checked={choice === "reassign"} onChange={() => onChange("reassign")} className="mt-1" />
        <span>
          <strong>Give every restored object to Vaultline&apos;s database role</strong> instead; the backup&apos;s grants are not restored.
        </span>
      </label>
    </fieldset>
  );
}

export function RestoreDialog({ backup, onClose }: { backup: BackupDto | null; onClose: () => void }) {
  const [typed, setTyped] = useState("");
  const [reassign, setReassign] = useState(false);
  // Roles the server lacks and the backup recorded (decision 171): made first, or every object given to Vaultline's role.
  const [rolesChoice, setRolesChoice] = useState<"create" | "reassign">("create");
  // Tablespaces the server lacks (decision 173): every object in the database's own instead.
  const [defaultTablespace, setDefaultTablespace] = useState(false);
  // In place: end a session that holds a lock the restore waits for, after a grace period (decision 185).
  const [endBlocking, setEndBlocking] = useState(false);
  // Over the live database, or into a copy beside it that leaves the live one alone (decision 169).
  const [into, setInto] = useState<"live" | "copy">("live");
  // A write-only backup's private key, for this restore only: kept in this component's state, sent once.
  const [privateKey, setPrivateKey] = useState("");
  const [keyPassphrase, setKeyPassphrase] = useState("");
  const [started, setStarted] = useState<{ restoreId: string; preRestoreBackupId: string | null } | null>(null);
  const preview = useRestorePreviewQuery(backup?.id ?? "", !!backup && !started);
  const start = useStartRestore(backup?.id ?? "");
  const toast = useToast();
  const sid = backup ? shortId(backup.id) : "";
  // The database this restore replaces: the backup's own target, never the page's selection.
  const target = targetOrDefault(backup);

  function close() {
    setTyped("");
    setReassign(false);
    setRolesChoice("create");
    setDefaultTablespace(false);
    setEndBlocking(false);
    setInto("live");
    setPrivateKey("");
    setKeyPassphrase("");
    setStarted(null);
    start.reset();
    onClose();
  }

  async function submit() {
    if (!backup) return;
    try {
      const res = await start.mutateAsync({
        ownership: reassignChosen ? "reassign" : "keep",
        createRoles: rolesCreatable && rolesChoice === "create",
        defaultTablespace: missingTablespaces.length > 0 && defaultTablespace,
        endBlockingSessions: inPlace && endBlocking,
        into: asCopy ? "copy" : "live",
        decryptionKey: needsKey ? { privateKey, ...(keyPassphrase ? { passphrase: keyPassphrase } : {}) } : undefined,
      });
      setPrivateKey("");
      setKeyPassphrase("");
      setStarted(res);
      toast(asCopy ? `Copy of ${target.name} from ${sid} started` : `Restore of ${target.name} from ${sid} started`, "info");
    } catch {
      // Shown from start.error.
    }
  }

  const mustReassign = preview.data?.plan?.ownership.canKeep === false;
  // Every missing role recorded: the restore can make them, which keeps the owners (decision 171).
  const missingRoles = preview.data?.missingRoles ?? null;
  const rolesCreatable = !!missingRoles && missingRoles.creatable.length > 0 && missingRoles.unknown.length === 0;
  const reassignChosen = rolesCreatable ? rolesChoice === "reassign" : reassign;
  const missingTablespaces = preview.data?.missingTablespaces ?? [];
  // A database that is gone has nothing to be copied beside: its restore creates it.
  const asCopy = into === "copy" && !preview.data?.missingDatabase;
  const needsKey = preview.data?.verified?.needsPrivateKey === true;
  // Only an in-place restore waits for the application's locks; the swap ends the live database's sessions itself.
  const inPlace = !asCopy && preview.data?.plan?.strategy === "in-place";
  const keyLooksRight = privateKey.trim().startsWith("-----BEGIN PGP PRIVATE KEY BLOCK-----");
  // The word alone is not enough: the user must have seen what changes (DESIGN §5).
  // A standby takes no writes, a transaction pooler shares sessions: the restore would refuse anyway.
  // A copy waits on nothing of the live database's: prepared transactions hold no lock it needs.
  const ready =
    preview.isSuccess &&
    preview.data.verified?.ok !== false &&
    !preview.data.plan?.standby &&
    !preview.data.plan?.pooled &&
    // Extensions the server cannot install: the restore would refuse (decision 174).
    !preview.data.unavailableExtensions?.length &&
    !preview.data.unloadedExtensions?.length &&
    !preview.data.untrustedExtensions?.length &&
    (asCopy || !preview.data.plan?.preparedTransactions?.length) &&
    (!mustReassign || rolesCreatable || reassign) &&
    (!missingTablespaces.length || defaultTablespace) &&
    (!needsKey || keyLooksRight);
  const confirmForm = !started && (
    <TypedConfirm
      word={RESTORE_WORD}
      purpose={asCopy ? `to restore a copy beside ${target.name}` : `to replace ${target.name}`}
      value={typed}
      onChange={setTyped}
      onConfirm={submit}
      onCancel={close}
      ready={ready}
      pending={start.isPending}
      error={start.isError ? start.error.message : null}
      action={asCopy ? "Restore as a copy" : "Restore database"}
      pendingAction="Starting…"
    >
      {rolesCreatable && missingRoles && <MissingRolesChoice roles={missingRoles} choice={rolesChoice} onChange={setRolesChoice} />}
      {missingTablespaces.length > 0 && (
        <label className="flex items-start gap-2 text-sm text-amber-950" data-testid="restore-default-tablespace">
          <input type="checkbox" checked={defaultTablespace} onChange={(e) => setDefaultTablespace(e.target.checked)} className="mt-1" />
          <span>
            Place every object in the database&apos;s own tablespace: this server has no {missingTablespaces.join(", ")} (the preview says so). Or create{" "}
            {missingTablespaces.length === 1 ? "it" : "them"} on the server first and restore again.
          </span>
        </label>
      )}
      {inPlace && (
        <label className="flex items-start gap-2 text-sm text-slate-800" data-testid="restore-end-blocking">
          <input type="checkbox" checked={endBlocking} onChange={(e) => setEndBlocking(e.target.checked)} className="mt-1" />
          <span>
            End any session that holds a lock the restore waits for (a report or a console left in a transaction) once it has held it for{" "}
            {END_BLOCKING_AFTER_SECONDS} s, rather than wait for it. Each one is named in the restore&apos;s warnings and the audit log. Otherwise the
            restore waits for it, shows which session it is, and fails after its lock timeout with nothing changed.
          </span>
        </label>
      )}
      {mustReassign && !rolesCreatable && (
        <label className="flex items-start gap-2 text-sm text-amber-950">
          <input type="checkbox" checked={reassign} onChange={(e) => setReassign(e.target.checked)} className="mt-1" />
          <span>
            Give every restored object to Vaultline&apos;s database role instead of its original owner (the preview says why the owners cannot be kept)
            {preview.data?.plan?.ownership.reassignKeepsGrants === false && <>; the backup&apos;s grants are not restored</>}.
          </span>
        </label>
      )}
      {needsKey && (
        <div className="flex flex-col gap-2 rounded-md border border-slate-200 bg-slate-50 p-3" data-testid="private-key-fields">
          <p className="text-sm text-slate-700">
            This backup is write-only: encrypted to a public key, and this server holds no private key. Paste the private key for this restore — it is held
            in memory until the restore ends, never stored or logged.
          </p>
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-800">
            Private key (armored)
            <textarea
              value={privateKey}
              onChange={(e) => setPrivateKey(e.target.value)}
              rows={5}
              spellCheck={false}
              autoComplete="off"
              placeholder="-----BEGIN PGP PRIVATE KEY BLOCK-----"
              className="rounded-md border border-slate-300 px-2 py-1 font-mono text-xs"
              aria-invalid={privateKey !== "" && !keyLooksRight}
            />
          </label>
          {privateKey !== "" && !keyLooksRight && (
            <p role="alert" className="text-sm text-red-700">
              That is not an armored private key: it starts with -----BEGIN PGP PRIVATE KEY BLOCK-----.
            </p>
          )}
          <label className="flex flex-col gap-1 text-sm font-medium text-slate-800">
            Its passphrase (if it has one)
            <input
              type="password"
              value={keyPassphrase}
              onChange={(e) => setKeyPassphrase(e.target.value)}
              autoComplete="off"
              className="rounded-md border border-slate-300 px-2 py-1"
            />
          </label>
        </div>
      )}
    </TypedConfirm>
  );

  return (
    <Dialog open={!!backup} onClose={close} title={`Restore from backup ${sid}`} size="lg" testId="restore-dialog" footer={
        confirmForm || (
          <Button variant="secondary" onClick={close}>
            Close
          </Button>
        )
      }
    >
      {started ? (
        <RestoreProgress restoreId={started.restoreId} safetyBackupId={started.preRestoreBackupId} targetName={target.name} />
      ) : (
        <div className="flex flex-col gap-4">
          {preview.data?.missingDatabase ? (
            // The database is gone (decision 165): nothing is replaced, it is made again.
            <p role="note" data-testid="restore-missing-database" className="rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-950">
              <strong>The database {preview.data.missingDatabase.name} is not on its server.</strong> The restore creates it for <TargetWhere target={target} /> as the
              backup had it, then loads the backup into it — all or nothing. Nothing else on the server is changed.
            </p>
          ) : (
            <>
              <fieldset className="flex flex-col gap-1 text-sm" data-testid="restore-into">
                <legend className="mb-1 font-medium text-slate-800">Restore into</legend>
                <label className="flex items-start gap-2">
                  <input type="radio" name="restore-into" value="live" checked={into === "live"} onChange={() => setInto("live")} className="mt-1" />
                  <span>
                    <strong>The live database</strong>, replacing it
                  </span>
                </label>
                <label className="flex items-start gap-2">
                  <input type="radio" name="restore-into" value="copy" checked={into === "copy"} onChange={() => setInto("copy")} className="mt-1" />
                  <span>
                    <strong>A copy beside it</strong>, leaving the live database as it is — to read back what a migration or a script lost, keeping every write since
                  </span>
                </label>
              </fieldset>
              {asCopy ? (
                <p role="note" data-testid="restore-copy-note" className="rounded-md border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-950">
                  <strong>The backup is restored into a new database beside the live one</strong> of <TargetWhere target={target} />, on the same server, and kept there for{" "}
                  {preview.data?.plan?.keepHours ?? 24} hours; the restore&apos;s page names it. The live database and its files are not touched, so no safety backup is
                  needed. The differences below are between the live database and the copy; none of them is applied to the live database.
                </p>
              ) : (
                <p role="note" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-950">
                  <strong>This replaces the whole live database</strong> of <TargetWhere target={target} /> with the backup — all or nothing. Anything
                  written since the backup was taken is lost from the live database — but first, before anything is touched, Vaultline takes a{" "}
                  <strong>safety backup</strong> of {target.name} as it is now, so this restore can itself be undone.
                </p>
              )}
            </>
          )}
          {preview.isPending ? (
            <div className="flex flex-col gap-2" role="status" aria-label="Loading the restore preview">
              <Skeleton className="h-4 w-1/2" />
              <Skeleton className="h-16 w-full" />
            </div>
          ) : preview.isError ? (
            <div role="alert" data-testid="restore-preview-error" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-950">
              <p>
                <span className="font-medium">Could not prepare the preview:</span> {preview.error.message}
              </p>
              <p className="mt-1">The restore cannot be confirmed without knowing what it changes. Fix the cause, then try again.</p>
              <Button type="button" variant="secondary" className="mt-2" onClick={() => preview.refetch()}>
                Try the preview again
              </Button>
            </div>
          ) : (
            <PreviewBody preview={preview.data} asCopy={asCopy} reassign={reassignChosen} />
          )}
        </div>
      )}
    </Dialog>
  );
}
