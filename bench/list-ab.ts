// A/B of the catalogue routes' tail: one seeded catalogue, several app variants (an app
// directory and/or environment each) run in turn, round after round, so background load on
// a shared machine falls on all of them alike. Per run: p50/p95/p99, answers, the app's CPU
// per request, the load average, and (with --probe) the web processes' GC pauses and
// event-loop stalls during the load (bench/loop-probe.mjs).
// `npx tsx bench/list-ab.ts --path /api/health --variants '[{"label":"A"},{"label":"B","env":{"WEB_CONCURRENCY":"1"}}]' --rounds 2 --probe`
import { parseArgs } from "node:util";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { sql, startPg } from "../tests/support/pg";
import { snapshotAppDir, startApp } from "../tests/support/app";
import { loadTest, percentile, seedCatalogue } from "./list-load";
import { cpuSecondsIn, cpuSecondsOfTree } from "./proc-cpu";

const { values: opt } = parseArgs({
  options: {
    path: { type: "string", multiple: true },
    rate: { type: "string", default: "100" },
    seconds: { type: "string", default: "20" },
    rows: { type: "string", default: "100000" },
    rounds: { type: "string", default: "2" },
    variants: { type: "string", default: '[{"label":"HEAD"}]' },
    "web-concurrency": { type: "string", default: "2" },
    probe: { type: "boolean", default: false },
  },
});

interface Variant {
  label: string;
  appDir?: string;
  env?: Record<string, string>;
}

interface Probe {
  argv: string[];
  gc: { at: number; ms: number; kind: number }[];
  stalls: { at: number; ms: number }[];
  rssMax: number;
  served?: { at: number; ms: number }[];
}

/** GC and stall figures of the web processes (those running Next), inside [from, to] (epoch ms). */
export function probeSummary(dir: string, from: number, to: number) {
  const files = readdirSync(dir).map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Probe);
  const web = files.filter((p) => p.argv.some((a) => /scripts\/(serve\.ts|web-entry\.mjs)$|bench\/list-ab\.ts$/.test(a)));
  const gc = web.flatMap((p) => p.gc).filter((g) => g.at >= from && g.at <= to);
  const stalls = web.flatMap((p) => p.stalls).filter((s) => s.at >= from && s.at <= to);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const minor = gc.filter((g) => g.kind === 1);
  const major = gc.filter((g) => g.kind !== 1);
  return {
    processes: web.length,
    scavenges: minor.length,
    scavengeMs: sum(minor.map((g) => g.ms)),
    scavengeMaxMs: Math.max(0, ...minor.map((g) => g.ms)),
    majorGcs: major.length,
    majorGcMs: sum(major.map((g) => g.ms)),
    majorGcMaxMs: Math.max(0, ...major.map((g) => g.ms)),
    stalls: stalls.length,
    stallMs: sum(stalls.map((s) => s.ms)),
    stallMaxMs: Math.max(0, ...stalls.map((s) => s.ms)),
    rssMaxMb: Math.max(0, ...web.map((p) => p.rssMax / 1e6)),
    served: web
      .flatMap((p) => p.served ?? [])
      .filter((x) => x.at >= from && x.at <= to)
      .map((x) => x.ms)
      .sort((a, b) => a - b),
  };
}

async function main() {
  const log = (s: string) => console.log(`[ab] ${s}`);
  const variants = JSON.parse(opt.variants!) as Variant[];
  const paths = opt.path?.length ? opt.path : ["/api/backups?limit=50"];
  const pg = await startPg({ label: "ab" });
  const appUrl = await pg.createMigratedDatabase("ab_app");
  const seeded = Date.now();
  const token = await seedCatalogue(appUrl, Number(opt.rows), "ab");
  log(`seeded ${opt.rows} rows in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
  // The load generator shares the CPUs: its own stalls count in every response time.
  const clientProbeDir = mkdtempSync(path.join(tmpdir(), "vaultline-probe-client-"));
  if (opt.probe) {
    process.env.LOOP_PROBE_DIR = clientProbeDir;
    await import(path.resolve("bench/loop-probe.mjs"));
    delete process.env.LOOP_PROBE_DIR;
  }
  // PostgreSQL's share of the CPU: its postmaster and backends (this run's server only).
  const dataDir = (await sql<{ d: string }>(appUrl, "SELECT current_setting('data_directory') AS d"))[0].d;
  const postmaster = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  const head = variants.some((v) => !v.appDir) ? snapshotAppDir(log) : "";
  const rows: Record<string, string | number>[] = [];
  try {
    for (let round = 1; round <= Number(opt.rounds); round++) {
      for (const v of variants) {
        const appDir = v.appDir ? path.resolve(v.appDir) : head;
        const probeDir = mkdtempSync(path.join(tmpdir(), "vaultline-probe-"));
        const probeEnv: Record<string, string> = opt.probe ? { LOOP_PROBE_DIR: probeDir, NODE_OPTIONS: `--import ${path.resolve("bench/loop-probe.mjs")} ${v.env?.NODE_OPTIONS ?? ""}` } : {};
        const app = await startApp({ appDir, databaseUrl: appUrl, log, env: { WEB_CONCURRENCY: opt["web-concurrency"]!, ...v.env, ...probeEnv } });
        try {
          for (const p of paths) {
            const url = `${app.baseUrl}${p}`;
            await loadTest({ url, token, rate: 20, durationSeconds: 3, connections: 4 });
            const load = loadavg()[0];
            // Sessions opened to the app's database (PostgreSQL 14+ counts them), this query's own included.
            const sessions = async () => Number((await sql<{ n: string }>(appUrl, `SELECT sessions::text AS n FROM pg_stat_database WHERE datname = current_database()`))[0].n);
            const sessions0 = await sessions();
            const cpu0 = cpuSecondsIn(appDir);
            const pgCpu0 = cpuSecondsOfTree(postmaster);
            const clientCpu0 = process.cpuUsage();
            const from = Date.now();
            const r = await loadTest({ url, token, rate: Number(opt.rate), durationSeconds: Number(opt.seconds) });
            const to = Date.now();
            const cpu = cpuSecondsIn(appDir) - cpu0;
            const pgCpu = cpuSecondsOfTree(postmaster) - pgCpu0;
            const clientCpu = process.cpuUsage(clientCpu0);
            const newSessions = (await sessions()) - sessions0 - 1;
            await new Promise((res) => setTimeout(res, 1200)); // the probe's next write
            const row: Record<string, string | number> = {
              round,
              variant: v.label,
              path: p,
              load: `${load.toFixed(2)}→${loadavg()[0].toFixed(2)}`,
              p50: +r.p50.toFixed(1),
              p95: +r.p95.toFixed(1),
              p99: +r.p99.toFixed(1),
              p95ByQuarter: r.p95ByQuarter.map((x) => Math.round(x)).join("/"),
              ok: `${r.ok}/${Number(opt.rate) * Number(opt.seconds)}`,
              cpuMsPerReq: +((1000 * cpu) / Math.max(1, r.requests)).toFixed(2),
              pgCpuMsPerReq: +((1000 * pgCpu) / Math.max(1, r.requests)).toFixed(2),
              clientCpuMsPerReq: +((clientCpu.user + clientCpu.system) / 1000 / Math.max(1, r.requests)).toFixed(2),
              newPgSessions: newSessions,
            };
            if (opt.probe) {
              const s = probeSummary(probeDir, from, to);
              Object.assign(row, {
                scav: `${s.scavenges}/${s.scavengeMs.toFixed(0)}ms/max${s.scavengeMaxMs.toFixed(1)}`,
                major: `${s.majorGcs}/${s.majorGcMs.toFixed(0)}ms/max${s.majorGcMaxMs.toFixed(1)}`,
                stalls: `${s.stalls}/${s.stallMs.toFixed(0)}ms/max${s.stallMaxMs.toFixed(0)}`,
                rssMaxMb: Math.round(s.rssMaxMb),
                // Inside the web processes, arrival to response: the rest of the client's time is outside them.
                server: `p50 ${percentile(s.served, 50).toFixed(1)} p95 ${percentile(s.served, 95).toFixed(1)} n ${s.served.length}`,
              });
              const c = probeSummary(clientProbeDir, from, to);
              row.client = `gc ${(c.scavengeMs + c.majorGcMs).toFixed(0)}ms, stalls ${c.stalls}/max${c.stallMaxMs.toFixed(0)}`;
            }
            rows.push(row);
            log(JSON.stringify(row));
          }
        } finally {
          await app.stop();
          rmSync(probeDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await pg.stop();
  }
  console.table(rows);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
