// A restore, end to end (DESIGN §5): verify every stored part → refuse on any doubt with the
// database untouched → PRE_RESTORE safety backup → pg_restore --clean --if-exists
// --single-transaction --no-owner (all or nothing) → files part swapped in → catalogue
// reconciled from storage → checks → the RestoreJob recorded in the database and in storage.
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import type { BackupContext } from "./context";
import { checkStoredParts } from "./verify";
import { createDecryptStream } from "./crypto";
import { pgBinary, parseToolVersion } from "./dump";
import { applyArchive } from "./apply-archive";
import { extractTarInto } from "./files";
import { runBackup, humanReason } from "./run-backup";
import { reconcileFromStorage, restoreRowData, writeRestoreRecord, type RestoreRecord } from "./reconcile";
import { LOCK_DESTRUCTIVE, waitLock } from "./locks";
import { buildPreview, diffSchemas } from "./preview";
import { excludedSchemas, schemaSnapshot, withoutSchemas, type SchemaSnapshot } from "./introspect";
import { emitEngineEvent } from "./events";
import { runChecks } from "./checks";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES, wakeLocalWorkers } from "../queue";
import { componentLogger } from "../log";
import { RESTORE_WORD } from "../validation/restores";
import { migrate } from "../migrate";
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const log = componentLogger("restore");
const exec = promisify(execFile);

export const RESTORE_STALE_AFTER_MS = 2 * 60_000;

function toRecord(r: {
  id: string;
  backupId: string;
  safetyBackupId: string | null;
  status: RestoreRecord["status"];
  phase: string | null;
  initiatedById: string | null;
  startedAt: Date | null;
  completedAt: Date | null;
  durationSeconds: number | null;
  failureReason: string | null;
  preview: unknown;
  checks: unknown;
  createdAt: Date;
}): RestoreRecord {
  return {
    ...r,
    startedAt: r.startedAt?.toISOString() ?? null,
    completedAt: r.completedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

/**
 * Validates the request and queues the restore with its safety backup row. Answers 422
 * without the exact word, 409 while another destructive operation is active.
 */
export async function startRestore(
  ctx: BackupContext,
  backupId: string,
  actor: Actor,
  opts: { confirm: unknown; initiatedById?: string | null; reason?: "restore" | "rollback" },
): Promise<{ restoreId: string; preRestoreBackupId: string }> {
  if (opts.confirm !== RESTORE_WORD) {
    throw new ApiError("CONFIRMATION_REQUIRED", `Type ${RESTORE_WORD} (exactly) to confirm the restore`, { expected: RESTORE_WORD });
  }
  const backup = await ctx.db.backupJob.findUnique({ where: { id: backupId } });
  if (!backup) throw notFound("Backup");
  if (backup.status !== "SUCCEEDED") throw new ApiError("CONFLICT", "Only a successful backup can be restored");
  if (backup.kind !== "FULL") throw new ApiError("CONFLICT", "A QUICK backup holds no data to restore");
  const hasFiles = ((backup.metadata as { parts?: { name: string }[] })?.parts ?? []).some((p) => p.name === "files");

  const { restore, safety } = await ctx.db.$transaction(async (tx) => {
    // Serialises concurrent requests: only one may see "no active restore" and insert.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${LOCK_DESTRUCTIVE}, 1)`;
    const active = await tx.restoreJob.count({ where: { status: { in: ["QUEUED", "RUNNING"] } } });
    if (active > 0) throw new ApiError("OPERATION_IN_PROGRESS", "Another restore is in progress; wait for it to finish");
    const safety = await tx.backupJob.create({
      data: {
        kind: "FULL",
        trigger: "PRE_RESTORE",
        initiatedById: opts.initiatedById ?? null,
        note: `Safety backup before restoring ${backupId}`,
        metadata: { includeFiles: hasFiles && !!ctx.filesDir, phases: [{ phase: "queued", at: new Date().toISOString() }], safetyFor: backupId },
      },
    });
    const restore = await tx.restoreJob.create({
      data: { backupId, safetyBackupId: safety.id, initiatedById: opts.initiatedById ?? null, status: "QUEUED", phase: "queued" },
    });
    return { restore, safety };
  });
  await writeRestoreRecord(ctx, toRecord(restore));
  await audit(ctx.db, {
    actor,
    action: opts.reason === "rollback" ? "rollback.restore_requested" : "restore.requested",
    target: backupId,
    details: { restoreId: restore.id, safetyBackupId: safety.id },
  });
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.restore, { restoreId: restore.id }, { singletonKey: restore.id });
  wakeLocalWorkers(QUEUES.restore);
  return { restoreId: restore.id, preRestoreBackupId: safety.id };
}

async function pgRestoreMajor(binDir?: string): Promise<number> {
  const { stdout } = await exec(pgBinary("pg_restore", binDir), ["--version"]);
  return parseToolVersion(stdout).major;
}

export async function runRestore(ctx: BackupContext, restoreId: string, opts: { signal?: AbortSignal } = {}): Promise<RestoreRecord["status"]> {
  const first = await ctx.db.restoreJob.findUnique({ where: { id: restoreId } });
  if (!first || first.status !== "QUEUED") return first?.status ?? "FAILED";
  const lock = await waitLock(ctx.appDatabaseUrl, LOCK_DESTRUCTIVE, "vaultline", { signal: opts.signal, pollMs: 1000 });
  const startedAt = new Date();
  let current: RestoreRecord = toRecord({ ...first, status: "RUNNING", startedAt, phase: "starting" });
  const targetIsApp = ctx.targetUrl === ctx.appDatabaseUrl;
  const rlog = log.child({ jobId: restoreId, backupId: first.backupId });

  // Every state change goes to storage first (it survives the restore), then the row.
  const save = async (patch: Partial<RestoreRecord>) => {
    current = { ...current, ...patch };
    await writeRestoreRecord(ctx, current);
    const data = await restoreRowData(ctx, current);
    await ctx.db.restoreJob.upsert({ where: { id: restoreId }, create: data, update: { ...data, id: undefined } }).catch((e: Error) => {
      rlog.warn({ err: e.message }, "restore row not updated (table being restored?)");
    });
  };
  const phase = (p: string) => {
    rlog.info({ phase: p }, "restore phase");
    return save({ phase: p });
  };
  // One heartbeat in flight at most: while pg_restore holds Vaultline's own tables, the
  // update waits, and piling more up would drain the connection pool.
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    ctx.db.restoreJob
      .updateMany({ where: { id: restoreId }, data: { heartbeatAt: new Date() } })
      .catch(() => {})
      .finally(() => (beating = false));
  }, ctx.heartbeatMs);

  try {
    await save({ status: "RUNNING", startedAt: startedAt.toISOString(), phase: "verifying" });
    await emitEngineEvent({ type: "restore.started", restoreId });
    const backup = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: first.backupId } });

    // 1. Refuse on any doubt, before anything is touched.
    const verify = await checkStoredParts(ctx, backup);
    if (!verify.ok || !verify.manifest) throw new RefusedError(`The backup failed verification: ${verify.reason}`);
    const manifest = verify.manifest;
    const dbPart = manifest.parts.find((p) => p.name === "database");
    if (!dbPart) throw new RefusedError("The backup has no database part");
    const filesPart = manifest.parts.find((p) => p.name === "files");
    if (filesPart && !ctx.filesDir) throw new RefusedError("The backup has a files part but FILES_DIR is not configured here");
    const dumpMajor = Number(manifest.pgDumpVersion.split(".")[0]);
    const restoreMajor = await pgRestoreMajor(ctx.pgBinDir);
    if (restoreMajor < dumpMajor) {
      throw new RefusedError(`pg_restore ${restoreMajor} cannot read an archive made by pg_dump ${dumpMajor}: install PostgreSQL ${dumpMajor} client tools or set PG_BIN_DIR`);
    }
    const { manifest: _m, ...preview } = await buildPreview(ctx, backup, verify);
    await save({ preview });

    // 2. The safety backup; without it the restore does not run.
    await phase("safety backup");
    if (current.safetyBackupId) {
      const s = await runBackup(ctx, current.safetyBackupId, { insideDestructiveOperation: true });
      if (s.status !== "SUCCEEDED") throw new RefusedError(`The safety backup failed (${s.failureReason ?? s.status}); the restore did not run`);
    }

    // 3. All or nothing.
    await phase("restoring database");
    await applyArchive({
      storedStream: await ctx.storage.get(dbPart.key),
      passphrase: ctx.passphrase,
      expectedStoredSha256: dbPart.sha256,
      targetUrl: ctx.targetUrl,
      // Computed now, not at preview time: tables created since are dropped too.
      dropTables: diffSchemas(
        withoutSchemas(await schemaSnapshot(ctx.targetUrl), excludedSchemas(ctx.targetUrl, ctx.appDatabaseUrl)),
        (manifest as { schema?: SchemaSnapshot }).schema ?? { tables: {} },
      ).tables.dropped,
      binDir: ctx.pgBinDir,
      signal: opts.signal,
    });

    // 4. Files: extracted beside the live directory, swapped in at the end.
    if (filesPart && ctx.filesDir) {
      await phase("restoring files");
      const live = path.resolve(ctx.filesDir);
      const fresh = `${live}.restore-${restoreId}`;
      const old = `${live}.before-${restoreId}`;
      const enc = await ctx.storage.get(filesPart.key);
      const tarStream = enc.pipe(createDecryptStream(ctx.passphrase));
      enc.on("error", (e) => tarStream.destroy(e));
      await extractTarInto(tarStream, fresh);
      await rename(live, old).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      await rename(fresh, live);
      await rm(old, { recursive: true, force: true });
    }

    // 5. Vaultline's own tables were just replaced: re-read history from storage.
    if (targetIsApp) {
      await phase("reconciling catalogue");
      // An older backup brings older Vaultline tables: bring them back to this version first.
      await migrate(ctx.appDatabaseUrl);
      const r = await reconcileFromStorage(ctx);
      rlog.info(r, "catalogue reconciled");
    }

    // 6. Checks.
    await phase("running checks");
    const checks = await runChecks({
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
      completedAt: done.toISOString(),
      durationSeconds: (done.getTime() - startedAt.getTime()) / 1000,
    });
    await audit(ctx.db, {
      actor: { type: "system", label: "worker" },
      action: "restore.succeeded",
      target: backup.id,
      details: { restoreId, safetyBackupId: current.safetyBackupId, durationSeconds: current.durationSeconds },
    });
    rlog.info({ durationSeconds: current.durationSeconds }, "restore succeeded");
    return "SUCCEEDED";
  } catch (e) {
    const reason = humanReason(e);
    const done = new Date();
    await save({ status: "FAILED", phase: "failed", failureReason: reason, completedAt: done.toISOString(), durationSeconds: (done.getTime() - startedAt.getTime()) / 1000 });
    // A refused restore never needs its safety backup: mark it so it does not run later.
    if (current.safetyBackupId) {
      await ctx.db.backupJob.updateMany({
        where: { id: current.safetyBackupId, status: "QUEUED" },
        data: { status: "CANCELLED", phase: "cancelled", completedAt: done, failureReason: "The restore it was for did not run" },
      });
    }
    await audit(ctx.db, { actor: { type: "system", label: "worker" }, action: "restore.failed", target: first.backupId, details: { restoreId, reason } });
    rlog.warn({ reason }, "restore failed");
    return "FAILED";
  } finally {
    clearInterval(heartbeat);
    await lock.release();
    await emitEngineEvent({ type: "restore.finished", restoreId, status: current.status === "SUCCEEDED" ? "SUCCEEDED" : "FAILED" });
  }
}

/** A refusal before the database was touched. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

/** RUNNING restores whose worker died: pg_restore ran in one transaction, so the target is unchanged. */
export async function sweepStaleRestores(ctx: BackupContext, now = new Date()): Promise<string[]> {
  const cutoff = new Date(now.getTime() - RESTORE_STALE_AFTER_MS);
  const stale = await ctx.db.restoreJob.findMany({
    where: { status: "RUNNING", OR: [{ heartbeatAt: { lt: cutoff } }, { heartbeatAt: null, startedAt: { lt: cutoff } }] },
  });
  const failed: string[] = [];
  for (const r of stale) {
    const reason = `The worker stopped responding during "${r.phase}"; pg_restore runs in a single transaction, so the database is as it was before the restore.`;
    const upd = await ctx.db.restoreJob.updateMany({
      where: { id: r.id, status: "RUNNING", updatedAt: r.updatedAt },
      data: { status: "FAILED", phase: "failed", failureReason: reason, completedAt: now },
    });
    if (!upd.count) continue;
    failed.push(r.id);
    const row = await ctx.db.restoreJob.findUniqueOrThrow({ where: { id: r.id } });
    await writeRestoreRecord(ctx, toRecord(row));
    await audit(ctx.db, { actor: { type: "system", label: "sweep" }, action: "restore.failed", target: r.backupId, details: { restoreId: r.id, reason } });
  }
  return failed;
}
