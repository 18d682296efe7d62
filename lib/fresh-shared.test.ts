import { describe, expect, it } from "vitest";
import { createFreshShared } from "./fresh-shared";
import { todayKey } from "./today-shared";

/** Runs that finish when the test says so; each answers the database "version" it read at its start. */
function setup() {
  let version = 0;
  let starts = 0;
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const run = (label = "") => () =>
    new Promise<string>((resolve, reject) => {
      starts++;
      const read = version;
      pending.push({ resolve: () => resolve(`${label}v${read}`), reject });
    });
  const tick = () => new Promise((r) => setImmediate(r));
  const finishOne = async (fail?: Error) => {
    const p = pending.shift()!;
    if (fail) p.reject(fail);
    else p.resolve();
    await tick();
  };
  return { run, finishOne, tick, write: () => version++, starts: () => starts, pending: () => pending.length };
}

describe("createFreshShared", () => {
  it("costs at most one run at a time per key plus one queued, however many callers", async () => {
    const s = setup();
    const shared = createFreshShared<string>();
    const answers = Array.from({ length: 10 }, () => shared.get("k", s.run()));
    expect(s.starts()).toBe(1);
    await s.finishOne();
    expect(s.starts()).toBe(2);
    await s.finishOne();
    expect(await Promise.all(answers)).toEqual(["v0", ...Array(9).fill("v0")]);
    expect(s.starts()).toBe(2);
  });

  it("never answers a read older than the request: a caller arriving mid-run waits for the next run, shared by all who arrived meanwhile", async () => {
    const s = setup();
    const shared = createFreshShared<string>();
    const first = shared.get("k", s.run());
    s.write(); // a backup starts after the first run read the catalogue
    const late1 = shared.get("k", s.run());
    const late2 = shared.get("k", s.run());
    expect(s.starts()).toBe(1); // queued, not started: at most one run at a time per key
    await s.finishOne();
    expect(await first).toBe("v0");
    expect(s.starts()).toBe(2);
    // Someone arriving while the second run is in flight queues behind it.
    s.write();
    const later = shared.get("k", s.run());
    await s.finishOne();
    expect(await Promise.all([late1, late2])).toEqual(["v1", "v1"]);
    await s.finishOne();
    expect(await later).toBe("v2");
    expect(s.starts()).toBe(3);
  });

  it("keeps nothing once a key is idle: the next caller reads again", async () => {
    const s = setup();
    const shared = createFreshShared<string>();
    const a = shared.get("k", s.run());
    await s.finishOne();
    await a;
    expect(shared.size()).toBe(0);
    s.write();
    const b = shared.get("k", s.run());
    await s.finishOne();
    expect(await b).toBe("v1");
    expect(s.starts()).toBe(2);
  });

  it("keys are separate: another key's caller neither joins nor waits", async () => {
    const s = setup();
    const shared = createFreshShared<string>();
    const a = shared.get("a", s.run("a:"));
    const b = shared.get("b", s.run("b:"));
    expect(s.starts()).toBe(2);
    expect(shared.size()).toBe(2);
    await s.finishOne();
    await s.finishOne();
    expect(await Promise.all([a, b])).toEqual(["a:v0", "b:v0"]);
    expect(shared.size()).toBe(0);
  });

  it("a failure goes to the callers of that run only; the queued run still runs", async () => {
    const s = setup();
    const shared = createFreshShared<string>();
    const a = shared.get("k", s.run());
    const b = shared.get("k", s.run());
    await s.finishOne(new Error("database unreachable"));
    await expect(a).rejects.toThrow("database unreachable");
    await s.finishOne();
    expect(await b).toBe("v0");
    expect(shared.size()).toBe(0);
  });
});

describe("todayKey", () => {
  it("separates roles and targets", () => {
    const keys = new Set([todayKey("ADMIN", undefined), todayKey("VIEWER", undefined), todayKey("ADMIN", "default"), todayKey("ADMIN", "billing")]);
    expect(keys.size).toBe(4);
    expect(todayKey("ADMIN", "billing")).toBe(todayKey("ADMIN", "billing"));
  });
});
