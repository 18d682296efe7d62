import { describe, expect, it } from "vitest";
import { CATCH_UP_WINDOW_MS, catchUpSlot, latestSlot, scheduleInForceSince, slotForTick } from "./schedule";
import { DEFAULT_RETRY_POLICY, maxAttemptsOf, retryDelaySeconds } from "./retries";

const daily = { cron: "0 2 * * *", timezone: "UTC", enabled: true };
const t = (iso: string) => new Date(iso);

describe("latestSlot", () => {
  it("is the occurrence at or before the instant", () => {
    expect(latestSlot(daily, t("2026-11-21T02:00:00.000Z")).toISOString()).toBe("2026-11-21T02:00:00.000Z");
    expect(latestSlot(daily, t("2026-11-21T01:59:59.999Z")).toISOString()).toBe("2026-11-20T02:00:00.000Z");
    expect(latestSlot(daily, t("2026-11-21T14:00:00Z")).toISOString()).toBe("2026-11-21T02:00:00.000Z");
  });
  it("reads the cron in the schedule's time zone, across daylight saving", () => {
    const berlin = { cron: "0 2 * * *", timezone: "Europe/Berlin" };
    expect(latestSlot(berlin, t("2026-01-15T12:00:00Z")).toISOString()).toBe("2026-01-15T01:00:00.000Z");
    expect(latestSlot(berlin, t("2026-07-15T12:00:00Z")).toISOString()).toBe("2026-07-15T00:00:00.000Z");
    const kolkata = { cron: "30 8 * * *", timezone: "Asia/Kolkata" };
    expect(latestSlot(kolkata, t("2026-07-15T12:00:00Z")).toISOString()).toBe("2026-07-15T03:00:00.000Z");
  });
});

describe("slotForTick", () => {
  it("claims the slot the tick was created for", () => {
    const v = slotForTick(daily, t("2026-11-21T02:00:07Z"), t("2026-11-21T02:00:08Z"));
    expect(v.slot?.toISOString()).toBe("2026-11-21T02:00:00.000Z");
  });
  it("still claims it when the handler runs late but no newer slot has passed", () => {
    expect(slotForTick(daily, t("2026-11-21T02:00:07Z"), t("2026-11-21T09:00:00Z")).slot?.toISOString()).toBe("2026-11-21T02:00:00.000Z");
  });
  it("drops ticks that waited past a newer slot (no burst after an outage)", () => {
    const minutely = { cron: "* * * * *", timezone: "UTC" };
    const v = slotForTick(minutely, t("2026-11-21T02:00:05Z"), t("2026-11-21T02:07:30Z"));
    expect(v.slot).toBeNull();
  });
  it("drops a tick created long after the slot it would claim (cron changed meanwhile)", () => {
    const v = slotForTick({ cron: "0 3 * * *", timezone: "UTC" }, t("2026-11-21T02:00:05Z"), t("2026-11-21T02:00:06Z"));
    expect(v.slot).toBeNull();
  });
});

describe("scheduleInForceSince", () => {
  it("a saved schedule is in force from its save, before any worker started: its first slot is caught up", () => {
    // Saved 1.2 s before 02:00; the first worker ever came up at 02:00:40.
    const saved = t("2026-11-21T01:59:58.800Z");
    const firstWorker = t("2026-11-21T02:00:40Z");
    expect(scheduleInForceSince(saved, firstWorker)).toEqual(saved);
    expect(catchUpSlot(daily, scheduleInForceSince(saved, firstWorker), firstWorker)?.toISOString()).toBe("2026-11-21T02:00:00.000Z");
  });
  it("the built-in default, never saved, is in force from when scheduling began: no run at the first start", () => {
    const firstWorker = t("2026-11-21T14:00:00Z");
    expect(scheduleInForceSince(null, firstWorker)).toEqual(firstWorker);
    expect(catchUpSlot(daily, scheduleInForceSince(undefined, firstWorker), firstWorker)).toBeNull();
  });
  it("a schedule saved after its slot does not run that slot", () => {
    const saved = t("2026-11-21T02:00:01Z");
    expect(catchUpSlot(daily, scheduleInForceSince(saved, t("2026-11-01T00:00:00Z")), t("2026-11-21T09:00:00Z"))).toBeNull();
  });
});

describe("catchUpSlot", () => {
  const since = t("2026-11-01T00:00:00Z");
  it("catches up the most recent slot only, within 24 hours", () => {
    expect(catchUpSlot(daily, since, t("2026-11-21T09:00:00Z"))?.toISOString()).toBe("2026-11-21T02:00:00.000Z");
    // Down for three days: still one slot, the latest.
    expect(catchUpSlot({ ...daily, cron: "0 * * * *" }, since, t("2026-11-21T09:30:00Z"))?.toISOString()).toBe("2026-11-21T09:00:00.000Z");
  });
  it("does not catch up a slot older than the window", () => {
    const weekly = { ...daily, cron: "0 2 * * 1" };
    const now = t("2026-11-21T09:00:00Z"); // a Saturday; the last Monday slot is 5 days back
    expect(catchUpSlot(weekly, since, now)).toBeNull();
    const monday = latestSlot(weekly, now);
    expect(catchUpSlot(weekly, since, new Date(monday.getTime() + CATCH_UP_WINDOW_MS - 1))?.toISOString()).toBe(monday.toISOString());
    expect(catchUpSlot(weekly, since, new Date(monday.getTime() + CATCH_UP_WINDOW_MS))).toBeNull();
  });
  it("does not catch up a slot from before the schedule was in force, or when disabled", () => {
    expect(catchUpSlot(daily, t("2026-11-21T05:00:00Z"), t("2026-11-21T09:00:00Z"))).toBeNull();
    expect(catchUpSlot({ ...daily, enabled: false }, since, t("2026-11-21T09:00:00Z"))).toBeNull();
  });
});

describe("retry policy", () => {
  it("retries three times, after 1, 5 and 15 minutes (4 attempts in all)", () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBe(4);
    expect(retryDelaySeconds(DEFAULT_RETRY_POLICY, 1)).toBe(60);
    expect(retryDelaySeconds(DEFAULT_RETRY_POLICY, 2)).toBe(300);
    expect(retryDelaySeconds(DEFAULT_RETRY_POLICY, 3)).toBe(900);
  });
  it("reads the attempts recorded on the job; unscheduled jobs get one", () => {
    expect(maxAttemptsOf({ trigger: "SCHEDULED", metadata: { maxAttempts: 5 } })).toBe(5);
    expect(maxAttemptsOf({ trigger: "SCHEDULED", metadata: {} })).toBe(4);
    expect(maxAttemptsOf({ trigger: "MANUAL", metadata: {} })).toBe(1);
  });
});
