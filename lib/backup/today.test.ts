import { describe, expect, it } from "vitest";
import { hoursSince, todayState, utcDayStart, type FinishedJob } from "./today";

const now = new Date("2025-10-05T10:00:00Z");
const job = (status: FinishedJob["status"], iso: string, kind: FinishedJob["kind"] = "FULL"): FinishedJob => ({ status, kind, finishedAt: new Date(iso) });

describe("utcDayStart", () => {
  it("is midnight UTC of the same UTC day", () => {
    expect(utcDayStart(now).toISOString()).toBe("2025-10-05T00:00:00.000Z");
    expect(utcDayStart(new Date("2025-10-05T23:59:59.999Z")).toISOString()).toBe("2025-10-05T00:00:00.000Z");
    expect(utcDayStart(new Date("2025-10-06T00:00:00.000Z")).toISOString()).toBe("2025-10-06T00:00:00.000Z");
  });
});

describe("todayState", () => {
  it("is missing with no history at all", () => {
    expect(todayState({ now, active: false, finished: [] })).toBe("missing");
  });

  it("is ok when a backup succeeded today", () => {
    expect(todayState({ now, active: false, finished: [job("SUCCEEDED", "2025-10-05T02:00:12Z")] })).toBe("ok");
  });

  it("is ok when a later run failed but an earlier one today succeeded", () => {
    const finished = [job("SUCCEEDED", "2025-10-05T02:00:12Z"), job("FAILED", "2025-10-05T09:00:00Z")];
    expect(todayState({ now, active: false, finished })).toBe("ok");
  });

  it("is missing, not ok, when only QUICK (code-only) backups succeeded today", () => {
    expect(todayState({ now, active: false, finished: [job("SUCCEEDED", "2025-10-05T08:00:00Z", "QUICK")] })).toBe("missing");
  });

  it("is ok with a FULL success today even beside QUICK ones", () => {
    const finished = [job("SUCCEEDED", "2025-10-05T02:00:00Z"), job("SUCCEEDED", "2025-10-05T09:00:00Z", "QUICK")];
    expect(todayState({ now, active: false, finished })).toBe("ok");
  });

  it("stays failed when a QUICK backup succeeded after today's FULL failed", () => {
    const finished = [job("FAILED", "2025-10-05T02:00:00Z"), job("SUCCEEDED", "2025-10-05T09:00:00Z", "QUICK")];
    expect(todayState({ now, active: false, finished })).toBe("failed");
  });

  it("is failed when today's newest finished backup failed and none succeeded", () => {
    const finished = [job("CANCELLED", "2025-10-05T01:00:00Z"), job("FAILED", "2025-10-05T02:00:05Z")];
    expect(todayState({ now, active: false, finished })).toBe("failed");
  });

  it("is missing when today's newest finished backup was cancelled after a failure", () => {
    const finished = [job("FAILED", "2025-10-05T02:00:05Z"), job("CANCELLED", "2025-10-05T03:00:00Z")];
    expect(todayState({ now, active: false, finished })).toBe("missing");
  });

  it("ignores yesterday: a success at 23:59 UTC yesterday leaves today missing", () => {
    expect(todayState({ now, active: false, finished: [job("SUCCEEDED", "2025-10-04T23:59:59Z")] })).toBe("missing");
    expect(todayState({ now, active: false, finished: [job("FAILED", "2025-10-04T23:59:59Z")] })).toBe("missing");
  });

  it("counts a success exactly at 00:00 UTC as today", () => {
    expect(todayState({ now, active: false, finished: [job("SUCCEEDED", "2025-10-05T00:00:00Z")] })).toBe("ok");
  });

  it("is running whenever a backup is queued or running, whatever else happened", () => {
    expect(todayState({ now, active: true, finished: [] })).toBe("running");
    expect(todayState({ now, active: true, finished: [job("FAILED", "2025-10-05T02:00:00Z")] })).toBe("running");
    expect(todayState({ now, active: true, finished: [job("SUCCEEDED", "2025-10-05T02:00:00Z")] })).toBe("running");
  });

  it("does not let a clock-skewed future completion count", () => {
    expect(todayState({ now, active: false, finished: [job("SUCCEEDED", "2025-10-05T11:00:00Z")] })).toBe("missing");
  });
});

describe("hoursSince", () => {
  it("is hours to one decimal, null without a success", () => {
    expect(hoursSince(new Date("2025-10-04T08:00:00Z"), now)).toBe(26);
    expect(hoursSince(new Date("2025-10-05T09:45:00Z"), now)).toBe(0.3);
    expect(hoursSince(null, now)).toBeNull();
  });
});
