// Runs one backup or restore in its own process, so that a caller (a Vitest file, the
// fault suite) can kill -9 it at a chosen moment, or the bench measure its peak memory alone.
//   ENGINE_CHILD_SPEC = {ctx: ContextSpec, action, ...}
// actions:
//   "backup-worker": startWorker, createBackupJob, wait for the job to end (the real path)
//   "backup-run":    runBackup on an existing QUEUED job id
//   "restore":       runRestore on an existing QUEUED restore id
// stdout: JSON lines {event:"ready"|"job"|"result", ...}; result carries peak RSS, and with
// ENGINE_RSS_TIMELINE=1 every sample as [ms since t0, rss, heapTotal, external, arrayBuffers]
// in MiB (how decision 120 found a 32 MiB scrypt at the peak).
import { makeContext, type ContextSpec } from "./context";
import { createBackupJob } from "../../lib/backup/jobs";
import { runBackup } from "../../lib/backup/run-backup";
import { runRestore } from "../../lib/backup/restore";
import { startWorker } from "../../lib/worker";
import { stopBosses } from "../../lib/queue";

interface Spec {
  ctx: ContextSpec;
  action: "backup-worker" | "backup-run" | "restore";
  jobId?: string;
  restoreId?: string;
  /** RSS sampling interval (ms); 0 disables the timeline. */
  sampleMs?: number;
}

const spec = JSON.parse(process.env.ENGINE_CHILD_SPEC!) as Spec;
const say = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");

const t0 = Date.now();
const samples: number[] = [];
const timeline: number[][] = [];
const atStart = process.memoryUsage();
let peak = atStart.rss;
// Where the memory is at the RSS peak, and each part's own peak (docs/operations.md "Worker memory").
let atPeak: NodeJS.MemoryUsage = atStart;
let peakAtMs = 0;
const partPeaks = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
const sampler = spec.sampleMs
  ? setInterval(() => {
      const m = process.memoryUsage();
      samples.push(m.rss);
      if (process.env.ENGINE_RSS_TIMELINE) timeline.push([Date.now() - t0, Math.round(m.rss / 2 ** 20), Math.round(m.heapTotal / 2 ** 20), Math.round(m.external / 2 ** 20), Math.round(m.arrayBuffers / 2 ** 20)]);
      if (m.rss > peak) {
        peak = m.rss;
        atPeak = m;
        peakAtMs = Date.now() - t0;
      }
      for (const k of Object.keys(partPeaks) as (keyof typeof partPeaks)[]) partPeaks[k] = Math.max(partPeaks[k], m[k]);
    }, spec.sampleMs)
  : undefined;

const ctx = makeContext(spec.ctx);
let result: Record<string, unknown> = {};
if (spec.action === "backup-worker") {
  const worker = await startWorker(ctx, { sweepIntervalMs: 3_600_000 });
  say({ event: "ready" });
  const job = await createBackupJob(ctx, { kind: "FULL", trigger: "MANUAL", note: "engine-child" }, { type: "system", label: "engine-child" });
  say({ event: "job", jobId: job.id });
  let row;
  for (;;) {
    row = await ctx.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    if (row.status === "SUCCEEDED" || row.status === "FAILED" || row.status === "CANCELLED") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await worker.stop();
  result = { jobId: job.id, status: row.status, failureReason: row.failureReason };
} else if (spec.action === "backup-run") {
  say({ event: "ready" });
  result = { jobId: spec.jobId, ...(await runBackup(ctx, spec.jobId!)) };
} else {
  say({ event: "ready" });
  result = { restoreId: spec.restoreId, status: await runRestore(ctx, spec.restoreId!) };
}
const wallMs = Date.now() - t0;
if (sampler) clearInterval(sampler);
const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(await import("node:fs").then((fs) => fs.readFileSync("/proc/self/status", "utf8")))?.[1] ?? 0);
say({
  event: "result",
  ...result,
  wallMs,
  peakRssBytes: Math.max(peak, hwmKb * 1024),
  sampledPeakRssBytes: peak,
  vmHwmBytes: hwmKb * 1024,
  rssSamples: samples.length,
  memoryAtStart: atStart,
  memoryAtPeak: atPeak,
  peakAtMs,
  memoryPartPeaks: partPeaks,
  ...(process.env.ENGINE_RSS_TIMELINE ? { timeline, t0 } : {}),
  rssMedianBytes: samples.length ? [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] : null,
});
await stopBosses();
await ctx.db.$disconnect();
process.exit(0);
