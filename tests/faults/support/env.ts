// One fault case's world: a migrated catalogue, a seeded target, local or s3rver storage,
// a BackupContext on them (and its JSON spec for child processes), and the checks every
// case ends with.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PgServer } from "./pg";
import { seedTarget } from "./seed";
import { makeContext, type ContextSpec } from "./context";
import { startRestartableS3, type RestartableS3 } from "./s3";
import type { BackupContext } from "../../../lib/backup/context";
import type { Storage } from "../../../lib/backup/storage/types";
import { backupKeys } from "../../../lib/backup/manifest";
import { runBackup } from "../../../lib/backup/run-backup";
import { verifyBackupObjects } from "../../../lib/backup/verify";
import { stopBosses } from "../../../lib/queue";
import type { Recorder } from "../harness";

export interface CaseEnv {
  appUrl: string;
  targetUrl: string;
  spec: ContextSpec;
  ctx: BackupContext;
  storageDir?: string;
  s3?: RestartableS3;
  cleanup(): Promise<void>;
}

export async function caseEnv(
  pg: PgServer,
  opts: {
    storage?: "local" | "s3";
    rows?: number;
    blobMb?: number;
    partSize?: number;
    maxAttempts?: number;
    storageOverride?: (s: Storage) => Storage;
    restoreStrategy?: ContextSpec["restoreStrategy"];
  } = {},
): Promise<CaseEnv> {
  const appUrl = await pg.createMigratedDatabase("fault_app");
  const targetUrl = await pg.createDatabase("fault_target");
  await seedTarget(targetUrl, { rows: opts.rows, blobMb: opts.blobMb });
  let storageDir: string | undefined;
  let s3: RestartableS3 | undefined;
  let spec: ContextSpec;
  if (opts.storage === "s3") {
    s3 = await startRestartableS3();
    spec = {
      appUrl,
      targetUrl,
      storage: { kind: "s3", endpoint: s3.endpoint, bucket: s3.bucket, partSize: opts.partSize, maxAttempts: opts.maxAttempts },
      restoreStrategy: opts.restoreStrategy,
    };
  } else {
    storageDir = await mkdtemp(path.join(tmpdir(), "vaultline-faults-store-"));
    spec = { appUrl, targetUrl, storage: { kind: "local", dir: storageDir }, restoreStrategy: opts.restoreStrategy };
  }
  const base = makeContext(spec);
  const ctx = opts.storageOverride ? { ...base, storage: opts.storageOverride(base.storage) } : base;
  return {
    appUrl,
    targetUrl,
    spec,
    ctx,
    storageDir,
    s3,
    async cleanup() {
      // pg-boss keeps a pool on the catalogue: stop it before the database goes.
      await stopBosses();
      await ctx.db.$disconnect().catch(() => {});
      await s3?.dispose().catch(() => {});
      if (storageDir) await rm(storageDir, { recursive: true, force: true });
      await pg.dropDatabase(targetUrl).catch(() => {});
      await pg.dropDatabase(appUrl).catch(() => {});
    },
  };
}

export async function listAll(storage: Storage, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** Keys listed under one job's folder. */
export async function listedFor(ctx: BackupContext, job: { id: string; createdAt: Date }): Promise<string[]> {
  return listAll(ctx.storage, `${backupKeys(ctx.prefix, ctx.env, job.id, job.createdAt).dir}/`);
}

/** Temp files a killed writer left in a local store (never listed, but on disk). */
export async function localTempFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.includes(".vaultline-tmp-")) out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

/**
 * The catalogue and the store agree: every SUCCEEDED FULL job has a complete object that
 * verifies, and every listed object belongs to a SUCCEEDED job.
 */
export async function checkCatalogue(ctx: BackupContext, r: Recorder, label = "catalogue"): Promise<void> {
  const jobs = await ctx.db.backupJob.findMany();
  const bad: string[] = [];
  for (const j of jobs.filter((j) => j.status === "SUCCEEDED" && j.kind === "FULL")) {
    const v = await verifyBackupObjects(ctx, j);
    if (!v.ok) bad.push(`${j.id}: ${v.reason}`);
  }
  r.check(`${label}: every SUCCEEDED job has a complete, verified object`, bad.length === 0, bad.join("; "));
  const succeeded = new Set(jobs.filter((j) => j.status === "SUCCEEDED").map((j) => j.id));
  // Backup objects live at <prefix>/<env>/YYYY/MM/<id>/…; restore records and audit lines elsewhere.
  const layout = new RegExp(`^${ctx.prefix}/${ctx.env}/\\d{4}/\\d{2}/([^/]+)/`);
  const stray = (await listAll(ctx.storage, `${ctx.prefix}/${ctx.env}/`)).filter((k) => {
    const id = layout.exec(k)?.[1];
    return id !== undefined && !succeeded.has(id);
  });
  r.check(`${label}: nothing listed in storage except SUCCEEDED backups`, stray.length === 0, stray.join(", "));
}

export async function checkNextBackup(ctx: BackupContext, r: Recorder, label = "next backup succeeds"): Promise<string | null> {
  const job = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
  const res = await runBackup(ctx, job.id);
  const row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
  const v = row.status === "SUCCEEDED" ? await verifyBackupObjects(ctx, row) : { ok: false, reason: res.failureReason };
  r.check(label, row.status === "SUCCEEDED" && v.ok, `${row.status} ${res.failureReason ?? ""} ${v.ok ? "" : v.reason}`);
  return row.status === "SUCCEEDED" ? row.id : null;
}

/** Backends of a given application_name on the target, other than ours. */
export const activityCount = async (url: string, where: string) => {
  const { sql } = await import("./pg");
  const rows = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`);
  return rows[0].n;
};
