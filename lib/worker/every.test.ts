// The worker's periodic tasks (every.ts): stop() waits for the run in flight, runs never
// overlap, a failure is reported and the next tick runs again.
import { describe, expect, it } from "vitest";
import { every } from "./every";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("every", () => {
  it("stop() resolves only after the run in flight has finished", async () => {
    const log: string[] = [];
    const stop = every(5, "slow", async () => {
      log.push("start");
      await sleep(150);
      log.push("end");
    }, () => {});
    while (!log.includes("start")) await sleep(2);
    await stop();
    log.push("stopped");
    expect(log).toEqual(["start", "end", "stopped"]);
    await sleep(30);
    expect(log).toEqual(["start", "end", "stopped"]); // no run after stop
  });

  it("stops waiting after stopWaitMs for a run that does not end", async () => {
    let started = false;
    const stop = every(5, "stuck", async () => {
      started = true;
      await new Promise(() => {});
    }, () => {}, 50);
    while (!started) await sleep(2);
    const t0 = Date.now();
    await stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("never runs two at once, reports a failure and runs again on the next tick", async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const errors: string[] = [];
    const stop = every(5, "flaky", async () => {
      running++;
      most = Math.max(most, running);
      runs++;
      await sleep(20);
      running--;
      if (runs === 1) throw new Error("first run fails");
    }, (what, e) => errors.push(`${what}: ${e.message}`));
    while (runs < 3) await sleep(2);
    await stop();
    expect(most).toBe(1);
    expect(errors).toEqual(["flaky: first run fails"]);
  });
});
