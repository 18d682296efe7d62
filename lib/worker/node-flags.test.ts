import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { WORKER_NODE_FLAGS } from "./node-flags";

// What a restore does to the worker's heap, in small: a heap of ~30 MB that stays, and
// 1.25 GiB of 128 KiB Buffers that each live for a few steps (decompressed archive on its
// way to the spool). Prints how many full (mark-compact) GCs ran meanwhile.
const CHURN = `
const { PerformanceObserver, performance, constants } = require("node:perf_hooks");
const majors = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(e.startTime); }).observe({ entryTypes: ["gc"] });
const live = [];
for (let i = 0; i < 300000; i++) live.push({ i, s: "row " + i });
(async () => {
  await new Promise((r) => setTimeout(r, 20));
  const t0 = performance.now();
  const inFlight = [];
  for (let i = 0; i < 10240; i++) {
    const b = Buffer.allocUnsafe(131072);
    b[0] = i;
    inFlight.push(b);
    if (inFlight.length > 8) inFlight.shift();
    if (i % 32 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  console.log(JSON.stringify({ majors: majors.filter((t) => t >= t0).length, live: live.length }));
})();
`;

function fullGcs(flags: readonly string[]): number {
  const r = spawnSync(process.execPath, [...flags, "-e", CHURN], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } });
  if (r.status !== 0) throw new Error(`node ${flags.join(" ")} exited ${r.status}: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { majors: number }).majors;
}

describe("the worker's V8 flags", () => {
  it("are the ones `npm run worker` starts node with", () => {
    const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.worker;
    expect(script).toContain(`node ${WORKER_NODE_FLAGS.join(" ")} --import tsx scripts/worker.ts`);
  });

  it("keep streamed Buffers from forcing full GCs of the worker's heap (decision 123)", () => {
    const without = WORKER_NODE_FLAGS.filter((f) => f !== "--external-memory-accounted-in-global-limit");
    expect(without.length).toBe(WORKER_NODE_FLAGS.length - 1);
    // Without the flag V8 runs a mark-compact each ~64 MB of Buffer bytes: 11-15 here
    // (Node 24.21), against 1 with it.
    expect(fullGcs(without)).toBeGreaterThanOrEqual(6);
    expect(fullGcs(WORKER_NODE_FLAGS)).toBeLessThanOrEqual(3);
  }, 30_000);
});
