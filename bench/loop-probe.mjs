// Preloaded into the app's processes by bench/list-ab.ts (`--probe`, through
// NODE_OPTIONS="--import …/loop-probe.mjs"): records, per process, every garbage collection
// (kind, pause), every event-loop stall over 10 ms (when, how long), the largest RSS and
// each HTTP request's time from its arrival to its response,
// written to $LOOP_PROBE_DIR/<pid>.json once a second. Times are epoch milliseconds. Plain JavaScript
// without imports from the app, so it loads before anything else in any process.
import { PerformanceObserver, performance } from "node:perf_hooks";
import { writeFileSync } from "node:fs";
import http from "node:http";
import v8 from "node:v8";
import path from "node:path";

const dir = process.env.LOOP_PROBE_DIR;
// V8 flags NODE_OPTIONS does not accept (e.g. --single-threaded-gc), for A/B runs only.
if (process.env.PROBE_V8_FLAGS) v8.setFlagsFromString(process.env.PROBE_V8_FLAGS);
if (dir) {
  const gc = [];
  const stalls = [];
  const epoch = (t) => performance.timeOrigin + t;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gc.push({ at: epoch(e.startTime), ms: e.duration, kind: e.detail?.kind ?? e.kind });
  }).observe({ entryTypes: ["gc"] });
  // A 5 ms tick: a tick that comes late by more than 10 ms means the loop was busy that long.
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last - 5 > 10) stalls.push({ at: epoch(last), ms: now - last - 5 });
    last = now;
  }, 5).unref();
  // Each request's time inside this process: from the server's "request" event to the
  // response handed to the socket ("finish"), to set against the client's time.
  const served = [];
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, req, res) {
    if (event === "request" && res) {
      const t0 = performance.now();
      res.once("finish", () => served.push({ at: epoch(t0), ms: performance.now() - t0 }));
    }
    return emit.apply(this, arguments);
  };
  const file = path.join(dir, `${process.pid}.json`);
  let rssMax = 0;
  const flush = () => {
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    writeFileSync(file, JSON.stringify({ pid: process.pid, argv: process.argv.slice(1), gc, stalls, rssMax, served }));
  };
  setInterval(flush, 1000).unref();
  process.on("exit", flush);
}
