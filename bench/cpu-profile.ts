// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, heaviest first.
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  pct: number;
}

/**
 * `window` (µs on the monotonic clock, which V8's profile timestamps and
 * `process.hrtime.bigint() / 1000n` share on Linux) keeps only the samples taken in it:
 * the load, without the server's start-up.
 */
export function summariseProfile(
  file: string,
  top = 12,
  window?: { fromUs: number; toUs: number },
): { totalMs: number; idleMs: number; hot: HotSpot[]; byPackage: Record<string, number> } {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const totalMs = window ? (Math.min(p.endTime, window.toUs) - Math.max(p.startTime, window.fromUs)) / 1000 : (p.endTime - p.startTime) / 1000;
  const agg = new Map<string, HotSpot>();
  const byPackage: Record<string, number> = {};
  let idleMs = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === "(idle)" || name === "(program)") {
      if (name === "(idle)") idleMs += ms;
    }
    const url = n.callFrame.url.replace(/^file:\/\//, "");
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith("node:") ? "node:internal" : url ? "vaultline" : name);
    byPackage[pkg] = (byPackage[pkg] ?? 0) + ms;
    const where = url ? `${url.replace(/^.*node_modules\//, "").replace(/^.*\/work\/main\//, "")}:${n.callFrame.lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const h = agg.get(key) ?? { fn: name, where, selfMs: 0, pct: 0 };
    h.selfMs += ms;
    agg.set(key, h);
  }
  const hot = [...agg.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const h of hot) h.pct = (100 * h.selfMs) / totalMs;
  return { totalMs, idleMs, hot, byPackage };
}
