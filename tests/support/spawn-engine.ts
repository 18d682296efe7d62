// Starts engine-child.ts in its own process and follows its JSON lines.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_NODE_FLAGS, withWorkerEnv } from "../../lib/worker/node-flags";

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "engine-child.ts");

export interface EngineChild {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first event of that name; rejects if the process exits first. */
  waitEvent(name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<void>;
}

export function spawnEngine(spec: object, opts: { cpuProfDir?: string; env?: NodeJS.ProcessEnv } = {}): EngineChild {
  // The flags and environment `npm run worker` runs with: the bench measures the worker as it runs.
  const args = [...WORKER_NODE_FLAGS, ...(opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : []), "--import", "tsx", CHILD];
  const child = spawn(process.execPath, args, {
    env: { ...withWorkerEnv(process.env), LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", ...opts.env, ENGINE_CHILD_SPEC: JSON.stringify(spec) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const events: Record<string, unknown>[] = [];
  let err = "";
  let buf = "";
  const waiters: { name: string; resolve: (e: Record<string, unknown>) => void }[] = [];
  child.stdout!.on("data", (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let ev: Record<string, unknown>;
      try {
        ev = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof ev.event !== "string") continue; // pino log lines
      events.push(ev);
      for (const w of waiters.filter((w) => w.name === ev.event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(ev);
      }
    }
  });
  child.stderr!.on("data", (c: Buffer) => {
    err = (err + c.toString()).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return {
    child,
    events,
    stderr: () => err,
    exited,
    waitEvent(name, timeoutMs = 600_000) {
      const have = events.find((e) => e.event === name);
      if (have) return Promise.resolve(have);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`engine child: no "${name}" in ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)), timeoutMs);
        waiters.push({ name, resolve: (e) => (clearTimeout(t), resolve(e)) });
        exited.then(({ code, signal }) => {
          clearTimeout(t);
          reject(new Error(`engine child exited (${code ?? signal}) before "${name}"; stderr: ${err.slice(-2000)}`));
        });
      });
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
