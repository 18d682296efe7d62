// One fault case's world (tests/support/backup-env.ts, under env "faults", with the queue
// clients stopped before its databases go) and the checks every case ends with.
import { sql, type PgServer } from "../support/pg";
import { backupEnv, type EnvOptions, type TestEnv } from "../support/backup-env";
import { listKeys } from "../support/listing";
import type { BackupContext } from "../../lib/backup/context";
import { runBackup } from "../../lib/backup/run-backup";
import { verifyBackupObjects } from "../../lib/backup/verify";
import { stopBosses } from "../../lib/queue";
import type { Recorder } from "./harness";

export type CaseEnv = TestEnv;

export async function caseEnv(pg: PgServer, opts: Omit<EnvOptions, "seed"> & { rows?: number; blobMb?: number } = {}): Promise<CaseEnv> {
  const { rows, blobMb, ...rest } = opts;
  const env = await backupEnv(pg, { envName: "faults", timeoutMs: 30 * 60_000, seed: { rows, blobMb }, ...rest });
  return {
    ...env,
    async cleanup() {
      // pg-boss keeps a pool on the catalogue: stop it before the database goes.
      await stopBosses();
      await env.cleanup();
    },
  };
}

/**
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
  const stray = (await listKeys(ctx.storage, `${ctx.prefix}/${ctx.env}/`)).filter((k) => {
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
  const rows = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND ${where}`);
  return rows[0].n;
};
