// kill -9 of the process running a backup (mid-dump, mid-upload) or a restore
// (mid-pg_restore): nothing half-done may count as a backup, the sweep fails the job, a
// killed restore leaves the target wholly as it was, and the next backup succeeds.
import pg from "pg";
import type { PgServer } from "../../support/pg";
import { caseEnv, checkCatalogue, checkNextBackup, activityCount } from "../case-env";
import { listedFor, localTempFiles } from "../../support/listing";
import { waitFor } from "../../support/wait";
import { spawnEngine } from "../../support/spawn-engine";
import { dbState, sameState } from "../../support/db-state";
import { sql } from "../../support/pg";
import type { FaultCase, Recorder } from "../harness";
import { sweepStaleJobs } from "../../../lib/backup/jobs";
import { runBackup } from "../../../lib/backup/run-backup";
import { startRestore, sweepStaleRestores } from "../../../lib/backup/restore";
import type { BackupContext } from "../../../lib/backup/context";

const FUTURE = () => new Date(Date.now() + 3 * 60_000);

async function blocker(url: string, statement: string) {
  const c = new pg.Client({ connectionString: url, application_name: "fault-blocker" });
  await c.connect();
  await c.query("BEGIN");
  await c.query(statement);
  return {
    async release() {
      await c.query("ROLLBACK").catch(() => {});
      await c.end().catch(() => {});
    },
  };
}

async function sweptAndFailed(ctx: BackupContext, r: Recorder, jobId: string) {
  const swept = await sweepStaleJobs(ctx, FUTURE());
  r.check("sweep marks the killed job FAILED", swept.failed.includes(jobId), JSON.stringify(swept));
  const row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
  r.check("job FAILED with a reason", row.status === "FAILED" && /stopped responding/.test(row.failureReason ?? ""), `${row.status}: ${row.failureReason}`);
  r.check("nothing listed for the killed job", (await listedFor(ctx, row)).length === 0);
  return row;
}

export function killMidDump(pgs: PgServer): FaultCase {
  return {
    name: "kill -9 mid-dump (local)",
    timeoutMs: 180_000,
    async run(r) {
      r.units = "1 worker process";
      const env = await caseEnv(pgs, { storage: "local" });
      const lock = await blocker(env.targetUrl, "LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE");
      const child = spawnEngine({ ctx: env.spec, action: "backup-worker" });
      try {
        const { jobId } = (await child.waitEvent("job", 60_000)) as { jobId: string };
        // pg_dump takes its table locks first: it now waits on ours, mid-dump.
        await waitFor(async () => (await env.ctx.db.backupJob.findUnique({ where: { id: jobId } }))?.phase === "dumping", 60_000, 100, "phase dumping");
        await waitFor(async () => (await activityCount(env.targetUrl, `application_name = 'vaultline-backup' AND wait_event_type = 'Lock'`)) > 0, 30_000, 100, "pg_dump waiting");
        await child.kill9();
        const mid = await env.ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
        r.check("killed job is not SUCCEEDED", mid.status !== "SUCCEEDED", mid.status);
        await lock.release();
        // The orphaned pg_dump gets SIGPIPE on its first write and goes away.
        await waitFor(async () => (await activityCount(env.targetUrl, `application_name = 'vaultline-backup'`)) === 0, 60_000, 200, "orphaned pg_dump gone");
        await sweptAndFailed(env.ctx, r, jobId);
        const temps = await localTempFiles(env.storageDir!);
        if (temps.length) r.note(`${temps.length} temp file(s) of the killed writer stay on disk (not listed): ${temps.join(", ")}`);
        await checkNextBackup(env.ctx, r);
        await checkCatalogue(env.ctx, r);
      } finally {
        await child.kill9();
        await lock.release();
        await env.cleanup();
      }
    },
  };
}

export function killMidUpload(pgs: PgServer): FaultCase {
  return {
    name: "kill -9 mid-upload (s3rver)",
    timeoutMs: 240_000,
    async run(r) {
      r.units = "1 worker process";
      // ~16 MB of incompressible rows: three 5 MiB parts at least.
      const env = await caseEnv(pgs, { storage: "s3", blobMb: 16, partSize: 5 * 1024 * 1024 });
      const s3 = env.s3!;
      s3.holdParts();
      const child = spawnEngine({ ctx: env.spec, action: "backup-worker" });
      try {
        const { jobId } = (await child.waitEvent("job", 60_000)) as { jobId: string };
        await waitFor(async () => s3.heldParts() > 0 && (await s3.openUploads()).length > 0, 120_000, 100, "an upload part in flight");
        const mid = await env.ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
        r.check("job is RUNNING mid-upload", mid.status === "RUNNING" && mid.phase === "dumping", `${mid.status} ${mid.phase}`);
        await child.kill9();
        s3.releaseParts();
        await waitFor(async () => (await activityCount(env.targetUrl, `application_name = 'vaultline-backup'`)) === 0, 60_000, 200, "orphaned pg_dump gone");
        const after = await env.ctx.db.backupJob.findUniqueOrThrow({ where: { id: jobId } });
        r.check("killed job is not SUCCEEDED", after.status !== "SUCCEEDED", after.status);
        const row = await sweptAndFailed(env.ctx, r, jobId);
        const orphans = (await s3.openUploads()).filter((u) => u.key.includes(row.id));
        r.check(
          "no multipart upload of the killed job left open after the sweep",
          orphans.length === 0,
          `${orphans.length} open (${orphans.map((o) => o.key).join(", ")}): the sweep deletes the job's keys but does not abort its multipart uploads`,
        );
        await checkNextBackup(env.ctx, r);
        await checkCatalogue(env.ctx, r);
      } finally {
        s3.releaseParts();
        await child.kill9();
        await env.cleanup();
      }
    },
  };
}

export function killMidRestore(pgs: PgServer): FaultCase {
  return {
    name: "kill -9 mid-restore, in place (local)",
    timeoutMs: 240_000,
    async run(r) {
      r.units = "1 restore process";
      // In place: the swap strategy never touches the live database before its rename (see restore-fidelity tests).
      const env = await caseEnv(pgs, { storage: "local", restoreStrategy: "in-place" });
      const { ctx } = env;
      let lock: { release(): Promise<void> } | undefined;
      let child: ReturnType<typeof spawnEngine> | undefined;
      try {
        const good = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
        const res = await runBackup(ctx, good.id);
        if (res.status !== "SUCCEEDED") throw new Error(`setup backup ${res.status}: ${res.failureReason}`);
        await sql(env.targetUrl, `UPDATE customers SET name = 'newer' WHERE id <= 100; CREATE TABLE added_later (id int); INSERT INTO added_later VALUES (1), (2)`);
        const before = await dbState(env.targetUrl);
        const { restoreId, preRestoreBackupId } = await startRestore(ctx, good.id, { type: "system", label: "faults" }, { confirm: "RESTORE" });
        // A reader holds a lock the restore's DROP needs: the restore stalls mid-transaction.
        lock = await blocker(env.targetUrl, "SELECT 1 FROM invoices LIMIT 1");
        child = spawnEngine({ ctx: env.spec, action: "restore", restoreId });
        await waitFor(async () => (await ctx.db.restoreJob.findUnique({ where: { id: restoreId } }))?.phase === "restoring database", 120_000, 100, "phase restoring database");
        await waitFor(async () => (await activityCount(env.targetUrl, `application_name = 'vaultline-restore' AND wait_event_type = 'Lock'`)) > 0, 60_000, 100, "psql waiting on the lock");
        await child.kill9();
        await lock.release();
        await waitFor(async () => (await activityCount(env.targetUrl, `application_name = 'vaultline-restore'`)) === 0, 60_000, 200, "orphaned psql gone");
        r.check("target wholly in its old state after the killed restore", sameState(await dbState(env.targetUrl), before));
        const swept = await sweepStaleRestores(ctx, FUTURE());
        r.check("sweep marks the killed restore FAILED", swept.includes(restoreId), JSON.stringify(swept));
        const row = await ctx.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
        r.check("restore FAILED with a reason", row.status === "FAILED" && /single transaction/.test(row.failureReason ?? ""), `${row.status}: ${row.failureReason}`);
        const safety = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } });
        r.check("the safety backup taken before the kill is SUCCEEDED", safety.status === "SUCCEEDED", safety.status);
        await checkNextBackup(ctx, r);
        await checkCatalogue(ctx, r);
      } finally {
        await child?.kill9();
        await lock?.release();
        await env.cleanup();
      }
    },
  };
}
