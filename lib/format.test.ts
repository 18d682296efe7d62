import { describe, expect, it } from "vitest";
import {
  bytesAxis,
  dayTicks,
  durationAxis,
  niceTicks,
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

describe("niceTicks", () => {
  it("covers the largest value with round steps of 1, 2, 2.5 or 5 times a power of ten", () => {
    expect(niceTicks(0.27)).toEqual({ ticks: [0, 0.1, 0.2, 0.3], decimals: 1 });
    expect(niceTicks(15)).toEqual({ ticks: [0, 5, 10, 15], decimals: 0 });
    expect(niceTicks(16)).toEqual({ ticks: [0, 5, 10, 15, 20], decimals: 0 });
    expect(niceTicks(1)).toEqual({ ticks: [0, 0.25, 0.5, 0.75, 1], decimals: 2 });
    expect(niceTicks(45)).toEqual({ ticks: [0, 20, 40, 60], decimals: 0 });
    expect(niceTicks(0)).toEqual({ ticks: [0, 0.25, 0.5, 0.75, 1], decimals: 2 });
    expect(niceTicks(Number.NaN).ticks.at(-1)).toBe(1);
  });

  it("gives distinct labels, ascending, at most 5 ticks, the last at or above the largest, for any size", () => {
    for (let e = -4; e <= 9; e++) {
      for (const m of [1, 1.01, 1.3, 2, 2.4, 2.6, 3.3, 4.99, 5, 7.1, 9.99]) {
        const max = m * 10 ** e;
        const { ticks, decimals } = niceTicks(max);
        const labels = ticks.map((t) => t.toFixed(decimals));
        expect(new Set(labels).size, `${max}: ${labels.join(" ")}`).toBe(labels.length);
        expect(ticks.length).toBeLessThanOrEqual(5);
        expect(ticks[0]).toBe(0);
        expect(ticks.at(-1)!).toBeGreaterThanOrEqual(max * (1 - 1e-9));
        // No tick wasted: the one before the last is below the largest.
        expect(ticks.at(-2)!).toBeLessThan(max);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
      }
    }
  });
});

describe("durationAxis", () => {
  it("picks one unit for the whole axis and labels its round ticks as plain numbers", () => {
    const s = durationAxis(45);
    expect(s.unit).toBe("s");
    expect(s.ticks.map(s.tick)).toEqual(["0", "20", "40", "60"]);
    // Backups under a second: the labels the chart library's own ticks gave were "0 0.1 0.1 0.2 0.3".
    const fast = durationAxis(0.27);
    expect(fast.ticks.map(fast.tick)).toEqual(["0", "0.1", "0.2", "0.3"]);
    const min = durationAxis(900);
    expect(min.unit).toBe("min");
    expect(min.ticks).toEqual([0, 300, 600, 900]);
    expect(min.ticks.map(min.tick)).toEqual(["0", "5", "10", "15"]);
    const h = durationAxis(3 * 3600);
    expect(h.unit).toBe("h");
    expect(h.ticks.map(h.tick)).toEqual(["0", "1", "2", "3"]);
  });
});

describe("bytesAxis", () => {
  it("picks one binary unit and labels round ticks in it", () => {
    // The chart library's own ticks for 15 KiB were decimal: "0 B 3.9 KiB 7.8 KiB 12 KiB 16 KiB".
    const kib = bytesAxis(15 * 1024);
    expect(kib.unit).toBe("KiB");
    expect(kib.ticks.map(kib.tick)).toEqual(["0", "5 KiB", "10 KiB", "15 KiB"]);
    const mib = bytesAxis(620 * 1024 ** 2);
    expect(mib.ticks.map(mib.tick)).toEqual(["0", "200 MiB", "400 MiB", "600 MiB", "800 MiB"]);
    const gib = bytesAxis(1.3 * 1024 ** 3);
    expect(gib.ticks.map(gib.tick)).toEqual(["0", "0.5 GiB", "1.0 GiB", "1.5 GiB"]);
    const small = bytesAxis(700);
    expect(small.ticks.map(small.tick)).toEqual(["0", "200 B", "400 B", "600 B", "800 B"]);
    expect(bytesAxis(0).ticks.map(bytesAxis(0).tick)).toEqual(["0", "1 B", "2 B", "3 B", "4 B"]);
  });
});

describe("dayTicks", () => {
  const DAY = 86_400_000;
  const to = Date.UTC(2026, 11, 6, 21, 10);
  it("a week apart over 30 days, two weeks over 90, each a UTC midnight within the range, the last the newest", () => {
    const month = dayTicks(to - 30 * DAY, to);
    expect(month.map((t) => new Date(t).toISOString().slice(5, 10))).toEqual(["11-08", "11-15", "11-22", "11-29", "12-06"]);
    const quarter = dayTicks(to - 90 * DAY, to);
    expect(quarter).toHaveLength(7);
    expect(quarter.at(-1)).toBe(Date.UTC(2026, 11, 6));
    for (let i = 1; i < quarter.length; i++) expect(quarter[i] - quarter[i - 1]).toBe(14 * DAY);
    expect(quarter[0]).toBeGreaterThanOrEqual(to - 90 * DAY);
    expect(dayTicks(to - 7 * DAY, to)).toHaveLength(4);
  });
});
