// 100 doctored archives (tests/faults/doctor.ts), each restored with the real runRestore:
// every one must be refused at verification — before the safety backup, with the target's
// content hash unchanged.
import type { PgServer } from "../../support/pg";
import { caseEnv, checkCatalogue } from "../case-env";
import { dbState, sameState } from "../../support/db-state";
import { sql } from "../../support/pg";
import type { FaultCase, Recorder } from "../harness";
import { doctorCases, restoreOriginal, bytesChanged, type DoctorContext, type StoredBackup } from "../doctor";
import { runBackup } from "../../../lib/backup/run-backup";
import { startRestore, runRestore } from "../../../lib/backup/restore";
import { backupKeys } from "../../../lib/backup/manifest";
import type { BackupContext } from "../../../lib/backup/context";

export async function takeBackup(ctx: BackupContext): Promise<StoredBackup> {
  const job = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
  const res = await runBackup(ctx, job.id);
  if (res.status !== "SUCCEEDED") throw new Error(`setup backup ${res.status}: ${res.failureReason}`);
  const keys = backupKeys(ctx.prefix, ctx.env, job.id, job.createdAt);
  return {
    id: job.id,
    archiveKey: keys.archive,
    manifestKey: keys.manifest,
    archive: await ctx.storage.getBytes(keys.archive),
    manifest: await ctx.storage.getBytes(keys.manifest),
  };
}

/** Runs every doctored case against backup A; returns how many were refused cleanly. */
export async function refuseAll(ctx: BackupContext, targetUrl: string, count: number, seed: number, r: Recorder): Promise<number> {
  const a = await takeBackup(ctx);
  await sql(targetUrl, `UPDATE customers SET name = 'for backup B' WHERE id <= 50`);
  const b = await takeBackup(ctx);
  await sql(targetUrl, `UPDATE customers SET name = 'live, after both backups' WHERE id <= 5; CREATE TABLE live_only (id int); INSERT INTO live_only VALUES (42)`);
  const before = await dbState(targetUrl);
  const dc: DoctorContext = { storage: ctx.storage, a, b };
  const kinds = new Map<string, number>();
  let refused = 0;
  for (const c of doctorCases(count, seed)) {
    kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
    await c.apply(dc);
    const label = `#${c.n} ${c.kind} (${c.description})`;
    if (!c.passphrase && !(await bytesChanged(dc))) {
      r.check(`${label}: doctoring changed the stored bytes`, false);
      await restoreOriginal(dc);
      continue;
    }
    const rctx = c.passphrase ? { ...ctx, passphrase: c.passphrase } : ctx;
    const { restoreId, preRestoreBackupId } = await startRestore(rctx, a.id, { type: "system", label: "faults" }, { confirm: "RESTORE" });
    const status = await runRestore(rctx, restoreId);
    const row = await ctx.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    const safety = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } });
    const untouched = sameState(await dbState(targetUrl), before);
    const ok =
      status === "FAILED" &&
      /^The backup failed verification/.test(row.failureReason ?? "") &&
      safety.status === "CANCELLED" &&
      untouched;
    if (r.check(`${label}: refused before the target is touched`, ok, `${status}; safety ${safety.status}; target ${untouched ? "unchanged" : "CHANGED"}; ${row.failureReason}`)) refused++;
    await restoreOriginal(dc);
  }
  r.note(`mix: ${[...kinds].map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  return refused;
}

export function doctoredArchives(pgs: PgServer, opts: { count: number; seed: number }): FaultCase {
  return {
    name: `${opts.count} doctored archives`,
    timeoutMs: Math.max(120_000, opts.count * 6_000),
    async run(r) {
      r.units = `${opts.count} archives (seed ${opts.seed})`;
      const env = await caseEnv(pgs, { storage: "local" });
      try {
        const t0 = Date.now();
        const refused = await refuseAll(env.ctx, env.targetUrl, opts.count, opts.seed, r);
        r.note(`${refused}/${opts.count} refused in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        // After the originals are back, the good backup still restores exactly.
        await checkCatalogue(env.ctx, r, "after doctoring");
      } finally {
        await env.cleanup();
      }
    },
  };
}
