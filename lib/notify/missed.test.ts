import { describe, expect, it } from "vitest";
import { shouldSendMissedAlert } from "./missed";

const H = 60 * 60 * 1000;
const success = new Date("2026-11-20T02:00:00Z");
const at = (hoursAfterSuccess: number) => new Date(success.getTime() + hoursAfterSuccess * H);

describe("shouldSendMissedAlert", () => {
  it("stays quiet until the gap reaches `hours`, then alerts", () => {
    const base = { lastSuccessAt: success, lastAlertForGapAt: null, hours: 26 };
    expect(shouldSendMissedAlert({ ...base, now: at(25.9) })).toBe(false);
    expect(shouldSendMissedAlert({ ...base, now: at(26) })).toBe(true);
    expect(shouldSendMissedAlert({ ...base, now: at(40) })).toBe(true);
  });

  it("alerts once per gap", () => {
    const alerted = at(26);
    expect(shouldSendMissedAlert({ lastSuccessAt: success, lastAlertForGapAt: alerted, now: at(27), hours: 26 })).toBe(false);
    expect(shouldSendMissedAlert({ lastSuccessAt: success, lastAlertForGapAt: alerted, now: at(500), hours: 26 })).toBe(false);
  });

  it("opens a new gap after a new success", () => {
    const alerted = at(26);
    const nextSuccess = at(30);
    const later = (h: number) => new Date(nextSuccess.getTime() + h * H);
    expect(shouldSendMissedAlert({ lastSuccessAt: nextSuccess, lastAlertForGapAt: alerted, now: later(10), hours: 26 })).toBe(false);
    expect(shouldSendMissedAlert({ lastSuccessAt: nextSuccess, lastAlertForGapAt: alerted, now: later(26), hours: 26 })).toBe(true);
  });

  it("measures from `since` when there has never been a success", () => {
    const since = success;
    expect(shouldSendMissedAlert({ lastSuccessAt: null, lastAlertForGapAt: null, since, now: at(1), hours: 26 })).toBe(false);
    expect(shouldSendMissedAlert({ lastSuccessAt: null, lastAlertForGapAt: null, since, now: at(26), hours: 26 })).toBe(true);
    expect(shouldSendMissedAlert({ lastSuccessAt: null, lastAlertForGapAt: at(26), since, now: at(60), hours: 26 })).toBe(false);
  });

  it("alerts once when there never was a success and no start time is known", () => {
    expect(shouldSendMissedAlert({ lastSuccessAt: null, lastAlertForGapAt: null, now: at(0), hours: 26 })).toBe(true);
    expect(shouldSendMissedAlert({ lastSuccessAt: null, lastAlertForGapAt: at(0), now: at(100), hours: 26 })).toBe(false);
  });

  it("never alerts for a non-positive threshold", () => {
    expect(shouldSendMissedAlert({ lastSuccessAt: success, lastAlertForGapAt: null, now: at(1000), hours: 0 })).toBe(false);
  });
});
