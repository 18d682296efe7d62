// CPU time of the app's processes from /proc: robust to other load on the machine.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** CPU seconds (user + system) used so far by every process running in `dir` (the app's). */
export function cpuSecondsIn(dir: string): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks / 100;
}

/** CPU seconds used so far by a process and its direct children (a postmaster and its backends). */
export function cpuSecondsOfTree(parentPid: number): number {
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      if (Number(pid) !== parentPid && Number(f[1]) !== parentPid) continue;
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks / 100;
}
