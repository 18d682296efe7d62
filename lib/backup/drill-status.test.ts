import { describe, expect, it } from "vitest";
import { DRILL_GRACE_MS, drillInterval, drillState, type DrillStateInput } from "./drill-status";

const H = 3_600_000;
const WEEKLY = { enabled: true, cron: "0 4 * * 0", timezone: "UTC" };
const now = new Date("2026-12-02T12:00:00Z"); // a Wednesday
const base: DrillStateInput = { now, schedule: WEEKLY, inForceSince: new Date("2026-11-01T00:00:00Z"), running: false, newestFinished: null, lastSuccessAt: null };

describe("drillInterval", () => {
  it("is the gap between the cron's latest occurrence and the one before, in its time zone", () => {
    expect(drillInterval(WEEKLY, now)).toBe(7 * 24 * H);
    expect(drillInterval({ cron: "0 3 * * *", timezone: "Europe/Berlin" }, now)).toBe(24 * H);
    // Across the spring-forward night a Berlin day is 23 hours long.
    expect(drillInterval({ cron: "0 3 * * *", timezone: "Europe/Berlin" }, new Date("2026-03-29T12:00:00Z"))).toBe(23 * H);
  });
});

describe("drillState", () => {
  it("ok while the last pass is within one interval plus grace; overdue after", () => {
    const lastSuccessAt = new Date(now.getTime() - 7 * 24 * H - DRILL_GRACE_MS + 60_000);
    expect(drillState({ ...base, lastSuccessAt, newestFinished: { status: "PASSED" } })).toBe("ok");
    expect(drillState({ ...base, lastSuccessAt: new Date(lastSuccessAt.getTime() - 120_000), newestFinished: { status: "PASSED" } })).toBe("overdue");
  });

  it("counts a schedule that never passed from when it was saved: pending, then overdue", () => {
    expect(drillState({ ...base, inForceSince: new Date(now.getTime() - 24 * H) })).toBe("pending");
    expect(drillState({ ...base, inForceSince: new Date(now.getTime() - 8 * 24 * H) })).toBe("overdue");
  });

  it("running beats everything; the newest drill failing is red whatever came before", () => {
    expect(drillState({ ...base, running: true, newestFinished: { status: "FAILED" } })).toBe("running");
    expect(drillState({ ...base, newestFinished: { status: "FAILED" }, lastSuccessAt: new Date(now.getTime() - H) })).toBe("failed");
  });

  it("with the schedule off, a past pass is ok forever and nothing is none", () => {
    const off = { ...WEEKLY, enabled: false };
    expect(drillState({ ...base, schedule: off, lastSuccessAt: new Date("2020-01-01"), newestFinished: { status: "PASSED" } })).toBe("ok");
    expect(drillState({ ...base, schedule: off })).toBe("none");
  });
});
