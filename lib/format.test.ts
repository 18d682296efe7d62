import { describe, expect, it } from "vitest";
import {
  durationAxis,
  elapsedSeconds,
  formatBytes,
  formatClockUtc,
  formatDateTimeUtc,
  formatDuration,
  formatHours,
  formatMinutes,
  plural,
  formatRelative,
  formatTimeUtc,
  progressFraction,
  shortHash,
  shortId,
} from "./format";

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [999, "999 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1536, "1.5 KiB"],
    [168_470, "165 KiB"],
    [3_400_000, "3.2 MiB"],
    [5 * 1024 * 1024, "5 MiB"],
    [250 * 1024 * 1024, "250 MiB"],
    [1024 * 1024 - 20, "1 MiB"],
    [12_345_678_901, "11 GiB"],
    [2.5 * 1024 ** 5, "2.5 PiB"],
  ])("%d bytes → %s", (n, text) => expect(formatBytes(n)).toBe(text));

  it("takes the BigInt sizes Prisma returns", () => {
    expect(formatBytes(1_288_490_189n)).toBe("1.2 GiB");
  });

  it("shows a dash, or the caller's word, for what is not a size", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(undefined)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
    expect(formatBytes(null, "unknown size")).toBe("unknown size");
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [0.4, "<1 s"],
    [12, "12 s"],
    [12.4, "12 s"],
    [60, "1 min"],
    [125, "2 min 5 s"],
    [3600, "1 h"],
    [3780, "1 h 3 min"],
    [86_400, "1 d"],
    [90_000, "1 d 1 h"],
  ])("%d s → %s", (s, text) => expect(formatDuration(s)).toBe(text));

  it("shows a dash for a missing duration", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(-3)).toBe("—");
  });
});

describe("formatHours", () => {
  it.each([
    [0.2, "<1 h"],
    [1, "1 h"],
    [26.7, "26 h"],
    [71.9, "71 h"],
    [80, "3 d"],
  ])("%d h → %s", (h, text) => expect(formatHours(h)).toBe(text));
  it("shows a dash for null", () => expect(formatHours(null)).toBe("—"));
});

describe("formatRelative", () => {
  const now = new Date("2025-10-06T04:00:00Z");
  it.each([
    ["2025-10-06T03:59:30Z", "just now"],
    ["2025-10-06T03:55:00Z", "5 min ago"],
    ["2025-10-05T02:00:00Z", "26 h ago"],
    ["2025-10-02T04:00:00Z", "4 d ago"],
    ["2025-10-06T08:00:00Z", "in 4 h"],
  ])("%s → %s", (t, text) => expect(formatRelative(t, now)).toBe(text));
  it("shows a dash for missing or invalid times", () => {
    expect(formatRelative(null, now)).toBe("—");
    expect(formatRelative("not a date", now)).toBe("—");
  });
});

describe("UTC formatting", () => {
  it("formats in UTC whatever the local zone", () => {
    expect(formatDateTimeUtc("2025-10-05T02:00:59.900Z")).toBe("2025-10-05 02:00 UTC");
    expect(formatTimeUtc(new Date(Date.UTC(2025, 0, 1, 23, 5)))).toBe("23:05 UTC");
    expect(formatDateTimeUtc(null)).toBe("—");
    expect(formatClockUtc("2025-10-05T02:00:12.900Z")).toBe("02:00:12 UTC");
  });
});

describe("ids and hashes", () => {
  it("shortens", () => {
    expect(shortId("cm9x1y2z3a4b5c6d7e8f9g0h")).toBe("cm9x1y2z");
    expect(shortHash("3b22e74f19c41a7be3e3179a440d36fe")).toBe("3b22e74f19c4");
    expect(shortHash(null)).toBe("—");
  });
});

describe("progress", () => {
  it("measures elapsed time, never negative", () => {
    const now = new Date("2025-10-06T04:00:10Z");
    expect(elapsedSeconds("2025-10-06T04:00:00Z", null, now)).toBe(10);
    expect(elapsedSeconds("2025-10-06T04:00:00Z", "2025-10-06T04:01:00Z", now)).toBe(60);
    expect(elapsedSeconds("2025-10-06T04:00:20Z", null, now)).toBe(0);
    expect(elapsedSeconds(null, null, now)).toBeNull();
  });
  it("estimates a fraction, capped below 1 while running", () => {
    expect(progressFraction(50, 200)).toBe(0.25);
    expect(progressFraction(500, 200)).toBe(0.99);
    expect(progressFraction(50, null)).toBeNull();
    expect(progressFraction(50, 0)).toBeNull();
  });
});

describe("formatMinutes and plural", () => {
  it("say the configured numbers as words", () => {
    expect(formatMinutes(1)).toBe("minute");
    expect(formatMinutes(60)).toBe("hour");
    expect(formatMinutes(120)).toBe("2 hours");
    expect(formatMinutes(45)).toBe("45 minutes");
    expect(plural(1, "minute")).toBe("1 minute");
    expect(plural(5, "minute")).toBe("5 minutes");
  });
});

describe("durationAxis", () => {
  it("picks one unit for the whole axis and labels ticks as plain numbers", () => {
    expect(durationAxis(45)).toMatchObject({ unit: "s" });
    expect(durationAxis(45).tick(12.34)).toBe("12.3");
    const min = durationAxis(900);
    expect(min.unit).toBe("min");
    expect([0, 90, 300, 900].map(min.tick)).toEqual(["0", "1.5", "5", "15"]);
    const h = durationAxis(3 * 3600);
    expect(h.unit).toBe("h");
    expect(h.tick(5400)).toBe("1.5");
  });
});
