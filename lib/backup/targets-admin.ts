// Managing targets (DESIGN §8): list, add, change, test and remove the databases Vaultline
// protects. A connection URL is tested before it is stored, stored only encrypted
// (target-secret.ts), and never returned, logged or audited: views and audit details carry
// host and database only. The default target is the environment's (BACKUP_ENV,
// TARGET_DATABASE_URL): only its settings change here, and it cannot be removed.
import type { BackupContext } from "./context";
import type { Prisma } from "../generated/prisma/client";
import { audit, type Actor } from "../audit";
import { ApiError } from "../errors";
import { plural } from "../format";
import { componentLogger } from "../log";
import { encryptTargetUrl } from "./target-secret";
import { describeDatabaseUrl, requireTarget, targetRef, targetSettings, targetUrl, type TargetRow } from "./targets";
import { connectionFailed, testTargetConnection, type TargetTestResult } from "./target-test";
import { removeBackupObjects, withDestructiveSlot } from "./delete";
import { syncTargetSchedules } from "./schedule";
import { targetsOverview as overviewList, type TargetToday as OverviewRow } from "./today";

type TargetToday = Omit<OverviewRow, "targetId">;

async function targetsOverview(db: BackupContext["db"], now: Date): Promise<Map<string, TargetToday>> {
  return new Map((await overviewList(db, now)).map(({ targetId, ...today }) => [targetId, today]));
}
import { ACTIVE_JOB_STATUSES } from "../validation/backups";
import { socketHostInline } from "../pg-hosts";
import { checksStateKey, type CreateTargetInput, type TargetSettings, type UpdateTargetInput } from "../validation/targets";

const log = componentLogger("targets");

export interface TargetView {
  id: string;
  name: string;
  environment: string;
  host: string;
  database: string;
  isDefault: boolean;
  /** A connection URL is stored (false only for the default target, whose URL is TARGET_DATABASE_URL). */
  hasUrl: boolean;
  settings: TargetSettings;
  /** Its backups of any status: what a forced removal deletes. */
  backupCount: number;
  createdAt: Date;
  updatedAt: Date;
  today: TargetToday;
}

type StoredTarget = TargetRow & { createdAt: Date; updatedAt: Date };

const EMPTY_TODAY: TargetToday = { state: "missing", lastSuccess: null, nextRunAt: null, sizes: [], locks: null };

function view(t: StoredTarget, today: TargetToday | undefined, backupCount: number): TargetView {
  return {
    id: t.id,
    name: t.name,
    environment: t.environment,
    host: t.host,
    database: t.database,
    isDefault: t.isDefault,
    hasUrl: t.databaseUrlEncrypted !== null,
    settings: targetSettings(t),
    backupCount,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    today: today ?? EMPTY_TODAY,
  };
}

/** What the audit trail may say about a target: never its URL. */
const auditable = (t: Pick<TargetRow, "name" | "environment" | "host" | "database">) => ({ name: t.name, environment: t.environment, host: t.host, database: t.database });

async function stored(ctx: Pick<BackupContext, "db">, selector: string): Promise<StoredTarget> {
  const t = await requireTarget(ctx.db, selector);
  const row = await ctx.db.target.findUniqueOrThrow({ where: { id: t.id }, select: { createdAt: true, updatedAt: true } });
  return { ...t, ...row };
}

/**
 * The target's pg-boss cron follows the change at once; if that fails (the queue is down),
 * every worker's 30-second resync applies it, so the change itself still stands.
 */
async function applySchedules(ctx: BackupContext) {
  await syncTargetSchedules(ctx).catch((e: unknown) => log.warn({ err: (e as Error).message }, "targets' schedules not applied now; the workers' resync will"));
}

/** Every target, the default first, then by name; each with its today. */
export async function listTargets(ctx: Pick<BackupContext, "db">, now = new Date()): Promise<TargetView[]> {
  const [rows, overview, counts] = await Promise.all([
    ctx.db.target.findMany({ orderBy: [{ isDefault: "desc" }, { name: "asc" }] }),
    targetsOverview(ctx.db, now),
    ctx.db.backupJob.groupBy({ by: ["targetId"], _count: { _all: true } }),
  ]);
  const count = new Map(counts.map((c) => [c.targetId, c._count._all]));
  return rows.map((t) => view(t, overview.get(t.id), count.get(t.id) ?? 0));
}

export async function getTargetView(ctx: Pick<BackupContext, "db">, selector: string, now = new Date()): Promise<TargetView> {
  const t = await stored(ctx, selector);
  return view(t, (await targetsOverview(ctx.db, now)).get(t.id), await ctx.db.backupJob.count({ where: { targetId: t.id } }));
}

function uniqueName(e: unknown, name: string): never {
  if ((e as { code?: string }).code === "P2002") throw new ApiError("CONFLICT", `A target named "${name}" exists; choose another name`);
  throw e;
}

function secretOf(ctx: Pick<BackupContext, "targetSecret">): string {
  if (!ctx.targetSecret) throw new Error("no TARGET_URL_SECRET (or NEXTAUTH_SECRET) to encrypt the connection URL with");
  return ctx.targetSecret;
}

/** Tests a URL; a connection that fails outright is a 400 naming why (nothing is saved). */
async function testOrRefuse(ctx: Pick<BackupContext, "pgBinDir">, url: string): Promise<TargetTestResult> {
  const result = await testTargetConnection(url, { pgBinDir: ctx.pgBinDir });
  const failed = connectionFailed(result);
  if (failed) {
    throw new ApiError("VALIDATION_FAILED", `${failed.message} — nothing was saved`, { fields: [{ path: "databaseUrl", message: failed.message }], test: result });
  }
  return result;
}

export interface CreatedTarget extends TargetView {
  test: TargetTestResult;
}

export async function createTarget(ctx: BackupContext, input: CreateTargetInput, actor: Actor): Promise<CreatedTarget> {
  // A taken name is answered before the (seconds-long) connection test; the unique index still decides a race.
  if (await ctx.db.target.findUnique({ where: { name: input.name }, select: { id: true } })) uniqueName({ code: "P2002" }, input.name);
  // libpq's user@/db?host= form, kept in the one every reader here reads (decision 203).
  const databaseUrl = socketHostInline(input.databaseUrl);
  const test = await testOrRefuse(ctx, databaseUrl);
  const { host, database } = describeDatabaseUrl(databaseUrl);
  const row = await ctx.db.target
    .create({
      data: {
        name: input.name,
        environment: input.environment,
        databaseUrlEncrypted: encryptTargetUrl(secretOf(ctx), databaseUrl),
        host,
        database,
        settings: (input.settings ?? {}) as Prisma.InputJsonValue,
      },
    })
    .catch((e: unknown) => uniqueName(e, input.name));
  await audit(ctx.db, {
    actor,
    action: "target.created",
    target: row.id,
    targetId: row.id,
    details: { ...auditable(row), canBackup: test.canBackup, canRestoreInPlace: test.canRestoreInPlace, canSwap: test.canSwap },
  });
  log.info({ targetId: row.id, name: row.name, host, database }, "target created");
  await applySchedules(ctx);
  return { ...(await getTargetView(ctx, row.id)), test };
}

export interface UpdatedTarget extends TargetView {
  /** When the URL was replaced: the test of the new one. */
  test?: TargetTestResult;
}

export async function updateTarget(ctx: BackupContext, selector: string, input: UpdateTargetInput, actor: Actor): Promise<UpdatedTarget> {
  const before = await stored(ctx, selector);
  if (before.isDefault) {
    const fixed = (["name", "environment", "databaseUrl"] as const).filter((k) => input[k] !== undefined);
    if (fixed.length > 0) {
      throw new ApiError(
        "VALIDATION_FAILED",
        "The default target's name is fixed, and its environment and connection URL come from the environment (BACKUP_ENV, TARGET_DATABASE_URL): change them there. Only its settings change here.",
        { fields: fixed.map((path) => ({ path, message: "fixed for the default target" })) },
      );
    }
  }
  let test: TargetTestResult | undefined;
  const data: Prisma.TargetUpdateInput = {};
  if (input.name !== undefined) data.name = input.name;
  if (input.environment !== undefined) data.environment = input.environment;
  if (input.settings !== undefined) data.settings = input.settings as Prisma.InputJsonValue;
  if (input.databaseUrl !== undefined) {
    const databaseUrl = socketHostInline(input.databaseUrl);
    test = await testOrRefuse(ctx, databaseUrl);
    const { host, database } = describeDatabaseUrl(databaseUrl);
    Object.assign(data, { databaseUrlEncrypted: encryptTargetUrl(secretOf(ctx), databaseUrl), host, database });
  }
  const after = await ctx.db.target.update({ where: { id: before.id }, data }).catch((e: unknown) => uniqueName(e, input.name ?? before.name));
  const changed = Object.keys(input).filter((k) => input[k as keyof UpdateTargetInput] !== undefined);
  await audit(ctx.db, {
    actor,
    action: "target.updated",
    target: before.id,
    targetId: before.id,
    details: { before: auditable(before), after: auditable(after), changed, urlReplaced: input.databaseUrl !== undefined, ...(input.settings !== undefined ? { settings: input.settings } : {}) },
  });
  await applySchedules(ctx);
  return { ...(await getTargetView(ctx, before.id)), ...(test ? { test } : {}) };
}

export interface DeleteTargetResult {
  backups: number;
  restores: number;
  deployments: number;
  drills: number;
}

/**
 * Removes a target. While it has backups, 409 unless `force`: then its backups (objects,
 * then rows), restores, deployments and drills go with it, holding the destructive slot.
 */
export async function deleteTarget(ctx: BackupContext, selector: string, opts: { force: boolean }, actor: Actor): Promise<DeleteTargetResult> {
  const t = await stored(ctx, selector);
  if (t.isDefault) throw new ApiError("CONFLICT", "The default target cannot be removed: it is TARGET_DATABASE_URL, Vaultline's own configuration");
  const where = { targetId: t.id };
  const count = async () => ({
    backups: await ctx.db.backupJob.count({ where }),
    restores: await ctx.db.restoreJob.count({ where }),
    deployments: await ctx.db.deployment.count({ where }),
    drills: await ctx.db.drillRun.count({ where }),
  });
  const first = await count();
  if (first.backups > 0 && !opts.force) {
    throw new ApiError(
      "CONFLICT",
      `Target "${t.name}" has ${plural(first.backups, "backup")}; remove ${first.backups === 1 ? "it" : "them"} first, or delete with ?force=true to remove the target with its backups (storage objects and rows), restores, deployments and drills`,
      { backups: first.backups },
    );
  }
  // Storage keys take the target's environment; the URL is not needed (nor decrypted) to remove.
  const tctx: BackupContext = { ...ctx, target: targetRef(t), env: t.environment };
  return withDestructiveSlot(tctx, `the removal of target ${t.name}`, async () => {
    const active = await ctx.db.backupJob.count({ where: { ...where, status: { in: [...ACTIVE_JOB_STATUSES] } } });
    const activeRestores = await ctx.db.restoreJob.count({ where: { ...where, status: { in: [...ACTIVE_JOB_STATUSES] } } });
    if (active + activeRestores > 0) throw new ApiError("OPERATION_IN_PROGRESS", `Target "${t.name}" has a backup or restore running; cancel it or wait, then remove the target`);
    const counts = await count();
    const jobs = await ctx.db.backupJob.findMany({ where, select: { id: true, createdAt: true, storageKey: true } });
    for (const job of jobs) {
      await removeBackupObjects(tctx, job);
      // Where the backup was written (an environment changed since writes new keys elsewhere).
      if (job.storageKey) {
        const dir = job.storageKey.slice(0, job.storageKey.lastIndexOf("/"));
        const keys: string[] = [];
        for await (const o of ctx.storage.list(`${dir}/`)) keys.push(o.key);
        // Parts before the manifest, as removeBackupObjects does.
        const isManifest = (k: string) => k.endsWith("manifest.json");
        for (const k of [...keys.filter((k) => !isManifest(k)), ...keys.filter(isManifest)]) await ctx.storage.delete(k);
      }
    }
    await ctx.db.$transaction([
      ctx.db.drillRun.deleteMany({ where }),
      ctx.db.restoreJob.deleteMany({ where }),
      ctx.db.deployment.deleteMany({ where }),
      ctx.db.backupJob.deleteMany({ where }),
      ctx.db.runtimeState.deleteMany({ where: { key: checksStateKey(t.id, "checks") } }),
      ctx.db.target.delete({ where: { id: t.id } }),
    ]);
    await audit(ctx.db, { actor, action: "target.deleted", target: t.id, targetId: t.id, details: { ...auditable(t), force: opts.force, ...counts } });
    log.info({ targetId: t.id, name: t.name, ...counts }, "target removed");
    await applySchedules(ctx);
    return counts;
  });
}

/** Tests a stored target's connection (audited: who looked, and what it could do). */
export async function testStoredTarget(ctx: BackupContext, selector: string, actor: Actor): Promise<TargetTestResult> {
  const t = await stored(ctx, selector);
  let url: string;
  try {
    url = targetUrl(ctx, t);
  } catch (e) {
    throw new ApiError("CONFLICT", (e as Error).message);
  }
  const result = await testTargetConnection(url, { pgBinDir: ctx.pgBinDir });
  await audit(ctx.db, {
    actor,
    action: "target.tested",
    target: t.id,
    targetId: t.id,
    details: { ...auditable(t), ok: result.ok, canBackup: result.canBackup, canRestoreInPlace: result.canRestoreInPlace, canSwap: result.canSwap },
  });
  return result;
}

/** Tests a URL before it is saved (POST /api/targets/test): audited by host and database. */
export async function testNewTargetUrl(ctx: BackupContext, url: string, actor: Actor): Promise<TargetTestResult> {
  const result = await testTargetConnection(url, { pgBinDir: ctx.pgBinDir });
  await audit(ctx.db, { actor, action: "target.tested", target: null, details: { ...describeDatabaseUrl(url), ok: result.ok, canBackup: result.canBackup, canRestoreInPlace: result.canRestoreInPlace, canSwap: result.canSwap } });
  return result;
}
