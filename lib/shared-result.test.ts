import { describe, expect, it } from "vitest";
import { createSharedResult } from "./shared-result";

function setup() {
  let t = 0;
  let runs = 0;
  let fail = false;
  const pending: (() => void)[] = [];
  const shared = createSharedResult(
    () =>
      new Promise<number>((resolve, reject) => {
        runs++;
        const n = runs;
        pending.push(() => (fail ? reject(new Error("probe failed")) : resolve(n)));
      }),
    { ttlMs: 5_000, maxAgeMs: 60_000, now: () => t },
  );
  const settle = async () => {
    while (pending.length) pending.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { shared, settle, advance: (ms: number) => (t += ms), runs: () => runs, failNext: (f: boolean) => (fail = f) };
}

describe("createSharedResult", () => {
  it("runs once for concurrent callers and reuses the result within the TTL", async () => {
    const s = setup();
    const a = s.shared.get();
    const b = s.shared.get();
    await s.settle();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    s.advance(5_000);
    expect(await s.shared.get()).toBe(1);
    expect(s.runs()).toBe(1);
  });

  it("after the TTL answers the previous result at once and refreshes once in the background", async () => {
    const s = setup();
    const first = s.shared.get();
    await s.settle();
    await first;
    s.advance(5_001);
    expect(await s.shared.get()).toBe(1);
    expect(await s.shared.get()).toBe(1);
    expect(s.runs()).toBe(2);
    await s.settle();
    expect(await s.shared.get()).toBe(2);
  });

  it("past the maximum age waits for a fresh result; a failure reaches the caller and the next call retries", async () => {
    const s = setup();
    const first = s.shared.get();
    await s.settle();
    await first;
    s.advance(60_001);
    s.failNext(true);
    const failing = expect(s.shared.get()).rejects.toThrow("probe failed");
    await s.settle();
    await failing;
    s.failNext(false);
    const retry = s.shared.get();
    await s.settle();
    expect(await retry).toBe(3);
  });

  it("reset() forgets the result", async () => {
    const s = setup();
    const first = s.shared.get();
    await s.settle();
    await first;
    s.shared.reset();
    const again = s.shared.get();
    await s.settle();
    expect(await again).toBe(2);
  });
});
