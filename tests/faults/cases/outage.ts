// The store goes away mid-upload (s3rver stopped, its connections cut) and comes back:
// the backup is FAILED with a reason, its retry succeeds, and no multipart upload is left
// open to be billed forever.
import type { PgServer } from "../../support/pg";
import { caseEnv, checkCatalogue } from "../case-env";
import { listedFor } from "../../support/listing";
import { waitFor } from "../../support/wait";
import type { FaultCase } from "../harness";
import { runBackup } from "../../../lib/backup/run-backup";
import { scheduleRetry } from "../../../lib/backup/retries";
import { verifyBackupObjects } from "../../../lib/backup/verify";

export function storageOutage(pgs: PgServer): FaultCase {
  return {
    name: "storage outage mid-upload (s3rver)",
    timeoutMs: 240_000,
    async run(r) {
      r.units = "1 outage + retry";
      const env = await caseEnv(pgs, { storage: "s3", blobMb: 16, partSize: 5 * 1024 * 1024 });
      const { ctx } = env;
      const s3 = env.s3!;
      try {
        const job = await ctx.db.backupJob.create({
          data: { kind: "FULL", trigger: "SCHEDULED", metadata: { includeFiles: false, maxAttempts: 3, phases: [] } },
        });
        s3.holdParts();
        const running = runBackup(ctx, job.id);
        await waitFor(async () => s3.heldParts() > 0, 120_000, 100, "an upload part in flight");
        const t0 = Date.now();
        await s3.down();
        const res = await running;
        const row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
        r.check("backup FAILED during the outage", row.status === "FAILED", row.status);
        r.check(
          "failure reason names the storage",
          /storage unavailable|unreachable|ECONNREFUSED|ECONNRESET|socket/i.test(row.failureReason ?? ""),
          row.failureReason ?? "",
        );
        r.note(`failed ${((Date.now() - t0) / 1000).toFixed(1)} s after the store went down: "${res.failureReason}"`);
        await s3.up();
        r.check("nothing listed for the failed job", (await listedFor(ctx, row)).length === 0);
        const leftAfterFailure = (await s3.openUploads()).filter((u) => u.key.includes(job.id));
        if (leftAfterFailure.length) r.note(`${leftAfterFailure.length} multipart upload(s) still open when the store came back (AbortMultipartUpload was sent while it was down)`);

        const retry = await scheduleRetry(ctx, job.id);
        r.check("a retry is scheduled", retry.retried, JSON.stringify(retry));
        if (retry.retried) {
          const rr = await runBackup(ctx, retry.retryId);
          const rrow = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: retry.retryId } });
          const v = rrow.status === "SUCCEEDED" ? await verifyBackupObjects(ctx, rrow) : null;
          r.check("the retry succeeds and verifies", rrow.status === "SUCCEEDED" && !!v?.ok, `${rrow.status} ${rr.failureReason ?? ""} ${v?.reason ?? ""}`);
          r.check("the retry is attempt 2 of the chain", rrow.attempt === 2 && rrow.retryOfId === job.id, `attempt ${rrow.attempt}, retryOf ${rrow.retryOfId}`);
        }
        const open = await s3.openUploads();
        r.check("no orphaned multipart uploads left", open.length === 0, `${open.length} open: ${open.map((u) => u.key).join(", ")}`);
        await checkCatalogue(ctx, r);
      } finally {
        s3.releaseParts();
        await env.cleanup();
      }
    },
  };
}
