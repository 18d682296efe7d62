// A restore, end to end (DESIGN §5): verify every stored part → refuse on any doubt with the
// database untouched → plan (strategy, ownership) → PRE_RESTORE safety backup → apply:
// "beside and swap" (swap.ts: parallel pg_restore into a fresh database, checked, renamed
// into place, the previous one kept for Undo) or in place in one transaction
// (apply-archive.ts) → files part swapped in → Vaultline's own catalogue and credentials
// put right → checks → the RestoreJob recorded in the database and in storage. Once the
// database was replaced, a later step that fails is a warning on a SUCCEEDED restore.
import type { BackupContext } from "./context";
import type { ManifestPart } from "./manifest";
import { checkStoredParts, readManifest } from "./verify";
import { createDecryptStream } from "./crypto";
import { decryptionKeyFor, type PrivateKey } from "./keyring";
import { forgetPrivateKey, heldPrivateKey, holdPrivateKey } from "./held-keys";
import { createDecompressor } from "./compression";
import { createHashingStream } from "./hashing";
import { explainPartFailure, plainMismatch } from "./part-check";
import { parseToolVersion, spawnPgRestore, type RestoreOutcome } from "./dump";
import { checkRowCounts, type RowCheck } from "./row-counts";
import { toolVersionLine } from "./tool-path";
import { removeOrphanSpools, restoreSpoolPrefix } from "./restore-spool";
import { measureTempSpace, spoolBytes, tempSpaceProblem } from "./temp-space";
import { progressColumns, type LiveProgress } from "./live-progress";
import { DEFAULT_DISK_RESERVE_BYTES, diskWatch, type ServerDiskPlan } from "./server-disk";
import { createMissingDatabase, databaseShape, dropCreatedDatabase, findMissingDatabase, missingDatabaseWords, readHeadOf } from "./missing-database";
import { createMissingRoles, dropCreatedRoles, findMissingRoles } from "./roles";
import { findMissingTablespaces, missingTablespacesWords } from "./tablespaces";
import { findUnavailableExtensions, findUnloadedExtensions, findUntrustedExtensions, unavailableExtensionsWords, unloadedExtensionsWords, untrustedExtensionsWords } from "./unavailable-extensions";
import { leftOutWith, leftOutWords, madeInCopy, pinnedAmong, pinnedElsewhereWords, PinnedExtensionLeaver, readPinnedExtensions } from "./pinned-extensions";
import { diskCheckInterval, reserveCheck } from "./disk-reserve";
import { filesDiskProblem, planFilesDisk } from "./files-disk";
import { END_BLOCKING_AFTER_SECONDS, watchServerActivity, type ActivitySample, type ActivityWatch, type EndBlockers, type RestoreActivity } from "./server-activity";
import { describeWaits, endedSessionWords } from "../restore-activity-text";
import { Prisma } from "../generated/prisma/client";
import { applyArchive, isDeadlock } from "./apply-archive";
import { recoverFilesSwaps, swapInFiles } from "./files-swap";
import { runBackup, humanReason } from "./run-backup";
import { fitRestoreJobs, FULL_BACKUP_SESSIONS, isTooManyConnections, RESTORE_SESSIONS_BESIDE_JOBS, ROOM_ADVICE, withConnectionRoom } from "./connection-room";
import { flushAuditMirror } from "./mirror";
import { reconcileFromStorage, restoreRowData, writeRestoreRecord, type RestoreRecord } from "./reconcile";
import { destructiveKeys, DESTRUCTIVE_NAME, LOCK_DESTRUCTIVE, tryDestructiveLock, waitDestructiveLock, waitLock, type HeldLock } from "./locks";
import { contextForTarget, contextForTargetId, DEFAULT_TARGET_ID } from "./targets";
import { buildPreview, diffSchemas } from "./preview";
import { excludedSchemas, prismaSchema, schemaSnapshot } from "./introspect";
import { poolerProblem } from "./pooler";
import { ownApplicationName } from "./pg-url";
import { pinnedTarget } from "./pinned-host";
import { copyFilesSettingName, extractFilesCopy, filesCopyDirFor, filesCopyDiskProblem, removeCopyFiles, removeFilesCopy, removePartialFilesCopy } from "./files-copy";
import { slotsAfterRestore } from "./replication-slots";
import { ExtensionVersionPinner, extensionVersionNote, versionPins, type ExtensionVersionPlan } from "./extension-versions";
import { handBackSubscriptionSlots, registerSubscribedTables, subscriptionNotes } from "./subscriptions";
import { catalogBesideRecord, diffCatalogs, manifestCatalog, type CatalogSnapshot } from "./catalog-snapshot";
import { chooseStrategy, copyProblems, CREDENTIAL_TABLES, inPlacePrologue, keptCredentialsEpilogue, multirangeOwnersSql, ownershipPlan, probeTarget, roleNeeds, keepsPrivileges, reapplyKeptCredentials, repairPartitionedIndexes, setMultirangeOwners, lockTableHint, preparedProblem, standbyProblem, type Ownership, type TargetCapabilities } from "./restore-plan";
import { giveDatabaseState, readDatabaseState, stateEpilogue } from "./database-state";
import { withClient } from "./pg-client";
import { allowConnections, carryDatabaseSettings, copyName, createFreshDatabase, databaseOf, databasesExist, detachSubscriptions, dropDatabase, onServer, swapDatabases, swapNames, withDatabase } from "./swap";
import { canUndo } from "./restores-catalog";
import { holdAutovacuum, type AutovacuumHold } from "./autovacuum-hold";
import { emitEngineEvent } from "./events";
import { runChecks } from "./checks";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES, wakeLocalWorkers } from "../queue";
import { componentLogger } from "../log";
import { DROP_WORD, RESTORE_WORD, SAFETY_BACKUP_PHASE, UNDO_WORD } from "../validation/restores";
import { migrate } from "../migrate";
import { ACTIVE_JOB_STATUSES } from "../validation/backups";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { pipeline as pipelineOf } from "node:stream";

const log = componentLogger("restore");

export const RESTORE_STALE_AFTER_MS = 2 * 60_000;

type RestoreRow = Awaited<ReturnType<BackupContext["db"]["restoreJob"]["findUniqueOrThrow"]>>;

/** The row as stored beside the backups (times as ISO strings). */
function toRecord(r: RestoreRow): RestoreRecord {
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    id: r.id,
    targetId: r.targetId,
    backupId: r.backupId,
    safetyBackupId: r.safetyBackupId,
    status: r.status,
    phase: r.phase,
    initiatedById: r.initiatedById,
    startedAt: iso(r.startedAt),
    completedAt: iso(r.completedAt),
    durationSeconds: r.durationSeconds,
    failureReason: r.failureReason,
    preview: r.preview,
    checks: r.checks,
    createdAt: r.createdAt.toISOString(),
    strategy: r.strategy,
    ownership: r.ownership,
    createRoles: r.createRoles,
    defaultTablespace: r.defaultTablespace,
    endBlockingSessions: r.endBlockingSessions,
    previousDatabase: r.previousDatabase,
    copyFilesPath: r.copyFilesPath,
    keepUntil: iso(r.keepUntil),
    previousDroppedAt: iso(r.previousDroppedAt),
    undoneAt: iso(r.undoneAt),
    swapSeconds: r.swapSeconds,
    warnings: r.warnings,
  };
}

/**
 * Validates the request and queues the restore with its safety backup row. Answers 422
 * without the exact word, 409 while another destructive operation is active.
 */
type RestoreRequest = {
  confirm: unknown;
  initiatedById?: string | null;
  reason?: "restore" | "rollback";
  ownership?: Ownership;
  /** Make the roles the backup needs and the server lacks, as it recorded them (decision 171); with ownership "keep" only. */
  createRoles?: boolean;
  /** "default": every object in the database's own tablespace, not the backup's (decision 173). */
  tablespaces?: "as-recorded" | "default";
  /** End the sessions that hold a lock the restore waits for, after END_BLOCKING_AFTER_SECONDS (decision 185). */
  endBlockingSessions?: boolean;
  privateKey?: PrivateKey;
};

export async function startRestore(appCtx: BackupContext, backupId: string, actor: Actor, opts: RestoreRequest): Promise<{ restoreId: string; preRestoreBackupId: string }> {
  const { restoreId, preRestoreBackupId } = await queueRestore(appCtx, backupId, actor, opts, { copy: false });
  return { restoreId, preRestoreBackupId: preRestoreBackupId! };
}

/**
 * A restore into a copy beside the live database (decision 169): the backup is restored into
 * a database of its own on the target's server, checked as a swap's copy is, and kept there
 * for RESTORE_KEEP_PREVIOUS_HOURS; the live database is never touched, so no safety backup is
 * taken. For the night a migration dropped one column: its rows are read back from the copy
 * while every write since stays.
 */
export async function startCopyRestore(appCtx: BackupContext, backupId: string, actor: Actor, opts: Omit<RestoreRequest, "reason">): Promise<{ restoreId: string; preRestoreBackupId: null }> {
  const { restoreId } = await queueRestore(appCtx, backupId, actor, opts, { copy: true });
  return { restoreId, preRestoreBackupId: null };
}

async function queueRestore(
  appCtx: BackupContext,
  backupId: string,
  actor: Actor,
  opts: RestoreRequest,
  how: { copy: boolean },
): Promise<{ restoreId: string; preRestoreBackupId: string | null }> {
  if (opts.confirm !== RESTORE_WORD) {
    throw new ApiError("CONFIRMATION_REQUIRED", `Type ${RESTORE_WORD} (exactly) to confirm the restore`, { expected: RESTORE_WORD });
  }
  if (opts.createRoles && opts.ownership === "reassign") {
    throw new ApiError("VALIDATION_FAILED", 'createRoles makes the roles the backup\'s objects are given to; with ownership "reassign" every object is given to Vaultline\'s role instead');
  }
  if (opts.endBlockingSessions && how.copy) {
    throw new ApiError("VALIDATION_FAILED", "endBlockingSessions ends sessions that hold a lock a restore over the live database waits for; a restore into a copy waits for none");
  }
  const backup = await appCtx.db.backupJob.findUnique({ where: { id: backupId } });
  if (!backup) throw notFound("Backup");
  // A backup restores into its own target only: the restore, its safety backup and its
  // lock are that target's.
  const ctx = await contextForTargetId(appCtx, backup.targetId);
  const targetId = backup.targetId;
  if (backup.status !== "SUCCEEDED") throw new ApiError("CONFLICT", "Only a successful backup can be restored");
  if (backup.kind !== "FULL") throw new ApiError("CONFLICT", "A QUICK backup holds no data to restore");
  const hasFiles = ((backup.metadata as { parts?: { name: string }[] })?.parts ?? []).some((p) => p.name === "files");

  const { restore, safety } = await ctx.db.$transaction(async (tx) => {
    // Serialises concurrent requests: only one may see "no active restore" and insert.
    // The same key every destructive operation holds: a running restore, undo, delete or
    // pruning answers 409 at once instead of making this request wait for it.
    // Per target: a restore of another target neither blocks nor is blocked by this one.
    const [a, b] = destructiveKeys(targetId);
    const got = await tx.$queryRaw<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${a}::int, ${b}::int) AS ok`;
    if (!got[0]?.ok) throw new ApiError("OPERATION_IN_PROGRESS", `Another restore, undo, delete or pruning of ${ctx.target?.name ?? DEFAULT_TARGET_ID} is running; wait for it to finish`);
    const active = await tx.restoreJob.count({ where: { status: { in: [...ACTIVE_JOB_STATUSES] }, targetId } });
    if (active > 0) throw new ApiError("OPERATION_IN_PROGRESS", `Another restore of ${ctx.target?.name ?? DEFAULT_TARGET_ID} is in progress; wait for it to finish`);
    // A copy changes nothing live: nothing to keep a safety backup of.
    const safety = how.copy
      ? null
      : await tx.backupJob.create({
          data: {
            targetId,
            kind: "FULL",
            trigger: "PRE_RESTORE",
            initiatedById: opts.initiatedById ?? null,
            note: `Safety backup before restoring ${backupId}`,
            metadata: { includeFiles: hasFiles && !!ctx.filesDir, phases: [{ phase: "queued", at: new Date().toISOString() }], safetyFor: backupId },
          },
        });
    const restore = await tx.restoreJob.create({
      data: {
        targetId,
        backupId,
        safetyBackupId: safety?.id ?? null,
        initiatedById: opts.initiatedById ?? null,
        status: "QUEUED",
        phase: "queued",
        ownership: opts.ownership ?? "keep",
        createRoles: opts.createRoles === true,
        defaultTablespace: opts.tablespaces === "default",
        endBlockingSessions: opts.endBlockingSessions === true,
        ...(how.copy ? { strategy: "copy" } : {}),
      },
    });
    return { restore, safety };
  });
  await writeRestoreRecord(ctx, toRecord(restore));
  await audit(ctx.db, {
    actor,
    action: opts.reason === "rollback" ? "rollback.restore_requested" : "restore.requested",
    target: backupId,
    targetId,
    details: {
      restoreId: restore.id,
      target: ctx.target,
      safetyBackupId: safety?.id ?? null,
      ownership: opts.ownership ?? "keep",
      ...(opts.createRoles ? { createRoles: true } : {}),
      ...(opts.tablespaces === "default" ? { tablespaces: "default" } : {}),
      ...(opts.endBlockingSessions ? { endBlockingSessions: true } : {}),
      ...(how.copy ? { into: "copy" } : {}),
      ...(opts.privateKey ? { privateKeySupplied: true } : {}),
    },
  });
  // In this process's memory only, before the job can be picked up (held-keys.ts).
  if (opts.privateKey) holdPrivateKey(restore.id, opts.privateKey);
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.restore, { restoreId: restore.id }, { singletonKey: restore.id });
  wakeLocalWorkers(QUEUES.restore);
  return { restoreId: restore.id, preRestoreBackupId: safety?.id ?? null };
}

async function pgRestoreMajor(binDir?: string): Promise<number> {
  // The binary the restore will run (tool-path.ts), so the version checked is its own; the
  // wrapper's answer when it was asked to find it, with no second start.
  return parseToolVersion(await toolVersionLine("pg_restore", binDir)).major;
}

export async function runRestore(appCtx: BackupContext, restoreId: string, opts: { signal?: AbortSignal } = {}): Promise<RestoreRecord["status"]> {
  const first = await appCtx.db.restoreJob.findUnique({ where: { id: restoreId } });
  if (!first || first.status !== "QUEUED") return first?.status ?? "FAILED";
  // Into the restore's own target (its database, files directory and checks).
  let ctx = await contextForTargetId(appCtx, first.targetId);
  const targetIsApp = ctx.targetUrl === ctx.appDatabaseUrl;
  // Into a copy beside the live database, which is never touched (decision 169).
  const asCopy = first.strategy === "copy";
  const lock = await lockForRestore(ctx, first.targetId, targetIsApp, opts.signal);
  // A lock lost to another operation on this target stops the restore before it replaces
  // anything (locks.ts): the copy is discarded, the in-place transaction rolled back.
  // So does the server's disk running low under the copy (server-disk.ts).
  const disks = diskWatch((reason) => rlog.error({ reason }, "the server's disk ran low; the restore stops"));
  const signal = AbortSignal.any([...(opts.signal ? [opts.signal] : []), lock.lost, disks.signal]);
  const startedAt = new Date();
  let current: RestoreRecord = toRecord({ ...first, status: "RUNNING", startedAt, phase: "starting" });
  const rlog = log.child({ jobId: restoreId, backupId: first.backupId });

  // Every state change goes to storage first (it survives the restore), then the row.
  const save = async (patch: Partial<RestoreRecord>) => {
    current = { ...current, ...patch };
    await writeRestoreRecord(ctx, current);
    const data = await restoreRowData(ctx, current);
    await ctx.db.restoreJob.upsert({ where: { id: restoreId }, create: { ...data, ...progress() }, update: { ...data, ...progress(), id: undefined } }).catch((e: Error) => {
      rlog.warn({ err: e.message }, "restore row not updated (table being restored?)");
    });
  };
  const phase = (p: string) => {
    rlog.info({ phase: p }, "restore phase");
    return save({ phase: p });
  };
  // How far the database part has got (decision 136): set once it starts, read by each
  // heartbeat and phase change.
  let live: { p: LiveProgress; total: number } | null = null;
  // What the server does meanwhile (decision 157): sampled while the database part runs,
  // cleared when it ends.
  let watch: ActivityWatch | null = null;
  let lastWaiting: ActivitySample | null = null;
  let watched = false;
  const activityNow = (): RestoreActivity | null => {
    const a = watch?.last();
    return a ? { ...a, items: live?.p.items?.() ?? null } : null;
  };
  const activityColumn = () => {
    const a = activityNow();
    if (a) return { activity: a as unknown as Prisma.InputJsonObject };
    return watched ? { activity: Prisma.DbNull } : {};
  };
  const progress = () => ({ ...(live ? progressColumns(live.p, live.total) : {}), ...activityColumn() });
  const watchMs = Math.min(ctx.heartbeatMs, 2000);
  // Asked for (decision 185): a session that holds a lock the restore waits for is ended
  // after a grace period, named in the warnings and the audit log, ended or not.
  const endBlockers: EndBlockers | undefined = first.endBlockingSessions
    ? {
        afterMs: END_BLOCKING_AFTER_SECONDS * 1000,
        // A restore of Vaultline's own database: its pool may carry the name its URL gives it.
        spare: [ownApplicationName(ctx.appDatabaseUrl)],
        onOutcome: (b, outcome) => {
          warnings.push(endedSessionWords(b, outcome));
          rlog.warn({ pid: b.pid, user: b.user, application: b.application, ended: outcome.ended }, "a session blocking the restore");
          void audit(ctx.db, {
            actor: { type: "system", label: "worker" },
            action: outcome.ended ? "restore.session_ended" : "restore.session_not_ended",
            target: first.backupId,
            targetId: first.targetId,
            details: { restoreId, session: b, ...(outcome.ended ? {} : { reason: outcome.reason }) },
          }).catch((e: Error) => rlog.warn({ err: e.message }, "audit of an ended session not written"));
        },
      }
    : undefined;
  const startWatch = (url: string) => {
    watched = true;
    watch = watchServerActivity(url, { application: "vaultline-restore", intervalMs: watchMs, endBlockers });
  };
  // The server's disk, watched while the copy grows, where it can be seen (decision 159).
  const guardDisk = (plan: ServerDiskPlan | null | undefined) =>
    plan && disks.watch(plan.disks, { reserveBytes: plan.reserveBytes, intervalMs: Math.min(ctx.heartbeatMs, 1000) });
  const recentWait = () => watch?.lastWaiting(2 * watchMs + 1000) ?? null;
  const stopWatch = async () => {
    disks.stop();
    // For the failure's reason: a wait seen in the last two samples or so (after a lock
    // timeout the session no longer waits, and the very last sample may say so).
    lastWaiting = recentWait();
    const w = watch;
    watch = null;
    await w?.stop();
  };

  // One heartbeat in flight at most: while pg_restore holds Vaultline's own tables, the
  // update waits, and piling more up would drain the connection pool.
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    ctx.db.restoreJob
      .updateMany({ where: { id: restoreId }, data: { heartbeatAt: new Date(), ...progress() } })
      .catch(() => {})
      .finally(() => (beating = false));
  }, ctx.heartbeatMs);

  // What a failure means depends on how far the restore got.
  let stage: "checking" | "safety" | "applying" | "replaced" = "checking";
  const warnings: string[] = [];
  let rowCheck: RowCheck | null = null;
  /** The database this restore made (decision 165), with its shape then: dropped again if the restore fails before it replaces anything. */
  let created: { shape: string } | null = null;
  /** The roles this restore made (decision 171): dropped again, like the database, if it fails before it replaces anything. */
  let rolesMade: string[] = [];
  /** After the database was replaced, a failing step is recorded, not fatal. */
  const afterReplace = async (name: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (e) {
      const w = `${name} failed after the database was restored: ${humanReason(e)}`;
      warnings.push(w);
      rlog.error({ step: name, err: (e as Error).message }, "step after the restore failed");
    }
  };

  try {
    await save({ status: "RUNNING", startedAt: startedAt.toISOString(), phase: "verifying" });
    await emitEngineEvent({ type: "restore.started", restoreId });
    const backup = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: first.backupId } });
    if (backup.targetId !== first.targetId) {
      throw new RefusedError(`Backup ${backup.id} is of another target than this restore's (${ctx.target?.name ?? DEFAULT_TARGET_ID}); a backup restores into its own target only`);
    }

    // 1. Refuse on any doubt, before anything is touched.
    const suppliedKey = heldPrivateKey(restoreId);
    // The stored parts' checksums (a read of the whole backup) and the live database's side of
    // the preview (catalogue reads on the server) run together; the preview records the
    // verification's outcome once it is known. The user's preview counted the live rows;
    // this record of the database being replaced takes the planner's numbers (counting
    // every table of a 512 MB database took 0.3 s of the restore).
    const manifestRead = readManifest(ctx, backup);
    // Its failure is the verification's to report (checkStoredParts below); unheard meanwhile,
    // a rejection ends the process.
    manifestRead.catch(() => undefined);
    // A failover URL's host, chosen once for the whole restore (decision 190): every session,
    // pg_restore and psql go to it, and a host that does not answer costs the restore its
    // connection timeout once. The URL as written stays for the words about it.
    const pinned = await pinnedTarget(ctx.targetUrl, { orMaintenance: true });
    if (pinned !== ctx.targetUrl) ctx = { ...ctx, targetUrl: pinned, targetUrlAsWritten: ctx.targetUrl };
    // A database that is not there is made first, once the backup is verified (decision 165);
    // until then nothing reads it.
    const missing = await findMissingDatabase(ctx.targetUrl);
    if (missing && asCopy) {
      throw new RefusedError(`The database ${missing.name} does not exist on the target's server, so there is nothing to restore a copy beside: restore the backup itself, which creates it`);
    }
    if (missing && !missing.canCreate) throw new RefusedError(missingDatabaseWords(missing));
    let capRead!: Promise<TargetCapabilities>;
    let previewed!: ReturnType<typeof buildPreview>;
    const readLive = () => {
      // What the connecting role may do, asked once for the preview and the plan below.
      capRead = manifestRead.then((m) => probeTarget(ctx.targetUrl, roleNeeds(manifestCatalog(m))));
      capRead.catch(() => undefined);
      previewed = manifestRead.then((m) => buildPreview(ctx, backup, { ok: true, parts: [], manifest: m }, { exactCounts: false, capabilities: capRead }));
      previewed.catch(() => undefined);
    };
    if (!missing) readLive();
    const [verify, restoreMajor] = await Promise.all([checkStoredParts(ctx, backup, { privateKey: suppliedKey, manifest: manifestRead }), pgRestoreMajor(ctx.pgBinDir)]);
    if (!verify.ok || !verify.manifest) throw new RefusedError(`The backup failed verification: ${verify.reason}`);
    const manifest = verify.manifest;
    const decryptionKey = await decryptionKeyFor(ctx, manifest.encryption, suppliedKey);
    const keyId = manifest.encryption.keyId ?? null;
    const dbPart = manifest.parts.find((p) => p.name === "database");
    if (!dbPart) throw new RefusedError("The backup has no database part");
    const filesPart = manifest.parts.find((p) => p.name === "files");
    // A copy leaves FILES_DIR alone: its files go beside, or nowhere (decision 191).
    if (filesPart && !ctx.filesDir && !asCopy) throw new RefusedError("The backup has a files part but FILES_DIR is not configured here");
    const copyFilesDir = asCopy && filesPart ? filesCopyDirFor(ctx) : null;
    const dumpMajor = Number(manifest.pgDumpVersion.split(".")[0]);
    if (restoreMajor < dumpMajor) {
      throw new RefusedError(`pg_restore ${restoreMajor} cannot read an archive made by pg_dump ${dumpMajor}: install PostgreSQL ${dumpMajor} client tools or set PG_BIN_DIR`);
    }
    // Extensions the server cannot install (decision 174): pg_restore would fail at their
    // CREATE EXTENSION, after the safety backup; refused now with what to install.
    const backupExtensions = Object.keys(manifestCatalog(manifest)?.objects.extensions ?? {});
    const unavailable = await findUnavailableExtensions(ctx.targetUrl, backupExtensions);
    if (unavailable.length) throw new RefusedError(unavailableExtensionsWords(unavailable));
    // Installed, but its library not loaded at the server's start (decision 206): the same.
    const unloaded = await findUnloadedExtensions(ctx.targetUrl, backupExtensions);
    if (unloaded.length) throw new RefusedError(unloadedExtensionsWords(unloaded));
    // An extension the server lets another database have, or does not load (decision 201):
    // no restore of this database can create it. A copy leaves it out instead.
    if (!asCopy) {
      // Asked of the server, as the extensions above: the database may not exist yet (decision 165).
      // No session at all for a backup without one.
      const pinned = pinnedAmong(backupExtensions).length ? await onServer(ctx.targetUrl, (c) => readPinnedExtensions(c, backupExtensions)) : [];
      const elsewhere = pinnedElsewhereWords(pinned, databaseOf(ctx.targetUrl));
      if (elsewhere) throw new RefusedError(elsewhere);
    }
    // Tablespaces the backup places objects in that the server lacks (decision 173): refused
    // now, with what to do, not on pg_restore's error after the safety backup.
    if (!first.defaultTablespace) {
      const lackingSpaces = await findMissingTablespaces(ctx.targetUrl, manifestCatalog(manifest)?.tablespaces ?? []);
      if (lackingSpaces.length) throw new RefusedError(missingTablespacesWords(lackingSpaces));
    }
    // The roles the backup needs and the server lacks, made first when asked (decision 171):
    // the database's owner among them, which a database made below is given.
    if (first.createRoles && first.ownership !== "reassign") {
      const recorded = manifestCatalog(manifest);
      const defs = recorded?.roleDefinitions ?? [];
      const lacking = await findMissingRoles(ctx.targetUrl, recorded?.roles ?? [], defs);
      if (lacking.creatable.length) {
        await phase("creating roles");
        const notes = await createMissingRoles(ctx.targetUrl, defs, lacking.creatable).catch((e: Error) => {
          throw new RefusedError(e.message);
        });
        rolesMade = lacking.creatable;
        rlog.warn({ roles: rolesMade }, "roles the backup needs were missing: created");
        warnings.push(notes.join("; "));
        await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.roles_created", target: first.backupId, targetId: first.targetId, details: { restoreId, roles: rolesMade } });
        // The plan is asked again: it was asked before the roles were there.
        if (!missing) readLive();
      }
    }
    const backupCatalog = manifestCatalog(manifest);
    // The backup's own owner, grants, comment and settings (decision 194): not for Vaultline's
    // own database, whose are current state like its credentials (decision 28).
    const backupState = targetIsApp ? undefined : backupCatalog?.database;
    if (missing) {
      await phase("creating the database");
      // One chain: an error at any stage ends the read with it (readHeadOf lets the chain go).
      const head = await readHeadOf(pipelineOf(await ctx.storage.get(dbPart.key), createDecryptStream(decryptionKey), createDecompressor(dbPart.compression), () => undefined));
      const notes = await createMissingDatabase(ctx.targetUrl, {
        locale: manifest.database.locale,
        head,
        archivedName: manifest.database.name,
        stateRecorded: !!backupState,
      });
      created = { shape: await databaseShape(ctx.targetUrl) };
      rlog.warn({ notes }, "the target's database did not exist: created");
      warnings.push(notes.join("; "));
      await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.database_created", target: first.backupId, targetId: first.targetId, details: { restoreId, database: missing.name, notes } });
      readLive();
    }

    // 2. The plan: strategy and ownership, from what the connecting role may do.
    const roles = backupCatalog?.roles ?? null;
    // The probe asked with this same manifest's roles (checkStoredParts verified manifestRead).
    const cap = await capRead;
    const standby = standbyProblem(cap, ctx.targetUrlAsWritten ?? ctx.targetUrl);
    if (standby) throw new RefusedError(standby);
    const pooled = poolerProblem(cap.pooled);
    if (pooled) throw new RefusedError(pooled);
    // A copy needs no lock of the live database's: a prepared transaction does not stop it.
    const prepared = asCopy ? null : preparedProblem(cap);
    if (prepared) throw new RefusedError(prepared);
    // An extension only a superuser may create, through a role that is not one (decision 209):
    // refused now, not on pg_restore's "permission denied to create extension" after the safety backup.
    // A copy leaves pg_cron out (decision 201): not made there, so not asked.
    const made = asCopy ? madeInCopy(backupExtensions) : backupExtensions;
    const untrusted = cap.superuser ? [] : await findUntrustedExtensions(ctx.targetUrl, made);
    if (untrusted.length) throw new RefusedError(untrustedExtensionsWords(untrusted, cap.user));
    const { otherGrantors } = roleNeeds(backupCatalog);
    const ownership = ownershipPlan(cap, roles, otherGrantors);
    const requested: Ownership = first.ownership === "reassign" ? "reassign" : "keep";
    if (requested === "keep" && !ownership.canKeep) {
      throw new RefusedError(
        `Owners and grants cannot be restored as they were: ${ownership.problems.join(" ")} Fix the roles, or restore with ownership "reassign" to give every object to ${cap.user}${ownership.reassignKeepsGrants ? "" : " (without the backup's grants)"}.`,
      );
    }
    const keepOwners = requested === "keep";
    const keepPrivileges = keepsPrivileges(cap, otherGrantors, keepOwners);
    const strategy: "swap" | "in-place" | "copy" = asCopy
      ? "copy"
      : chooseStrategy(cap, { targetIsVaultline: targetIsApp, setting: ctx.restoreStrategy ?? "auto", keepHours: ctx.restoreKeepPreviousHours ?? 24 }).strategy;
    if (asCopy) {
      const copyProblem = copyProblems(cap);
      if (copyProblem) throw new RefusedError(copyProblem);
    }
    let jobs = ctx.restoreJobs ?? 2;
    let spools = strategy !== "in-place" && jobs > 1;
    const { manifest: _m, ...built } = await previewed;
    const preview = { ...built, verified: { ...built.verified, ok: verify.ok, reason: verify.reason ?? null } };
    await save({ preview, strategy, ownership: requested });
    if (spools) await refuseWithoutTempSpace(dbPart);
    // The files go in after the database: refused now if they cannot, not half way (decision 161).
    const reserveBytes = ctx.diskReserveBytes ?? DEFAULT_DISK_RESERVE_BYTES;
    const refuseWithoutFilesSpace = async () => {
      const problem =
        filesPart && ctx.filesDir && !asCopy
          ? filesDiskProblem(await planFilesDisk(ctx.filesDir, filesPart, reserveBytes))
          : filesPart && copyFilesDir?.dir
            ? filesCopyDiskProblem(await planFilesDisk(copyFilesDir.dir, filesPart, reserveBytes), copyFilesSettingName(ctx))
            : null;
      if (problem) throw new RefusedError(problem);
    };
    await refuseWithoutFilesSpace();
    // Each extension at the backup's version, where the server's default is another (decision 152).
    const versionPlan = preview.plan?.extensionVersions ?? [];
    const pins = versionPins(versionPlan);
    let pinner = new ExtensionVersionPinner(pins);
    // A copy, of another name, cannot have an extension its server lets one database have: left
    // out with its jobs, and said (decision 201). The database itself takes it in place.
    const leaver = new PinnedExtensionLeaver(asCopy ? pinnedAmong(backupExtensions) : []);

    // 3. The safety backup; without it the restore does not run.
    stage = "safety";
    signal.throwIfAborted();
    if (current.safetyBackupId) {
      await phase(SAFETY_BACKUP_PHASE);
      const s = await runBackup(ctx, current.safetyBackupId, { insideDestructiveOperation: true });
      if (s.status !== "SUCCEEDED") throw new RefusedError(`The safety backup failed (${s.failureReason ?? s.status}); the restore did not run`);
    }

    // 4. The database: replaced whole, or not at all.
    stage = "applying";
    // Again: the safety backup (with its own files part) may have taken some of that disk.
    await refuseWithoutFilesSpace();
    const excluded = excludedSchemas(ctx.targetUrl, ctx.appDatabaseUrl);
    if (strategy !== "in-place") {
      const swap = swapNames(databaseOf(ctx.targetUrl), restoreId);
      // A copy is made under a name of its own, and never swapped in.
      const names = asCopy ? { ...swap, fresh: copyName(swap.live, restoreId) } : swap;
      const freshUrl = withDatabase(ctx.targetUrl, names.fresh);
      // Two phases, so the wait is explained: the tables, loaded while the backup is still
      // read in (streamed-restore.ts), then the indexes and constraints.
      await phase("restoring beside the live database");
      // Again: the safety backup may have taken some of that disk.
      if (spools) await refuseWithoutTempSpace(dbPart);
      // As many loaders as the server's connection limits leave room for (decision 178).
      if (spools) {
        const fitted = await fitRestoreJobs(ctx.targetUrl, jobs);
        if (fitted.note) {
          warnings.push(fitted.note);
          rlog.warn({ jobs: fitted.jobs, restoreJobs: jobs }, "fewer restore jobs: the server's connection limits leave no room for all");
        }
        jobs = fitted.jobs;
        spools = jobs > 1;
      }
      try {
        guardDisk(preview.plan?.serverDisk);
        await createFreshDatabase(ctx.targetUrl, names);
        // One pipeline: a failure anywhere tears every stage down; both checksums are checked
        // before the copy can be swapped in (a wrong key must never reach the swap).
        const stored = createHashingStream();
        const decrypted = createHashingStream();
        const plain = createDecompressor(dbPart.compression);
        // Spooled, the counts are the archive's (streamed-restore.ts); piped straight into one
        // pg_restore, what is read is what is loaded.
        if (!spools) live = { p: { unit: "stored", read: stored.bytes, loaded: stored.bytes }, total: dbPart.sizeBytes };
        // The pinner only where it has something to pin: otherwise one stage fewer for every chunk.
        const head = [await ctx.storage.get(dbPart.key), stored.stream, createDecryptStream(decryptionKey), decrypted.stream, plain] as const;
        const rewriters = [...(pins.size ? [pinner] : []), ...(leaver.names.length ? [leaver] : [])];
        const archive = rewriters.at(-1) ?? plain;
        const feed = pipeline([...head, ...rewriters]);
        feed.catch(() => undefined);
        // Set by the callback below; a property, so the compiler does not take it for null.
        const hold: { current: AutovacuumHold | null } = { current: null };
        let loaded: RestoreOutcome = { rows: null };
        try {
          startWatch(freshUrl);
          loaded = await spawnPgRestore(archive, freshUrl, {
            binDir: ctx.pgBinDir,
            signal,
            jobs,
            archiveBytes: dbPart.compression?.inputBytes,
            spoolPrefix: restoreSpoolPrefix(restoreId),
            // Best effort: without it the restore is slower, not wrong (autovacuum-hold.ts).
            afterSchema: async () => {
              hold.current = await holdAutovacuum(freshUrl).catch((e: Error) => {
                rlog.warn({ err: e.message }, "autovacuum not held off the fresh copy");
                return null;
              });
            },
            onDataLoaded: () => phase("building indexes and constraints beside the live database"),
            onProgress: (p) => (live = { p, total: spoolBytes(dbPart) }),
            noOwner: !keepOwners,
            noPrivileges: !keepPrivileges,
            noTablespaces: first.defaultTablespace,
          });
          await feed;
        } catch (e) {
          plain.destroy();
          pinner.destroy();
          leaver.destroy();
          throw await explainPartFailure(ctx.storage, dbPart, decryptionKey, keyId, e);
        } finally {
          // Its session is on the copy, which is checked, renamed or dropped next.
          await stopWatch();
        }
        if (stored.digest() !== dbPart.sha256) throw new Error("the archive read during the restore does not match its checksum");
        if (decrypted.digest() !== dbPart.plainSha256) throw plainMismatch(dbPart, decrypted.digest(), keyId);
        await hold.current?.release();
        if (keepOwners) await setMultirangeOwners(freshUrl, backupCatalog);
        const repaired = await repairPartitionedIndexes(freshUrl);
        if (repaired.length) rlog.warn({ indexes: repaired }, "partitioned indexes left invalid by the parallel restore were validated");
        // Last: from here on, sessions on the copy run with the database's settings — the
        // backup's (decision 194), or for a backup that did not record them the live one's. A
        // copy that cannot have them is still a copy of the data: said, not fatal.
        if (backupState) {
          const given = await withClient(freshUrl, (c) => giveDatabaseState(c, names.fresh, backupState, { owner: keepOwners, grants: keepPrivileges }), "vaultline-restore");
          // The plan tried each of the backup's settings (probeTarget): one that fails here is
          // not foreseen, and a swap without it would change how the application's sessions run.
          const unset = given.failed.filter((f) => f.setting);
          if (unset.length && !asCopy) throw new Error(`the backup's database settings could not be set on the copy: ${unset.map((f) => `${f.statement} (${f.reason})`).join("; ")}`);
          const note = databaseStateNote(given, asCopy ? "The copy" : "The restored database");
          if (note) warnings.push(note);
        } else if (asCopy) {
          await carryDatabaseSettings(ctx.targetUrl, names).catch((e: Error) => warnings.push(`The live database's settings were not given to the copy: ${humanReason(e)}`));
        } else {
          await carryDatabaseSettings(ctx.targetUrl, names);
        }
        await phase("checking the restored copy");
        // Every table's rows, as many as the archive held (decision 158).
        rowCheck = await checkRowCounts(freshUrl, loaded.rows?.filter((t) => !leaver.emptiedKeys.has(t.key)) ?? null, { dumpMajor });
        rlog.info(rowCheck, rowCheck.checked ? "rows of the copy checked" : "rows of the copy not checked");
        const versions = versionsRestored(versionPlan, pinner);
        await checkRestoredCopy(freshUrl, manifest, backupCatalog, keepOwners, new Set(versions.filter((v) => !v.pinned).map((v) => v.name)), leaver);
        const leftOut = leftOutWords(leaver.leftOut, "copy", leaver.users);
        if (leftOut) warnings.push(`${leftOut}.`);
        const versionNote = extensionVersionNote(versions, pinner.skipped);
        if (versionNote) warnings.push(versionNote);
        signal.throwIfAborted();
        if (asCopy) {
          // Kept beside the live database, and dropped once its time is up (dropExpiredPrevious).
          const keepUntil = keepUntilFromNow(ctx);
          await save({ previousDatabase: names.fresh, keepUntil: keepUntil.toISOString() });
          stage = "replaced";
          if (copyFilesDir?.notRestored) warnings.push(copyFilesDir.notRestored);
        } else {
          await phase("swapping databases");
          const swapSeconds = await swapDatabases(ctx.targetUrl, names.live, names.fresh, names.previous);
          stage = "replaced";
          // The previous database's subscriptions would go on replicating into it, holding
          // their slots from the restored ones (decision 142): disabled, their slots let go.
          if (cap.subscriptions.length) {
            await detachSubscriptions(ctx.targetUrl, names.previous).catch((e: Error) => rlog.warn({ err: e.message }, "subscriptions of the previous database not disabled"));
          }
          const keepUntil = keepUntilFromNow(ctx);
          await save({ swapSeconds, previousDatabase: names.previous, keepUntil: keepUntil.toISOString() });
          const slots = slotsAfterRestore(cap.replicationSlots, { strategy: "swap", previous: names.previous, keepUntil });
          if (slots) warnings.push(slots);
        }
      } catch (e) {
        if (stage !== "replaced") await dropDatabase(ctx.targetUrl, names.fresh).catch(() => undefined);
        throw e;
      }
    } else {
      await phase("restoring database");
      // The trail must be in storage before the tables holding it are replaced: the
      // reconcile below reads it back from there.
      if (targetIsApp) await flushAuditMirror(ctx);
      const schema = prismaSchema(ctx.appDatabaseUrl);
      guardDisk(preview.plan?.serverDisk);
      // The database's own state, given in the restore's transaction (decision 195), from the
      // live state read now. Unread, the pass after COMMIT below gives it alone.
      const stateSql = backupState
        ? await withClient(ctx.targetUrl, readDatabaseState, "vaultline-restore").then(
            (now) => stateEpilogue(databaseOf(ctx.targetUrl), now, backupState, { owner: keepOwners, grants: keepPrivileges }),
            () => null,
          )
        : null;
      const applyInPlace = async () =>
        applyArchive({
          storedStream: await ctx.storage.get(dbPart.key),
          passphrase: decryptionKey,
          expectedStoredSha256: dbPart.sha256,
          compression: dbPart.compression,
          archive: pins.size ? pinner : undefined,
          targetUrl: ctx.targetUrl,
          // Computed now, not at preview time: whatever was made since goes too.
          prologue: await inPlacePrologue(ctx.targetUrl, excluded, targetIsApp ? { schema, tables: CREDENTIAL_TABLES } : undefined),
          epilogue: [targetIsApp ? keptCredentialsEpilogue(schema) : null, keepOwners ? multirangeOwnersSql(backupCatalog) : null, stateSql].filter(Boolean).join("\n") || undefined,
          keepOwners,
          keepPrivileges,
          noTablespaces: first.defaultTablespace,
          binDir: ctx.pgBinDir,
          signal,
          lockTimeoutSeconds: ctx.restoreLockTimeoutSeconds,
          onProgress: (p) => (live = { p, total: dbPart.sizeBytes }),
        });
      startWatch(ctx.targetUrl);
      try {
        // Once more if PostgreSQL ended the transaction in a deadlock (decision 204): it was
        // rolled back whole, so the database is as it was and the same restore may simply run
        // again — what the person on call would do, without the failure in between.
        for (let attempt = 1; ; attempt++) {
          try {
            await applyInPlace();
            break;
          } catch (e) {
            if (attempt > 1 || signal.aborted || !isDeadlock(e)) throw e;
            // Whose lock it waited for, as a failure's reason would say it.
            const waits = describeWaits(recentWait());
            const had = waits.length ? ` (it had ${waits.join("; ")})` : "";
            warnings.push(`PostgreSQL ended the restore's first attempt to break a deadlock${had}. It was rolled back whole, nothing had changed, and the restore ran again.`);
            rlog.warn({ waits }, "the in-place restore ended in a deadlock; running it again");
            pinner = new ExtensionVersionPinner(pins);
          }
        }
      } catch (e) {
        throw await explainPartFailure(ctx.storage, dbPart, decryptionKey, keyId, e);
      } finally {
        await stopWatch();
      }
      stage = "replaced";
      // The database's own state is no part of pg_restore's script. The epilogue gave it inside
      // the transaction; this pass gives what changed since it was read or was refused there,
      // each statement on its own, and says what PostgreSQL refused (decisions 194, 195).
      if (backupState) {
        await afterReplace("Giving the database the backup's owner, grants, comment and settings", async () => {
          const given = await withClient(ctx.targetUrl, (c) => giveDatabaseState(c, databaseOf(ctx.targetUrl), backupState, { owner: keepOwners, grants: keepPrivileges }), "vaultline-restore");
          const note = databaseStateNote(given, "The restored database");
          if (note) warnings.push(note);
        });
      }
      const versionNote = extensionVersionNote(versionsRestored(versionPlan, pinner), pinner.skipped);
      if (versionNote) warnings.push(versionNote);
      const slots = slotsAfterRestore(cap.replicationSlots, { strategy: "in-place" });
      if (slots) warnings.push(slots);
    }

    // pg_dump recreates subscriptions without their tables: registered now, so ENABLE
    // replays their slots instead of skipping them (decision 150).
    if (cap.subscriptions.length && !asCopy) {
      await afterReplace("Registering the subscriptions' tables", async () => warnings.push(...subscriptionNotes(await registerSubscribedTables(ctx.targetUrl))));
    }

    // 5. Files: extracted beside the live directory, swapped in at the end (crash-safe).
    /** `read` takes the files part's tar stream, fetched, decrypted and decompressed as it goes. */
    const fromFilesPart = async <T>(part: ManifestPart, read: (tar: Readable) => Promise<T>): Promise<T> => {
      const tarStream = createDecompressor(part.compression);
      const feed = pipeline(await ctx.storage.get(part.key), createDecryptStream(decryptionKey), tarStream);
      feed.catch(() => undefined);
      try {
        const out = await read(tarStream);
        await feed;
        return out;
      } catch (e) {
        tarStream.destroy();
        throw await explainPartFailure(ctx.storage, part, decryptionKey, keyId, e);
      }
    };
    /** The disk under `dir` checked as the files are written, stopping above DISK_RESERVE_MB with `advice`. */
    const filesDisk = (dir: string, advice: string) => ({
      checkDisk: { everyBytes: diskCheckInterval(reserveBytes), check: reserveCheck(dir, reserveBytes, { what: "files", advice }) },
    });
    if (filesPart && ctx.filesDir && !asCopy) {
      const filesDir = ctx.filesDir;
      await phase("restoring files");
      await afterReplace("Restoring the files part", async () => {
        const note = await fromFilesPart(filesPart, (tar) =>
          swapInFiles(filesDir, restoreId, tar, filesDisk(filesDir, "FILES_DIR keeps the files it had. Free space there, and restore again")),
        );
        if (note) warnings.push(note);
      });
    }
    // A copy's files, beside FILES_DIR, in a directory named as the copy (decision 191).
    const copyDatabase = current.previousDatabase;
    if (filesPart && copyFilesDir?.dir && copyDatabase) {
      const dir = copyFilesDir.dir;
      await phase("restoring files beside");
      await afterReplace("Restoring the files part beside the live files", async () => {
        const at = await fromFilesPart(filesPart, (tar) =>
          extractFilesCopy(dir, copyDatabase, tar, filesDisk(dir, "The copy's files were not kept. Free space there, and restore again")),
        );
        // Recorded: shown on the restore, and what dropping the copy removes (decision 192).
        await save({ copyFilesPath: at });
        warnings.push(`The backup's files were restored into ${at}, beside the live files (FILES_DIR is as it was); they are removed with the copy ${copyDatabase}.`);
      });
    }

    // 6. Vaultline's own tables were just replaced: this version's schema, current
    //    credentials, and the history re-read from storage.
    if (targetIsApp && !asCopy) {
      await phase("reconciling catalogue");
      await afterReplace("Applying this version's migrations", () => migrate(ctx.appDatabaseUrl));
      await afterReplace("Restoring current credentials", () => reapplyKeptCredentials(ctx.appDatabaseUrl, prismaSchema(ctx.appDatabaseUrl)));
      await afterReplace("Re-reading the catalogue from storage", async () => rlog.info(await reconcileFromStorage(ctx), "catalogue reconciled"));
    }

    // 7. Checks: of the live database, which a copy leaves as it was.
    if (!asCopy) await phase("running checks");
    const checks = asCopy
      ? null
      : await runChecks({
          targetUrl: ctx.targetUrl,
          appDbUrl: ctx.appDatabaseUrl,
          checksFile: ctx.checksFile,
          appMigrationsDir: ctx.appMigrationsDir,
          manifestMigrations: manifest.prismaMigrations,
        }).catch((e: Error) => ({ status: "error", error: e.message }));

    const done = new Date();
    await save({
      status: "SUCCEEDED",
      phase: "done",
      checks,
      warnings,
      completedAt: done.toISOString(),
      durationSeconds: (done.getTime() - startedAt.getTime()) / 1000,
    });
    await audit(ctx.db, {
      actor: { type: "system", label: "worker" },
      action: "restore.succeeded",
      target: backup.id,
      targetId: first.targetId,
      details: { restoreId, safetyBackupId: current.safetyBackupId, durationSeconds: current.durationSeconds, strategy, ownership: requested, rolesCreated: rolesMade, swapSeconds: current.swapSeconds ?? null, warnings, rowsChecked: rowCheck },
    });
    rlog.info({ durationSeconds: current.durationSeconds, strategy, swapSeconds: current.swapSeconds }, "restore succeeded");
    return "SUCCEEDED";
  } catch (e) {
    // Stopped (a lost lock, a shutdown): the reason, not the AbortError of whatever step it cut short.
    // Whose lock it was waiting for when it stopped (a lock timeout names no one).
    // Not a wait under a second (an autovacuum worker's lock, given up as soon as asked): one the
    // failure could be for. A disk failure's reason named one, and read as the cause.
    const waits = stage === "applying" ? describeWaits(lastWaiting, { minSeconds: 1 }) : [];
    const stopped = failureMessage(stage, current.strategy ?? null, signal.aborted && stage !== "replaced" ? signal.reason : e);
    const withWaits = waits.length ? `${stopped} When it stopped, the restore had ${waits.join("; ")}.` : stopped;
    // The server refused one of its sessions (a CONNECTION LIMIT, a full max_connections):
    // said with the limit that binds, read once the restore's own sessions are closed.
    const waited =
      isTooManyConnections(e) && !withWaits.includes(ROOM_ADVICE)
        ? await withConnectionRoom(withWaits, ctx.targetUrl, `A restore holds several sessions on the server at once: its safety backup ${FULL_BACKUP_SESSIONS}, its loading up to RESTORE_JOBS + ${RESTORE_SESSIONS_BESIDE_JOBS} beside the live database.`)
        : withWaits;
    // A database this restore made goes again, so the failure leaves the server as it was.
    const undone = created && stage !== "replaced" ? await dropCreatedDatabase(ctx.targetUrl, created.shape) : null;

    if (undone?.dropped) {
      await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.database_dropped", target: first.backupId, targetId: first.targetId, details: { restoreId, database: databaseOf(ctx.targetUrl) } });
    }
    // Then the roles it made, which the database may have needed until it went.
    const unmade = rolesMade.length && stage !== "replaced" ? await dropCreatedRoles(ctx.targetUrl, rolesMade) : null;
    if (unmade?.dropped) {
      await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.roles_dropped", target: first.backupId, targetId: first.targetId, details: { restoreId, roles: rolesMade } });
    }
    // "Nothing was changed" holds only when what it made went again.
    const undoings = [undone, unmade].filter((u): u is { dropped: boolean; words: string } => !!u);
    const allUndone = undoings.every((u) => u.dropped);
    const reason = !undoings.length
      ? waited
      : `${allUndone ? waited : waited.replace(/Nothing was changed\.$/, "Nothing else was changed.")} ${undoings.map((u) => `${u.words}.`).join(" ")}`;
    const done = new Date();
    await save({ status: "FAILED", phase: "failed", failureReason: reason, warnings, completedAt: done.toISOString(), durationSeconds: (done.getTime() - startedAt.getTime()) / 1000 });
    // A refused restore never needs its safety backup: mark it so it does not run later.
    if (current.safetyBackupId) {
      await ctx.db.backupJob.updateMany({
        where: { id: current.safetyBackupId, status: "QUEUED" },
        data: { status: "CANCELLED", phase: "cancelled", completedAt: done, failureReason: `Not needed: restore ${restoreId} was refused before it began (${reason.slice(0, 300)})` },
      });
    }
    await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.failed", target: first.backupId, targetId: first.targetId, details: { restoreId, reason } });
    rlog.warn({ reason }, "restore failed");
    return "FAILED";
  } finally {
    forgetPrivateKey(restoreId);
    clearInterval(heartbeat);
    // Stopped with the database part; here too when a step before it failed.
    disks.stop();
    await lock.release();
    await emitEngineEvent({ type: "restore.finished", restoreId, status: current.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED" });
  }
}

/** What of the backup's database state could not be given back, for the restore's warnings; null when all was. */
function databaseStateNote(given: Awaited<ReturnType<typeof giveDatabaseState>>, what: string): string | null {
  if (!given.failed.length && !given.left.length) return null;
  const failed = given.failed.map((f) => `${f.statement} (${f.reason})`);
  return `${what} does not have all of the backup's owner, grants, comment and settings: ${[...failed, ...(given.left.length ? [`still different: ${given.left.join(", ")}`] : [])].join("; ")}`;
}

/** Until when a database kept beside the live one stays (RESTORE_KEEP_PREVIOUS_HOURS). */
function keepUntilFromNow(ctx: BackupContext): Date {
  return new Date(Date.now() + (ctx.restoreKeepPreviousHours ?? 24) * 3600_000);
}

/** What a failure means for the database, by how far the restore got. */
function failureMessage(stage: "checking" | "safety" | "applying" | "replaced", strategy: string | null, e: unknown): string {
  const reason = humanReason(e);
  const locks = lockTableHint(reason);
  const why = locks ? `${reason} (${locks})` : reason;
  if (e instanceof RefusedError || stage === "checking" || stage === "safety") return `${why}. Nothing was changed.`.replace(/\.\. /, ". ");
  if (strategy === "copy") {
    return stage === "applying"
      ? `The copy could not be made: ${why}. The live database was never touched; the unfinished copy was dropped.`
      : `The copy was made, then: ${why}`;
  }
  if (stage === "applying") {
    return strategy === "swap"
      ? `The restore failed before the swap: ${why}. The live database was never touched; the fresh copy was discarded.`
      : `The restore failed: ${why}. It ran in one transaction, which was rolled back: the database is exactly as it was.`;
  }
  return `The database was restored, then: ${why}`;
}

/**
 * The plan's extensions as the archive's stream left them: one the pinner was to give its
 * version and did not (an archive it could not read) is restored at the default, as the
 * record then says.
 */
function versionsRestored(plan: ExtensionVersionPlan[], pinner: ExtensionVersionPinner): ExtensionVersionPlan[] {
  return plan.map((v) => (v.pinned && !pinner.pinned.includes(v.name) ? { ...v, pinned: false, restoredAs: v.serverDefault } : v));
}

/**
 * The fresh copy holds what the backup recorded: every object (with owners when kept), or at
 * least every table and column. `movedExtensions`: restored at another version than the
 * backup's, which the record says (extension-versions.ts); `leaver`: what it left out of a
 * copy — extensions and what uses them — which the record says too (pinned-extensions.ts).
 */
async function checkRestoredCopy(
  url: string,
  manifest: { schema?: unknown },
  backupCatalog: CatalogSnapshot | null,
  keepOwners: boolean,
  movedExtensions: Set<string>,
  leaver: Pick<PinnedExtensionLeaver, "leftOut" | "users"> = { leftOut: [], users: [] },
): Promise<void> {
  if (backupCatalog) {
    const { live, recorded } = await catalogBesideRecord(url, [], backupCatalog);
    const diff = diffCatalogs(live, recorded);
    const problems = Object.entries(diff).flatMap(([kind, d]) => [
      ...d.added.filter((n) => !leftOutWith(leaver.leftOut, kind, n, leaver.users)).map((n) => `${kind} ${n} missing`),
      ...d.dropped.map((n) => `${kind} ${n} unexpected`),
      ...(keepOwners ? d.changed.filter((n) => kind !== "extensions" || !movedExtensions.has(n)).map((n) => `${kind} ${n} differs`) : []),
      ...(keepOwners ? d.ownerChanged.map((n) => `${kind} ${n} owner`) : []),
    ]);
    if (problems.length) throw new Error(`the restored copy differs from the backup's record: ${problems.slice(0, 10).join("; ")}`);
    return;
  }
  const recorded = (manifest as { schema?: Parameters<typeof diffSchemas>[1] }).schema;
  if (!recorded) return;
  const d = diffSchemas(await schemaSnapshot(url), recorded);
  const missing = [...d.tables.added, ...d.columns.added];
  if (missing.length) throw new Error(`the restored copy lacks ${missing.slice(0, 10).join(", ")}`);
}

/** The spool of a swap restore (temp-space.ts) would not fit: refused before it is written. */
async function refuseWithoutTempSpace(part: ManifestPart): Promise<void> {
  const problem = tempSpaceProblem(await measureTempSpace(part));
  if (problem) throw new RefusedError(problem);
}

/** A refusal before the database was touched. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

/** Phases that run after an in-place restore committed. */
const AFTER_COMMIT_PHASES = new Set(["restoring files", "reconciling catalogue", "running checks", "done"]);

/**
 * RUNNING restores whose worker died. A live restore holds the destructive lock for its
 * whole run, so while anyone holds it the sweep does nothing; once it is free, a RUNNING
 * restore is judged by where it stopped: before the swap (or before COMMIT) the database is
 * as it was; after it, the restore stands and the steps that did not run are named.
 */
export async function sweepStaleRestores(appCtx: BackupContext, now = new Date()): Promise<string[]> {
  const swept: string[] = [];
  await eachTarget(appCtx, "stale restore sweep", async (ctx, targetId) => {
    const lock = await tryDestructiveLock(ctx.appDatabaseUrl, targetId);
    if (!lock) return;
    try {
      swept.push(...(await sweepTargetRestores(ctx, targetId, now)));
    } finally {
      await lock.release();
    }
  });
  return swept;
}

/** One target's stale restores; the caller holds its destructive lock. */
async function sweepTargetRestores(ctx: BackupContext, targetId: string, now: Date): Promise<string[]> {
  {
    const cutoff = new Date(now.getTime() - RESTORE_STALE_AFTER_MS);
    const stale = await ctx.db.restoreJob.findMany({
      where: { targetId, status: "RUNNING", OR: [{ heartbeatAt: { lt: cutoff } }, { heartbeatAt: null, startedAt: { lt: cutoff } }] },
    });
    const swept: string[] = [];
    for (const r of stale) {
      const outcome = await staleOutcome(ctx, r);
      const upd = await ctx.db.restoreJob.updateMany({
        where: { id: r.id, status: "RUNNING", updatedAt: r.updatedAt },
        data: { ...outcome, phase: outcome.status === "SUCCEEDED" ? "done" : "failed", completedAt: now },
      });
      if (!upd.count) continue;
      swept.push(r.id);
      if (r.safetyBackupId) {
        await ctx.db.backupJob.updateMany({
          where: { id: r.safetyBackupId, status: "QUEUED" },
          data: { status: "CANCELLED", phase: "cancelled", completedAt: now, failureReason: `Not needed: restore ${r.id} stopped before its safety backup began` },
        });
      }
      const row = await ctx.db.restoreJob.findUniqueOrThrow({ where: { id: r.id } });
      await writeRestoreRecord(ctx, toRecord(row));
      await audit(ctx.db, {
        actor: { type: "system", label: "sweep" },
        action: outcome.status === "SUCCEEDED" ? "restore.succeeded" : "restore.failed",
        target: r.backupId,
        targetId,
        details: { restoreId: r.id, reason: outcome.failureReason ?? null, warnings: outcome.warnings ?? [] },
      });
    }
    return swept;
  }
}

async function staleOutcome(ctx: BackupContext, r: RestoreRow) {
  const stopped = `The worker stopped responding during "${r.phase}"`;
  if (r.strategy === "copy") {
    const filesDir = filesCopyDirFor(ctx).dir;
    // Kept once it was recorded; an unfinished one is dropped (the live one was never touched).
    // Its files, when their extraction was cut short, are not kept half (decision 191).
    if (r.previousDatabase) {
      const partial = filesDir ? await removePartialFilesCopy(filesDir, r.previousDatabase).catch(() => false) : false;
      const filesWords = partial ? " Its files were being restored beside the live ones: the part restored was removed; restore into a copy again for them." : "";
      return { status: "SUCCEEDED" as const, warnings: [...r.warnings, `${stopped}, after the copy was made.${filesWords}`] };
    }
    // DROP … IF EXISTS: a copy not yet made is nothing to drop.
    await dropDatabase(ctx.targetUrl, copyName(databaseOf(ctx.targetUrl), r.id)).catch(() => undefined);
    if (filesDir) await removeFilesCopy(filesDir, copyName(databaseOf(ctx.targetUrl), r.id)).catch(() => undefined);
    return { status: "FAILED" as const, failureReason: `${stopped}, before the copy was complete: the unfinished copy was dropped; the live database was never touched.` };
  }
  if (r.strategy === "swap") {
    const names = swapNames(databaseOf(ctx.targetUrl), r.id);
    const exist = await databasesExist(ctx.targetUrl, [names.previous, names.fresh]);
    if (exist.has(names.previous)) {
      await allowConnections(ctx.targetUrl, names.previous).catch(() => undefined);
      return {
        status: "SUCCEEDED" as const,
        previousDatabase: names.previous,
        keepUntil: r.keepUntil ?? keepUntilFromNow(ctx),
        warnings: [...r.warnings, `${stopped}, after the databases were swapped: the database is restored; the steps after it (files, checks) may not have run.`],
      };
    }
    await allowConnections(ctx.targetUrl, names.live).catch(() => undefined);
    if (exist.has(names.fresh)) await dropDatabase(ctx.targetUrl, names.fresh).catch(() => undefined);
    return { status: "FAILED" as const, failureReason: `${stopped}, before the swap: the live database was never changed.` };
  }
  if (r.phase && AFTER_COMMIT_PHASES.has(r.phase)) {
    return {
      status: "SUCCEEDED" as const,
      warnings: [...r.warnings, `${stopped}, after the database was restored: the steps after it may not have run.`],
    };
  }
  return { status: "FAILED" as const, failureReason: `${stopped}; the restore runs in a single transaction, which was rolled back: the database is as it was before the restore.` };
}

/** Drops the databases kept for Undo once their time is up. */
export async function dropExpiredPrevious(appCtx: BackupContext, now = new Date()): Promise<string[]> {
  const dropped: string[] = [];
  await eachTarget(appCtx, "dropping expired undo copies", async (ctx, targetId) => {
    const due = await ctx.db.restoreJob.findMany({
      where: { targetId, previousDatabase: { not: null }, previousDroppedAt: null, keepUntil: { lt: now } },
    });
    dropped.push(...(await dropTargetPrevious(ctx, targetId, due, now)));
  });
  return dropped;
}

/**
 * Drops the database a restore keeps beside the live one and records it: the row, the record
 * in storage, the audit. The caller holds the target's destructive lock.
 */
async function dropKept(ctx: BackupContext, r: RestoreRow, actor: Actor, at: Date, details: Record<string, unknown> = {}): Promise<RestoreRow> {
  await dropDatabase(ctx.targetUrl, r.previousDatabase!);
  // A copy's files go with it (decision 191): where the restore put them (decision 192),
  // else where today's setting would have.
  const files = r.strategy === "copy" ? await removeCopyFiles(ctx, r) : null;
  const row = await ctx.db.restoreJob.update({ where: { id: r.id }, data: { previousDroppedAt: at } });
  await writeRestoreRecord(ctx, toRecord(row));
  await audit(ctx.db, {
    actor,
    action: r.strategy === "copy" ? "restore.copy_dropped" : "restore.previous_dropped",
    target: r.backupId,
    targetId: r.targetId,
    details: { restoreId: r.id, database: r.previousDatabase, ...(files ? { files } : {}), ...details },
  });
  return row;
}

async function dropTargetPrevious(ctx: BackupContext, targetId: string, due: RestoreRow[], now: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const r of due) {
    const lock = await tryDestructiveLock(ctx.appDatabaseUrl, targetId);
    if (!lock) break;
    try {
      // Read again under the lock: kept longer (or dropped) since the list was read, it stays.
      const still = await ctx.db.restoreJob.findUnique({ where: { id: r.id } });
      if (!still?.previousDatabase || still.previousDroppedAt || !still.keepUntil || still.keepUntil >= now) continue;
      await dropKept(ctx, still, { type: "system", label: "sweep" }, now);
      dropped.push(still.previousDatabase);
    } catch (e) {
      log.warn({ restoreId: r.id, err: (e as Error).message }, "could not drop the database kept for undo");
    } finally {
      await lock.release();
    }
  }
  return dropped;
}

/**
 * Runs fn on a restore's row read under its target's destructive lock (409, with what was not
 * done, while another restore, undo, delete or pruning of the target holds it): Undo, drop
 * and keep-longer act on databases the sweep may drop meanwhile.
 */
async function underRestoreLock<T>(appCtx: BackupContext, restoreId: string, notDone: string, fn: (ctx: BackupContext, r: RestoreRow) => Promise<T>): Promise<T> {
  const found = await appCtx.db.restoreJob.findUnique({ where: { id: restoreId }, select: { targetId: true } });
  if (!found) throw notFound("Restore");
  // The restore's own target's databases, under that target's lock.
  const ctx = await contextForTargetId(appCtx, found.targetId);
  const lock = await tryDestructiveLock(ctx.appDatabaseUrl, found.targetId);
  if (!lock) throw new ApiError("OPERATION_IN_PROGRESS", `Another restore, undo, delete or pruning of ${ctx.target?.name ?? DEFAULT_TARGET_ID} is running; ${notDone}`);
  try {
    const r = await ctx.db.restoreJob.findUnique({ where: { id: restoreId } });
    if (!r) throw notFound("Restore");
    return await fn(ctx, r);
  } finally {
    await lock.release();
  }
}

/** The database a restore keeps beside the live one, or 409 saying why there is none. */
function keptDatabaseOf(r: RestoreRow): string {
  if (!r.previousDatabase || r.previousDroppedAt) {
    throw new ApiError("CONFLICT", r.previousDroppedAt ? `The database this restore kept (${r.previousDatabase}) was already dropped` : "This restore keeps no database beside the live one");
  }
  return r.previousDatabase;
}

/**
 * Undo restore: swaps the kept previous database back in place (seconds); the restored one
 * is kept in its turn until the same deadline, so an undo can be undone by hand.
 */
export async function undoRestore(appCtx: BackupContext, restoreId: string, actor: Actor, opts: { confirm: unknown }) {
  if (opts.confirm !== UNDO_WORD) {
    throw new ApiError("CONFIRMATION_REQUIRED", `Type ${UNDO_WORD} (exactly) to confirm the undo`, { expected: UNDO_WORD });
  }
  return underRestoreLock(appCtx, restoreId, "the undo was not started", async (ctx, r) => {
    if (!canUndo(r)) {
      const why = r.strategy === "copy"
        ? "it restored a copy beside the live database, which it never changed"
        : r.strategy !== "swap"
        ? "only a restore that swapped databases can be undone (this one ran in place; restore its safety backup instead)"
        : r.undoneAt
          ? "it was already undone"
          : "the previous database is no longer kept";
      throw new ApiError("CONFLICT", `This restore cannot be undone: ${why}`);
    }
    const names = swapNames(databaseOf(ctx.targetUrl), r.id);
    const exist = await databasesExist(ctx.targetUrl, [names.previous]);
    if (!exist.has(names.previous)) throw new ApiError("CONFLICT", `This restore cannot be undone: the database ${names.previous} no longer exists`);
    const swapSeconds = await swapDatabases(ctx.targetUrl, names.live, names.previous, names.undone).catch((e: { code?: string; message: string }) => {
      // Sessions it could not end (another superuser's, or a role's it has no right over):
      // nothing was swapped, and the live database takes connections again (decision 208).
      if (e.code !== "55006") throw e;
      throw new ApiError(
        "CONFLICT",
        `The undo could not swap the databases, and nothing was changed: ${e.message}. End those sessions, or give the role Vaultline connects as the right to (GRANT pg_signal_backend TO it), then undo again`,
      );
    });
    // Subscriptions detached at the swap take their slots back (decision 150); the database is back either way.
    const notes = await handBackSubscriptionSlots(ctx.targetUrl, withDatabase(ctx.targetUrl, names.undone)).catch((e: Error) => [
      `Undo: the subscriptions' slots could not be handed back (${e.message}); see docs/operations.md, "Logical replication subscriptions".`,
    ]);
    const row = await ctx.db.restoreJob.update({ where: { id: r.id }, data: { undoneAt: new Date(), previousDatabase: names.undone, ...(notes.length ? { warnings: [...r.warnings, ...notes] } : {}) } });
    await writeRestoreRecord(ctx, toRecord(row));
    await audit(ctx.db, { actor, action: "restore.undone", target: r.backupId, targetId: r.targetId, details: { restoreId: r.id, target: ctx.target, swapSeconds, keptAs: names.undone } });
    log.info({ restoreId: r.id, swapSeconds }, "restore undone");
    return { restoreId: r.id, undoneAt: row.undoneAt!.toISOString(), swapSeconds };
  });
}

/**
 * Drops the database a restore keeps beside the live one — a copy (decision 169) or a swap's
 * previous database — now rather than at `keepUntil` (decision 170): a copy is as big as the
 * database, and once what was lost has been read back the server wants its disk. A swap's
 * previous database dropped, its restore can no longer be undone: the confirmation says so.
 */
export async function dropKeptDatabase(appCtx: BackupContext, restoreId: string, actor: Actor, opts: { confirm: unknown }) {
  if (opts.confirm !== DROP_WORD) {
    throw new ApiError("CONFIRMATION_REQUIRED", `Type ${DROP_WORD} (exactly) to confirm dropping the kept database`, { expected: DROP_WORD });
  }
  return underRestoreLock(appCtx, restoreId, "nothing was dropped", async (ctx, r) => {
    const database = keptDatabaseOf(r);
    const row = await dropKept(ctx, r, actor, new Date(), { before: r.keepUntil?.toISOString() ?? null });
    log.info({ restoreId: r.id, database }, "kept database dropped on request");
    return { restoreId: r.id, database, droppedAt: row.previousDroppedAt!.toISOString() };
  });
}

/**
 * Keeps the database a restore keeps beside the live one (a copy, a swap's previous database)
 * until `hours` from now (decision 172): the copy still being read back, or an Undo that must
 * stay possible, outlived RESTORE_KEEP_PREVIOUS_HOURS, and the sweep dropped it. Never sooner
 * than it was kept. Under the target's restore lock, so the sweep cannot drop it meanwhile.
 */
export async function keepKeptDatabaseLonger(appCtx: BackupContext, restoreId: string, actor: Actor, opts: { hours: number }) {
  return underRestoreLock(appCtx, restoreId, "try again when it ends", async (ctx, r) => {
    const database = keptDatabaseOf(r);
    const asked = new Date(Date.now() + opts.hours * 3600_000);
    const keepUntil = r.keepUntil && r.keepUntil > asked ? r.keepUntil : asked;
    const row = await ctx.db.restoreJob.update({ where: { id: r.id }, data: { keepUntil } });
    await writeRestoreRecord(ctx, toRecord(row));
    const before = r.keepUntil?.toISOString() ?? null;
    await audit(ctx.db, {
      actor,
      action: "restore.kept_longer",
      target: r.backupId,
      targetId: r.targetId,
      details: { restoreId: r.id, database, hours: opts.hours, before, keepUntil: keepUntil.toISOString() },
    });
    log.info({ restoreId: r.id, database, keepUntil }, "kept database kept longer on request");
    return { restoreId: r.id, database, keepUntil: keepUntil.toISOString(), before };
  });
}

/** The restore side of the sweep: stale restores, interrupted file swaps, expired Undo copies. */
export async function restoreHousekeeping(appCtx: BackupContext): Promise<void> {
  await eachTarget(appCtx, "files swap recovery", async (ctx, targetId) => {
    if (!ctx.filesDir) return;
    const lock = await tryDestructiveLock(ctx.appDatabaseUrl, targetId);
    if (!lock) return;
    try {
      const done = await recoverFilesSwaps(ctx.filesDir);
      if (done.length) log.warn({ done, target: ctx.target?.name }, "interrupted files swaps recovered");
    } finally {
      await lock.release();
    }
  });
  await sweepStaleRestores(appCtx);
  await dropExpiredPrevious(appCtx);
  const removed = await removeOrphanSpools(async (ids) => {
    const rows = await appCtx.db.restoreJob.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
    return new Map(rows.map((r) => [r.id, r.status]));
  });
  if (removed.length) log.warn({ removed }, "spool directories of interrupted restores removed");
}

/**
 * Runs fn with each target's context. A target whose URL cannot be decrypted (a changed
 * TARGET_URL_SECRET) is logged and skipped: the others still get their housekeeping.
 */
async function eachTarget(appCtx: BackupContext, what: string, fn: (ctx: BackupContext, targetId: string) => Promise<void>): Promise<void> {
  const app = appCtx.appContext ?? appCtx;
  for (const t of await app.db.target.findMany({ orderBy: { createdAt: "asc" } })) {
    let ctx: BackupContext;
    try {
      ctx = contextForTarget(app, t);
    } catch (e) {
      log.warn({ target: t.name, err: (e as Error).message }, `${what}: target skipped`);
      continue;
    }
    try {
      await fn(ctx, t.id);
    } catch (e) {
      log.warn({ target: t.name, err: (e as Error).message }, `${what} failed for this target`);
    }
  }
}

/**
 * The restore's target's destructive lock, waited for. Restoring Vaultline's own database
 * also takes the catalogue's (the default target's name, which the catalogue sweeps take)
 * when that database is not the default target's.
 */
async function lockForRestore(ctx: BackupContext, targetId: string, targetIsApp: boolean, signal?: AbortSignal): Promise<HeldLock> {
  const own = await waitDestructiveLock(ctx.appDatabaseUrl, { signal, pollMs: 1000, targetId });
  if (!targetIsApp || targetId === DEFAULT_TARGET_ID) return own;
  try {
    const catalogue = await waitLock(ctx.appDatabaseUrl, LOCK_DESTRUCTIVE, DESTRUCTIVE_NAME, { signal, pollMs: 1000 });
    return {
      lost: AbortSignal.any([own.lost, catalogue.lost]),
      release: async () => {
        await catalogue.release();
        await own.release();
      },
    };
  } catch (e) {
    await own.release();
    throw e;
  }
}
