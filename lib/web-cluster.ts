// WEB_CONCURRENCY > 1 (scripts/serve.ts): that many web server processes share one port
// through node:cluster; the primary only accepts connections and hands them out. Each is
// a web replica as docs/operations.md describes them (state lives in PostgreSQL), and only
// the first runs the in-process worker, so N web processes do not mean N workers. A
// process that dies is replaced; SIGTERM or SIGINT stops them all.
import cluster from "node:cluster";

export const WEB_INDEX_ENV = "VAULTLINE_WEB_INDEX";

export function startWebCluster(opts: {
  processes: number;
  workerInWeb: boolean;
  /** The script each process runs (default: this process's own). */
  exec?: string;
  log?: (line: string) => void;
  restartDelayMs?: number;
}): void {
  const log = opts.log ?? ((l: string) => console.log(`[vaultline] ${l}`));
  if (opts.exec) cluster.setupPrimary({ exec: opts.exec });
  let stopping = false;
  const fork = (index: number) => {
    const w = cluster.fork({ [WEB_INDEX_ENV]: String(index), WORKER_IN_WEB: index === 0 ? String(opts.workerInWeb) : "false" });
    w.on("exit", (code, signal) => {
      if (stopping) return;
      log(`web process ${index} exited (${signal ?? code}); starting another`);
      setTimeout(() => fork(index), opts.restartDelayMs ?? 1000);
    });
  };
  for (let i = 0; i < opts.processes; i++) fork(i);
  log(`${opts.processes} web processes`);
  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
    const deadline = Date.now() + 20_000;
    const wait = () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      if (Date.now() > deadline) process.exit(1);
      setTimeout(wait, 100);
    };
    wait();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
