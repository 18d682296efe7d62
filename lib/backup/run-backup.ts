// One backup attempt, end to end (DESIGN §4):
//   pg_dump -Fc -Z0 → zstd (the compression setting) → SHA-256 → OpenPGP AES-256 → SHA-256
//   → storage, then the manifest,
// then SUCCEEDED — only once both objects are stored and their sizes confirmed.
import type { BackupContext } from "./context";
import { writeEncryptedObject } from "./archive";
import { dumpCompatibility, pgDumpVersion as pgDumpVersionOf, serverVersion, spawnPgDump } from "./dump";
import { databaseLocaleAt } from "./db-locale";
import { assertFilesDir, FilesReport, tarDirectory } from "./files";
import { currentKey, manifestEncryption } from "./keyring";
import { keysForJob, manifestDigest, serializeManifest, type Manifest, type ManifestPart, type TableChecksums } from "./manifest";
import { catalogSnapshot } from "./catalog-snapshot";
import { excludedSchemas, prismaMigrationRows, schemaHash, schemaSnapshot, tableRowEstimates, withoutSchemas } from "./introspect";
import { withClient } from "./pg-client";
import { connectionRoomProblem, FULL_BACKUP_SESSIONS, isTooManyConnections, readConnectionRoom, withConnectionRoom } from "./connection-room";
import { databaseHost, databaseName } from "./libpq";
import { hasSeveralHosts, sessionHost } from "../pg-hosts";
import { CancelledError, TimeoutError, removeOrphanedUploads, startHeartbeat } from "./jobs";
import { tryDestructiveLock, waitBackupLock, type HeldLock } from "./locks";
import { contextForTargetId, DEFAULT_TARGET_ID } from "./targets";
import { pinnedTarget } from "./pinned-host";
import { targetRecordKey } from "./mirror";
import { NO_COMMIT_MESSAGE, resolveCommit } from "./commit";
import { emitEngineEvent } from "./events";
import { audit } from "../audit";
import { componentLogger } from "../log";
import { StorageUnavailableError } from "./storage/types";
import { pgDumpCompressionArgs, type PartCompression } from "./compression";
import { databaseSizeBytes, estimateArchiveBytes, previousArchiveBytes } from "./size-estimate";
import { getSettings } from "../settings";
import { DEFAULT_BLOCKING_ALERT_SECONDS, DEFAULT_LOCK_WAIT_SECONDS, GaveWayError, isLockTimeout, watchBackupLocks, type BackupLockWatch, type LockSample } from "./backup-locks";
import { lockTimeoutReason } from "../backup-locks-text";
import { BACKUP_PHASE, triggerWord, type BackupLocksDto } from "../validation/backups";
import { exportSnapshot, snapshotChecksums, type ExportedSnapshot } from "./table-checksums";
import { poolerProblem, sharesServerSessions } from "./pooler";
import { recoveryConflictHint, scrubPasswords } from "./pg-process";
import { DEFAULT_SETTINGS, type CompressionSettings } from "../validation/settings";

const log = componentLogger("admin-backups");
const APP_VERSION = process.env.npm_package_version ?? "0.1.0";

export interface RunOptions {
  signal?: AbortSignal;
  /** The restore's own safety backup: it already holds the destructive lock. */
  insideDestructiveOperation?: boolean;
}

export type RunResult = { status: "SUCCEEDED" | "FAILED" | "CANCELLED" | "SKIPPED"; failureReason?: string };

/** Turns any failure into the one sentence an operator reads at 3 a.m. */
export function humanReason(e: unknown): string {
  if (e instanceof CancelledError || e instanceof TimeoutError || e instanceof GaveWayError) return e.message;
  if (e instanceof StorageUnavailableError) return `Storage unavailable: ${e.message}`;
  const err = e as Error & { code?: string };
  if (err?.name === "AbortError") return "The backup was stopped before it finished";
  // libpq and pg quote a connection string now and then: never its password.
  const first = scrubPasswords((err?.message ?? String(e)).split("\n")[0]);
  // Vaultline's own session in the dump's snapshot (the table checksums) meets a standby's
  // conflicts too; pg_dump's reason carries the hint already (reasonFromStderr).
  const hint = recoveryConflictHint(first);
  return (hint && !first.includes(hint) ? `${first} — ${hint}` : first).slice(0, 1500);
}

async function waitForNoRestore(ctx: BackupContext, signal: AbortSignal, onWait: () => Promise<void>) {
  for (;;) {
    signal.throwIfAborted();
    // A restore of this target only: other targets' restores do not touch its database.
    const probe = await tryDestructiveLock(ctx.appDatabaseUrl, ctx.target?.id);
    if (probe) return probe.release();
    await onWait();
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Rejects as soon as signal aborts, for steps that cannot be cancelled themselves. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The context's codec (tests), else the setting; a broken stored setting falls back to the default. */
async function compressionFor(ctx: BackupContext, jlog: typeof log): Promise<CompressionSettings> {
  if (ctx.compression) return ctx.compression;
  try {
    return (await getSettings(ctx.db)).compression;
  } catch (e) {
    jlog.warn({ err: (e as Error).message }, "compression setting unreadable; using the default");
    return DEFAULT_SETTINGS.compression;
  }
}

/**
 * The drill setting's bound on checksummed tables, in MB, or null when drills are off:
 * the checksum pass reads every table a second time beside pg_dump (decision 66), which
 * only a drill uses, so without drills a backup costs what pg_dump costs (issue 14).
 */
async function drillChecksumBound(ctx: BackupContext, jlog: typeof log): Promise<number | null> {
  try {
    const { drill } = await getSettings(ctx.db);
    return drill.enabled ? drill.checksumMaxTableMb : null;
  } catch (e) {
    jlog.warn({ err: (e as Error).message }, "drill setting unreadable; default checksum bound");
    return DEFAULT_SETTINGS.drill.enabled ? DEFAULT_SETTINGS.drill.checksumMaxTableMb : null;
  }
}

export async function runBackup(appCtx: BackupContext, jobId: string, opts: RunOptions = {}): Promise<RunResult> {
  const first = await appCtx.db.backupJob.findUnique({ where: { id: jobId } });
  if (!first || first.status !== "QUEUED") return { status: "SKIPPED" };
  // The job runs against its own target: its database, environment, checks and files.
  const ctx = await contextForTargetId(appCtx, first.targetId);

  const abort = new AbortController();
  opts.signal?.addEventListener("abort", () => abort.abort(opts.signal!.reason), { once: true });
  const waiting = async (why: string, waitingFor: string | null = null) => {
    await ctx.db.$executeRaw`
      UPDATE "BackupJob" SET "heartbeatAt" = now(), phase = ${why}, "updatedAt" = now(),
             metadata = CASE WHEN ${waitingFor}::text IS NULL THEN metadata - 'waitingFor' ELSE jsonb_set(metadata, '{waitingFor}', to_jsonb(${waitingFor}::text)) END
       WHERE id = ${jobId} AND status = 'QUEUED'`;
  };
  // Which backup holds the target's lock, by name (decision 176): a restore's safety backup
  // waiting behind a nightly one must say so, and which one to cancel to go ahead.
  let waitedForBackup = false;
  const waitingForBackup = async () => {
    waitedForBackup = true;
    const other = await ctx.db.backupJob.findFirst({
      where: { targetId: first.targetId, status: "RUNNING", id: { not: jobId } },
      orderBy: { startedAt: "asc" },
      select: { id: true, kind: true, trigger: true, phase: true },
    });
    if (!other) return waiting("waiting for another backup");
    return waiting(`waiting for backup ${other.id} (${other.kind} ${triggerWord(other.trigger)}, ${other.phase ?? BACKUP_PHASE.starting}) to finish`, other.id);
  };

  // One backup per target at a time (locked by the target's id); others of that target wait
  // QUEUED (with a heartbeat, so the sweep knows they are alive), and nothing starts while
  // a restore of that target is running. Other targets' backups run beside it.
  let lock: HeldLock | undefined;
  try {
    lock = await waitBackupLock(ctx.appDatabaseUrl, first.targetId, {
      signal: abort.signal,
      onWait: waitingForBackup,
    });
    if (!opts.insideDestructiveOperation) await waitForNoRestore(ctx, abort.signal, () => waiting("waiting for a restore to finish"));
  } catch (e) {
    await lock?.release();
    throw e;
  }
  // A lock lost to another backup of this target: this one stops (locks.ts).
  lock.lost.addEventListener("abort", () => abort.abort(lock.lost.reason), { once: true });

  const startedAt = new Date();
  const claimed = await ctx.db.backupJob.updateMany({
    where: { id: jobId, status: "QUEUED" },
    data: { status: "RUNNING", startedAt, heartbeatAt: startedAt, phase: BACKUP_PHASE.starting },
  });
  if (claimed.count === 0) {
    await lock.release();
    return { status: "SKIPPED" };
  }
  if (waitedForBackup) await ctx.db.$executeRaw`UPDATE "BackupJob" SET metadata = metadata - 'waitingFor' WHERE id = ${jobId}`;
  const job = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId }, include: { initiatedBy: true } });
  const keys = keysForJob(ctx, { id: job.id, createdAt: job.createdAt });
  const hb = startHeartbeat(ctx, jobId, abort);
  const timeout = setTimeout(() => abort.abort(new TimeoutError(Math.round(ctx.timeoutMs / 60_000))), ctx.timeoutMs);
  const jlog = log.child({ jobId, kind: job.kind, trigger: job.trigger, target: ctx.target?.name });
  jlog.info("backup started");
  let snap: ExportedSnapshot | undefined;
  // The dump's locks on the database (decision 175): watched while pg_dump and the checksums
  // hold or wait for them, kept in metadata.locks for the backup's page.
  const lockWaitSeconds = ctx.backupLockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS;
  const lockIntervalMs = Math.min(ctx.heartbeatMs, 2000);
  let locks: BackupLockWatch | undefined;
  let lockWrites = Promise.resolve();
  const writeLocks = (value: BackupLocksDto | null) => {
    lockWrites = lockWrites
      .then(async () => {
        if (value) await ctx.db.$executeRaw`UPDATE "BackupJob" SET metadata = jsonb_set(metadata, '{locks}', ${JSON.stringify(value)}::jsonb) WHERE id = ${jobId}`;
        else await ctx.db.$executeRaw`UPDATE "BackupJob" SET metadata = metadata - 'locks' WHERE id = ${jobId}`;
      })
      .catch((e: Error) => jlog.warn({ err: e.message }, "the backup's locks were not recorded"));
    return lockWrites;
  };
  /** Stops the watch; what stays is who waited for the backup, if anyone did. */
  const endLocks = async () => {
    const w = locks;
    if (!w) return;
    locks = undefined;
    await w.stop();
    const blocked = w.blocked();
    await writeLocks(blocked.length ? { at: null, waiting: [], blocking: [], blocked } : null);
  };

  // The target as the backup's sessions reach it (one host of a failover URL, set below).
  let url = ctx.targetUrl;
  try {
    const includeFiles = job.kind === "FULL" && !!(job.metadata as { includeFiles?: boolean })?.includeFiles;
    if (includeFiles && !ctx.filesDir) throw new Error("includeFiles was requested but FILES_DIR is not configured");
    if (includeFiles) await assertFilesDir(ctx.filesDir!);

    await hb.phase(BACKUP_PHASE.inspecting);
    // A failover URL's host, chosen once for the whole backup (decision 190): every session
    // and pg_dump go to it. The manifest still names the URL's hosts as written.
    url = await pinnedTarget(ctx.targetUrl);
    const full = job.kind === "FULL";
    const toS3 = ctx.storage.kind === "s3";
    // What opens no session on the target starts at once, beside the probes below, and the
    // dump waits only for what it needs to start (decision 193): pg_dump's version (a spawn),
    // the commit (git), and from Vaultline's own database the compression setting (then, for
    // S3, the previous archive's size) and the key (its id is recognised by a ~0.2 s scrypt,
    // decision 120). The key is awaited once pg_dump runs: it encrypts the first bytes, not
    // the dump's start, and pg_dump reads the catalogue meanwhile.
    const dumpVersion = full ? pgDumpVersionOf(ctx.pgBinDir).catch((e: Error) => e) : null;
    const commitP = resolveCommit(job.commitSha, ctx.appCommitSha, ctx.appRepoDir);
    const compressionP = full ? compressionFor(ctx, jlog) : Promise.resolve(null);
    // One key for the whole bundle, even if a rotation happens meanwhile.
    const keyP = currentKey(ctx);
    const previousP = full && toS3 ? compressionP.catch(() => undefined).then(() => previousArchiveBytes(ctx.db, first.targetId)) : null;
    for (const p of [commitP, compressionP, keyP, previousP]) p?.catch(() => {});
    // The pooler probe first and alone: another session of ours through the same pooler could
    // take the server session it waits to see shared.
    const pooled = full ? await sharesServerSessions(url) : false;
    // The room alone too: a session of ours beside it would count as the application's. The
    // same session reads the server's version (for pg_dump's) and, for S3, the database's size
    // (the part plan's estimate, and the manifest's): no session of their own (decision 193).
    const at =
      full && !pooled
        ? await withClient(url, async (c) => ({ room: await readConnectionRoom(c), server: await serverVersion(c), size: toS3 ? await databaseSizeBytes(c) : undefined }), "vaultline-inspect")
        : null;
    const compat = at && dumpVersion ? dumpCompatibility(await dumpVersion, at.server) : null;
    if (compat && !compat.ok) throw new Error(compat.reason);
    // Room for every session the dump holds at once, before any is opened (decision 178).
    const roomReason = at && connectionRoomProblem(at.room, FULL_BACKUP_SESSIONS, "A FULL backup");
    if (roomReason) throw new Error(roomReason);
    const poolerReason = poolerProblem(pooled, "backup");
    if (poolerReason) throw new Error(poolerReason);
    const pgDumpVersion = compat?.ok ? compat.pgDump.full : "not used";
    const [commitSha, compression] = await Promise.all([commitP, compressionP]);
    if (job.kind === "QUICK" && !commitSha) throw new Error(NO_COMMIT_MESSAGE);
    const excluded = excludedSchemas(url, ctx.appDatabaseUrl);
    // Inspection runs beside the dump rather than before it (it is ~0.2 s of catalogue
    // queries and row counts, bounded by their own timeouts); the manifest waits for both.
    // One session, its queries one after another: seven side by side took seven of the
    // server's connections at the dump's start (decision 178). The row counts go last.
    const inspection = abortable(
      withClient(
        url,
        async (c) => {
          const version = await serverVersion(c);
          const locale = await databaseLocaleAt(c);
          // Read before the dump for S3; beside it otherwise (pg_database_size stats every file).
          const size = !full ? null : at?.size !== undefined ? at.size : await databaseSizeBytes(c);
          const schema = await schemaSnapshot(c);
          const catalog = full ? await catalogSnapshot(c, excluded) : undefined;
          const prisma = await prismaMigrationRows(url, c);
          const rows = full ? await tableRowEstimates(c, { countTimeoutMs: 5000 }) : null;
          return [schema, prisma, rows, version, catalog, locale, size] as const;
        },
        "vaultline-inspect",
      ),
      abort.signal,
    );
    inspection.catch(() => {});

    const parts: ManifestPart[] = [];
    let dbCompression: PartCompression | null = null;
    let tableChecksums: Promise<TableChecksums | null> = Promise.resolve(null);
    let dumpedFrom: string | null = null;
    const giveWaySeconds = job.trigger === "SCHEDULED" ? (ctx.backupGiveWaySeconds ?? 0) : 0;
    if (full && compression) {
      // One snapshot for pg_dump and the per-table checksums a drill compares with
      // (table-checksums.ts): held open until the dump has finished.
      snap = await abortable(exportSnapshot(url), abort.signal);
      // pg_dump reads the snapshot, so it dumps from the host this session chose (decision 184).
      if (hasSeveralHosts(ctx.targetUrl)) dumpedFrom = sessionHost(ctx.targetUrl, snap.client)?.spec ?? null;
      locks = watchBackupLocks(url, {
        intervalMs: lockIntervalMs,
        log: jlog,
        onSample: (s: LockSample | null, blocked) => void writeLocks(s ? { ...s, blocked } : blocked.length ? { at: null, waiting: [], blocking: [], blocked } : null),
        // A migration held up, the application's queries behind it: announced once per backup.
        alertAfterSeconds: ctx.backupBlockingAlertSeconds ?? DEFAULT_BLOCKING_ALERT_SECONDS,
        onLongWait: (session) => void emitEngineEvent({ type: "backup.blocking", jobId, session }),
        // A scheduled backup, which nobody is waiting for, may give way to the session it holds
        // up (decision 187): stopped at once, failed with who it gave way to, and retried.
        ...(giveWaySeconds > 0 && {
          giveWayAfterSeconds: giveWaySeconds,
          onGiveWay: (session) => {
            jlog.warn({ pid: session.pid, application: session.application, table: session.table, seconds: session.seconds }, "the backup gives way to a session it holds up");
            abort.abort(new GaveWayError(session, giveWaySeconds, ctx.backupGiveWaySetBy));
          },
        }),
      });
      await hb.phase(BACKUP_PHASE.dumping);
      const dump = spawnPgDump(url, {
        snapshot: snap.snapshotId,
        binDir: ctx.pgBinDir,
        signal: abort.signal,
        // pg-boss's queue lives in Vaultline's database; restoring it would replay old jobs.
        excludeSchemas: excluded,
        extraArgs: pgDumpCompressionArgs(compression),
        // A lock another session holds is waited for this long, then the backup fails naming it.
        lockWaitTimeoutMs: lockWaitSeconds * 1000,
      });
      const boundMb = await drillChecksumBound(ctx, jlog);
      if (boundMb !== null) {
        tableChecksums = snapshotChecksums(snap, {
          excludeSchemas: excluded,
          maxTableBytes: boundMb * 1024 * 1024,
          signal: abort.signal,
          onError: (e) => jlog.warn({ err: e.message }, "table checksums not taken; drills of this backup compare row counts only"),
        });
      }
      // The archive stream carries pg_dump's own failure reason, so the upload is awaited
      // first; dump.done then confirms the exit code.
      dump.done.catch(() => {});
      // pg_dump reads the catalogue meanwhile; its first bytes wait in the pipe for the key.
      const encryptionKey = await keyP;
      const expectedBytes = previousP ? estimateArchiveBytes(at?.size ?? null, await previousP) : null;
      const written = await writeEncryptedObject({
        source: dump.stdout,
        storage: ctx.storage,
        key: keys.archive,
        passphrase: encryptionKey.key,
        signal: abort.signal,
        compression,
        expectedBytes: expectedBytes ?? undefined,
        onProgress: (plain) => hb.progress(plain),
      });
      await dump.done;
      const checksums = await tableChecksums;
      await snap.end();
      // Every table lock of the backup's is released by now.
      await endLocks();
      tableChecksums = Promise.resolve(checksums);
      dbCompression = written.compression ?? null;
      parts.push({
        name: "database",
        key: keys.archive,
        sizeBytes: written.storedBytes,
        plainSizeBytes: written.plainBytes,
        sha256: written.storedSha256,
        plainSha256: written.plainSha256,
        contentType: "application/vnd.postgresql.custom+pgp",
        compression: written.compression,
      });
      if (includeFiles) {
        await hb.phase("archiving files");
        const filesReport = new FilesReport();
        const files = await writeEncryptedObject({
          source: tarDirectory(ctx.filesDir!, filesReport),
          storage: ctx.storage,
          key: keys.files,
          passphrase: encryptionKey.key,
          signal: abort.signal,
          onProgress: (plain) => hb.progress((written.compression?.inputBytes ?? written.plainBytes) + plain),
        });
        parts.push({
          name: "files",
          key: keys.files,
          sizeBytes: files.storedBytes,
          plainSizeBytes: files.plainBytes,
          sha256: files.storedSha256,
          plainSha256: files.plainSha256,
          contentType: "application/x-tar+pgp",
          ...filesReport.record(),
        });
      }
    }

    const [rawSnapshot, migrations, rawRowEstimates, server, catalog, locale, databaseBytes] = await inspection;
    const encryptionKey = await keyP;
    const snapshot = withoutSchemas(rawSnapshot, excluded);
    const rowEstimates = withoutSchemas(rawRowEstimates, excluded);
    await hb.phase("writing manifest");
    abort.signal.throwIfAborted();
    const completedAt = new Date();
    const sizeBytes = parts.reduce((n, p) => n + p.sizeBytes, 0);
    const manifest: Manifest = {
      formatVersion: 1,
      id: job.id,
      kind: job.kind,
      trigger: job.trigger,
      createdAt: job.createdAt.toISOString(),
      startedAt: startedAt.toISOString(),
      completedAt: completedAt.toISOString(),
      durationSeconds: (completedAt.getTime() - startedAt.getTime()) / 1000,
      database: {
        name: databaseName(ctx.targetUrl),
        serverVersion: server.full,
        host: databaseHost(ctx.targetUrl),
        ...(dumpedFrom ? { dumpedFrom } : {}),
        locale,
        ...(databaseBytes === null ? {} : { sizeBytes: databaseBytes }),
      },
      pgDumpVersion,
      commitSha,
      note: job.note,
      initiatedBy: job.initiatedBy ? { id: job.initiatedBy.id, email: job.initiatedBy.email, displayName: job.initiatedBy.displayName } : null,
      schemaHash: schemaHash(snapshot),
      prismaMigrations: migrations,
      tableRowEstimates: rowEstimates,
      tableChecksums: await tableChecksums,
      encryption: manifestEncryption(encryptionKey),
      parts,
      sizeBytes,
      checksumSha256: parts.find((p) => p.name === "database")?.sha256 ?? null,
      appVersion: APP_VERSION,
      target: ctx.target ? { ...ctx.target } : undefined,
      schema: snapshot,
      catalog,
    };
    const manifestText = serializeManifest(manifest);
    // Where this target's backups are, for a catalogue that must be rebuilt without its row.
    if (ctx.target && ctx.target.id !== DEFAULT_TARGET_ID) {
      await ctx.storage.putBytes(targetRecordKey(ctx, ctx.target.id), JSON.stringify(ctx.target), "application/json");
    }
    await ctx.storage.putBytes(keys.manifest, manifestText, "application/json");

    await hb.phase("confirming");
    for (const p of parts) {
      const head = await ctx.storage.head(p.key);
      if (!head || head.size !== p.sizeBytes) throw new Error(`stored ${p.name} part is ${head?.size ?? "missing"} bytes, expected ${p.sizeBytes}`);
    }
    if (!(await ctx.storage.head(keys.manifest))) throw new Error("the manifest is missing right after it was written");
    abort.signal.throwIfAborted();

    const quickSha = manifestDigest(manifestText);
    const finishedAt = new Date();
    // Re-read: the heartbeat has appended phases since the job was loaded.
    const { metadata: current } = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId }, select: { metadata: true } });
    await ctx.db.backupJob.update({
      where: { id: jobId },
      data: {
        status: "SUCCEEDED",
        phase: "done",
        completedAt: finishedAt,
        durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
        storageKey: job.kind === "FULL" ? keys.archive : keys.manifest,
        sizeBytes: BigInt(job.kind === "FULL" ? sizeBytes : Buffer.byteLength(manifestText)),
        checksumSha256: job.kind === "FULL" ? manifest.checksumSha256 : quickSha,
        manifestSha256: quickSha,
        encryptionKeyId: parts.length ? encryptionKey.id : null,
        progressBytes: BigInt(parts.reduce((n, p) => n + (p.compression?.inputBytes ?? p.plainSizeBytes), 0)),
        commitSha,
        heartbeatAt: finishedAt,
        metadata: {
          ...(current as object),
          // The last phase is written with the status, so no reader sees SUCCEEDED without it.
          phases: [...((current as { phases?: object[] })?.phases ?? []), { phase: "done", at: finishedAt.toISOString() }],
          manifestKey: keys.manifest,
          parts: parts.map((p) => ({ name: p.name, key: p.key, sizeBytes: p.sizeBytes, sha256: p.sha256 })),
          schemaHash: manifest.schemaHash,
          pgDumpVersion,
          serverVersion: server.full,
          compression: dbCompression,
        },
      },
    });
    await audit(ctx.db, {
      actor: { type: "system", label: "worker" },
      action: "backup.succeeded",
      target: jobId,
      targetId: job.targetId,
      details: { kind: job.kind, trigger: job.trigger, sizeBytes, checksumSha256: manifest.checksumSha256 },
    });
    jlog.info({ sizeBytes, durationSeconds: manifest.durationSeconds }, "backup succeeded");
    // The store is reachable now: clear what an earlier failed attempt could not abort.
    await removeOrphanedUploads(ctx).catch((e: Error) => jlog.warn({ err: e.message }, "could not clean unfinished uploads"));
    return { status: "SUCCEEDED" };
  } catch (e) {
    let reason = humanReason(abort.signal.aborted && abort.signal.reason ? abort.signal.reason : e);
    // pg_dump gave up waiting for a lock: said with whose, from the last sample that showed it.
    if (isLockTimeout(reason)) reason = lockTimeoutReason(lockWaitSeconds, locks?.lastWaiting(3 * lockIntervalMs + 1000)?.waiting[0] ?? null);
    await endLocks().catch(() => undefined);
    const cancelled = abort.signal.reason instanceof CancelledError;
    if (!abort.signal.aborted) abort.abort(e);
    // Nothing half-written may remain listed: remove every object this attempt may have made.
    await Promise.all([keys.archive, keys.files, keys.manifest].map((k) => ctx.storage.delete(k).catch(() => {})));
    // A session refused after the count (the application's pool grew meanwhile): what the
    // backup holds, and the room as the server gives it once the backup's own are closed.
    if (!cancelled && isTooManyConnections(e)) {
      await snap?.end();
      snap = undefined;
      reason = await withConnectionRoom(reason, url, `A FULL backup holds up to ${FULL_BACKUP_SESSIONS} sessions on the target at once. A scheduled backup is retried.`, FULL_BACKUP_SESSIONS);
    }
    const status = cancelled ? "CANCELLED" : "FAILED";
    await ctx.db.backupJob.update({
      where: { id: jobId },
      data: { status, phase: status.toLowerCase(), completedAt: new Date(), failureReason: reason, heartbeatAt: new Date() },
    });
    await audit(ctx.db, {
      actor: { type: "system", label: "worker" },
      action: cancelled ? "backup.cancelled" : "backup.failed",
      target: jobId,
      targetId: job.targetId,
      details: { reason },
    });
    jlog.warn({ reason }, `backup ${status.toLowerCase()}`);
    return { status, failureReason: reason };
  } finally {
    await endLocks().catch(() => undefined);
    await snap?.end();
    clearTimeout(timeout);
    hb.stop();
    await lock.release();
    const final = await ctx.db.backupJob.findUnique({ where: { id: jobId }, select: { status: true } });
    if (final && (final.status === "SUCCEEDED" || final.status === "FAILED" || final.status === "CANCELLED")) {
      await emitEngineEvent({ type: "backup.finished", jobId, status: final.status });
    }
  }
}
