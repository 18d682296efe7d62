import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { WORKER_ENV, WORKER_NODE_FLAGS, withWorkerEnv } from "./node-flags";

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

// Four zstd compressions at once on libuv's pool, then the arenas glibc made besides the main
// one: a heap of a non-main arena is a 64 MiB-aligned mapping whose used part and reserved
// rest (---p) make 64 MiB.
const ARENAS = `
const zlib = require("node:zlib");
const fs = require("node:fs");
const input = Buffer.alloc(8 << 20, "vaultline arena ");
Promise.all([0, 1, 2, 3].map(() => new Promise((res, rej) => zlib.zstdCompress(input, (e, out) => (e ? rej(e) : res(out)))))).then(() => {
  const maps = fs.readFileSync("/proc/self/maps", "utf8").trim().split("\\n").map((l) => {
    const [range, perms, , , inode] = l.split(/\\s+/);
    const [a, b] = range.split("-").map((x) => BigInt("0x" + x));
    return { a, b, perms, anon: inode === "0" };
  });
  const M = 64n << 20n;
  let n = 0;
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i], next = maps[i + 1];
    if (!m.anon || m.a % M !== 0n || !m.perms.startsWith("rw")) continue;
    const end = next && next.a === m.b && next.perms === "---p" && next.anon ? next.b : m.b;
    if (end - m.a === M) n++;
  }
  console.log(n);
});
`;

const GLIBC = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);

function arenas(arenaMax: string | undefined): number {
  const r = spawnSync(process.execPath, ["-e", ARENAS], { encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "", UV_THREADPOOL_SIZE: "4", MALLOC_ARENA_MAX: arenaMax } });
  if (r.status !== 0) throw new Error(`arena count exited ${r.status}: ${r.stderr}`);
  return Number(r.stdout.trim().split("\n").at(-1));
}

describe("the worker's V8 flags", () => {
  it("are the ones `npm run worker` starts node with", () => {
    const script = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts.worker;
    expect(script).toContain(`node ${WORKER_NODE_FLAGS.join(" ")} --import tsx scripts/worker.ts`);
    expect(script).toContain(`MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-${WORKER_ENV.MALLOC_ARENA_MAX}} node ${WORKER_NODE_FLAGS[0]}`);
  });

  it("start with at most two malloc arenas, unless the environment says otherwise (decision 199)", () => {
    expect(withWorkerEnv({ PATH: "/bin" })).toEqual({ PATH: "/bin", MALLOC_ARENA_MAX: "2" });
    expect(withWorkerEnv({ MALLOC_ARENA_MAX: "8" }).MALLOC_ARENA_MAX).toBe("8");
  });

  // glibc's variable: another C library (musl) has no arenas to count.
  it.runIf(GLIBC)("hold glibc to two arenas where it would make one per allocating thread", () => {
    // What the variable does: glibc gives each thread that allocates an arena of its own
    // (a 64 MiB-aligned mapping of 64 MiB), here libuv's pool compressing side by side.
    const none: Record<string, string | undefined> = {};
    expect(arenas(undefined)).toBeGreaterThanOrEqual(3);
    expect(arenas(withWorkerEnv(none).MALLOC_ARENA_MAX)).toBeLessThanOrEqual(1);
  }, 30_000);

  it("keep streamed Buffers from forcing full GCs of the worker's heap (decision 123)", () => {
    const without = WORKER_NODE_FLAGS.filter((f) => f !== "--external-memory-accounted-in-global-limit");
    expect(without.length).toBe(WORKER_NODE_FLAGS.length - 1);
    // Without the flag V8 runs a mark-compact each ~64 MB of Buffer bytes: 11-15 here
    // (Node 24.21), against 1 with it.
    expect(fullGcs(without)).toBeGreaterThanOrEqual(6);
    expect(fullGcs(WORKER_NODE_FLAGS)).toBeLessThanOrEqual(3);
  }, 30_000);
});
