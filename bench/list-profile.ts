// Where a catalogue request's time goes: the real app (next start) with --cpu-prof, the
// list benchmark's 100k rows and load, then the profile of the server process summarised
// by self time, by package and by inclusive time of the app's own functions.
// `npx tsx bench/list-profile.ts [--path /api/backups?limit=50] [--rate 100] [--seconds 20] [--rows 100000] [--generator open-loop|autocannon]`
import { parseArgs } from "node:util";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startPg } from "../tests/support/pg";
import { snapshotAppDir, startApp } from "../tests/support/app";
import { loadTest, seedCatalogue, type Generator } from "./list-load";
import { summariseProfile } from "./cpu-profile";
import { cpuSecondsIn } from "./proc-cpu";

const { values: opt } = parseArgs({
  options: {
    path: { type: "string", default: "/api/backups?limit=50" },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "20" },
    rows: { type: "string", default: "100000" },
    "app-dir": { type: "string" },
    "web-concurrency": { type: "string", default: "1" },
    generator: { type: "string", default: "open-loop" },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Inclusive ms per function (counted once per stack), for frames whose url matches. */
function inclusive(file: string, match: RegExp, window: { fromUs: number; toUs: number }, top = 25) {
  const p = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; startTime: number; samples: number[]; timeDeltas: number[] };
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const total = new Map<string, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < window.fromUs || t > window.toUs) continue;
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const seen = new Set<string>();
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (!match.test(n.callFrame.url)) continue;
      const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(app|lib|\.next)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + ms);
    }
  }
  return [...total.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
}

async function main() {
  const log = (s: string) => console.log(`[profile] ${s}`);
  const pg = await startPg({ label: "profile" });
  const appUrl = await pg.createMigratedDatabase("profile_app");
  const token = await seedCatalogue(appUrl, Number(opt.rows), "profile");
  const profDir = mkdtempSync(path.join(tmpdir(), "vaultline-prof-"));
  const appDir = opt["app-dir"] ? path.resolve(opt["app-dir"]) : snapshotAppDir(log);
  const app = await startApp({ appDir, databaseUrl: appUrl, log, env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}`, WEB_CONCURRENCY: opt["web-concurrency"]! } });
  const url = `${app.baseUrl}${opt.path}`;
  // The load's time span: the summaries below leave out the server's start-up and warm-up.
  const window = { fromUs: 0, toUs: 0 };
  try {
    await loadTest({ url, token, rate: 20, durationSeconds: 3, connections: 4 });
    const cpu0 = cpuSecondsIn(appDir);
    window.fromUs = Number(process.hrtime.bigint() / 1000n);
    const r = await loadTest({ url, token, rate: Number(opt.rate), durationSeconds: Number(opt.seconds), generator: opt.generator as Generator });
    const cpu = cpuSecondsIn(appDir) - cpu0;
    window.toUs = Number(process.hrtime.bigint() / 1000n);
    log(`${opt.path} (${r.generator}) @ ${r.rate}/s × ${r.durationSeconds}s: p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ${r.ok} ok of ${r.requests}`);
    log(`the app's processes used ${cpu.toFixed(2)} CPU s under load: ${((1000 * cpu) / Math.max(1, r.requests)).toFixed(2)} ms per request`);
  } finally {
    await app.stop();
    await pg.stop();
  }
  const files = readdirSync(profDir).map((f) => path.join(profDir, f)).sort((a, b) => statSync(b).size - statSync(a).size);
  const server = files[0];
  log(`profile: ${server}`);
  const s = summariseProfile(server, 30, window);
  log(`under load: ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`);
  console.table(Object.entries(s.byPackage).sort((a, b) => b[1] - a[1]).slice(0, 15).map(([pkg, ms]) => ({ pkg, ms: Math.round(ms) })));
  console.table(s.hot.map((h) => ({ fn: h.fn, where: h.where.slice(-70), ms: Math.round(h.selfMs) })));
  console.table(inclusive(server, /\/(app|lib)\/|\.next\/server\/app/, window).map(([fn, ms]) => ({ fn: fn.slice(-90), ms: Math.round(ms) })));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
