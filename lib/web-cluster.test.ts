// WEB_CONCURRENCY: N processes answer on one port, only the first with the in-process
// worker; a process that dies is replaced; SIGTERM stops them all. Real processes, with a
// plain HTTP server standing in for Next.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./embedded-postgres";

const here = path.dirname(new URL(import.meta.url).pathname);
let primary: ChildProcess | undefined;
let dir: string | undefined;

afterEach(() => {
  if (primary?.exitCode === null) primary.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function ask(port: number): Promise<{ pid: number; index: string; workerInWeb: string }> {
  const r = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" }, signal: AbortSignal.timeout(3000) });
  return r.json();
}

async function until<T>(f: () => Promise<T | undefined>, ms = 40_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {}
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("startWebCluster", () => {
  it("runs N processes on one port, the worker in the first only, replaces a dead one and stops all on SIGTERM", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "web-cluster-"));
    const port = await freePort();
    writeFileSync(
      path.join(dir, "web.mjs"),
      `import http from "node:http";
       http.createServer((req, res) => res.end(JSON.stringify({ pid: process.pid, index: process.env.VAULTLINE_WEB_INDEX, workerInWeb: process.env.WORKER_IN_WEB })))
         .listen(${port});
       process.on("SIGTERM", () => process.exit(0));`,
    );
    writeFileSync(
      path.join(dir, "primary.ts"),
      `import { startWebCluster } from ${JSON.stringify(path.join(here, "web-cluster.ts"))};
       startWebCluster({ processes: 3, workerInWeb: true, exec: ${JSON.stringify(path.join(dir, "web.mjs"))}, restartDelayMs: 100 });`,
    );
    primary = spawn(process.execPath, ["--import", "tsx", path.join(dir, "primary.ts")], { stdio: ["ignore", "pipe", "pipe"], cwd: path.dirname(here) });
    let out = "";
    primary.stdout!.on("data", (c: Buffer) => (out += c));
    primary.stderr!.on("data", (c: Buffer) => (out += c));
    const exited = new Promise<number | null>((r) => primary!.once("exit", (code) => r(code)));

    const seen = new Map<string, { pid: number; workerInWeb: string }>();
    await until(async () => {
      const a = await ask(port);
      seen.set(a.index, a);
      return seen.size === 3 ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; saw ${[...seen.keys()].join(",") || "none"}; primary output:\n${out}`);
    });
    expect([...seen.keys()].sort()).toEqual(["0", "1", "2"]);
    expect(seen.get("0")!.workerInWeb).toBe("true");
    expect(seen.get("1")!.workerInWeb).toBe("false");
    expect(seen.get("2")!.workerInWeb).toBe("false");

    // kill -9 one: another takes its index, with a new pid.
    const victim = seen.get("1")!.pid;
    process.kill(victim, "SIGKILL");
    const replacement = await until(async () => {
      const a = await ask(port);
      return a.index === "1" && a.pid !== victim ? a : undefined;
    });
    expect(replacement.workerInWeb).toBe("false");

    const pids = [seen.get("0")!.pid, seen.get("2")!.pid, replacement.pid];
    primary.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(pids.filter(alive)).toEqual([]);
  }, 120_000);
});
