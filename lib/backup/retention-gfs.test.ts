import { describe, expect, it } from "vitest";
import { planRetention, type RetentionCandidate, type RetentionPolicy } from "./retention";
import { LocalCalendar, civil, isoWeek, periodIndex, periodLabel } from "./retention-periods";

const DAY = 24 * 60 * 60 * 1000;

function full(id: string, at: string, over: Partial<RetentionCandidate> = {}): RetentionCandidate {
  const createdAt = new Date(at);
  return { id, kind: "FULL", trigger: "SCHEDULED", status: "SUCCEEDED", createdAt, completedAt: new Date(createdAt.getTime() + 60_000), ...over };
}

const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({
  days: 0,
  keepLast: 0,
  keepQuick: 0,
  keepDaily: 0,
  keepWeekly: 0,
  keepMonthly: 0,
  keepYearly: 0,
  ...p,
});

const keptTable = (r: ReturnType<typeof planRetention>) => Object.fromEntries(r.keep.map((k) => [k.id, k.reasons]));
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe("calendar periods", () => {
  it("numbers ISO weeks from Monday, with week 1 holding the year's first Thursday", () => {
    const day = (s: string) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / DAY;
    expect(isoWeek(day("2025-12-28"))).toEqual({ year: 2025, week: 52 }); // a Sunday
    expect(isoWeek(day("2025-12-29"))).toEqual({ year: 2026, week: 1 }); // the Monday before 1 January
    expect(isoWeek(day("2026-11-29"))).toEqual({ year: 2026, week: 48 });
    expect(isoWeek(day("2026-11-30"))).toEqual({ year: 2026, week: 49 });
    expect(isoWeek(day("2026-12-31"))).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(day("2027-01-03"))).toEqual({ year: 2026, week: 53 });
    expect(isoWeek(day("2027-01-04"))).toEqual({ year: 2027, week: 1 });
    expect(periodLabel("weekly", day("2027-01-03"))).toBe("2026-W53");
    expect(periodIndex("weekly", day("2027-01-03"))).toBe(periodIndex("weekly", day("2026-12-28")));
    expect(periodIndex("weekly", day("2027-01-04"))).toBe(periodIndex("weekly", day("2027-01-03")) + 1);
    expect(periodIndex("monthly", day("2026-01-15"))).toBe(periodIndex("monthly", day("2025-12-31")) + 1);
    expect(periodIndex("yearly", day("2026-01-01"))).toBe(2026);
  });

  it("turns day numbers into the calendar dates Date gives, leap days and centuries included", () => {
    for (let d = Date.UTC(1899, 11, 1) / DAY; d < Date.UTC(2101, 2, 1) / DAY; d += 1) {
      const js = new Date(d * DAY);
      const c = civil(d);
      if (c.year !== js.getUTCFullYear() || c.month !== js.getUTCMonth() + 1 || c.date !== js.getUTCDate()) {
        expect(c, js.toISOString()).toEqual({ year: js.getUTCFullYear(), month: js.getUTCMonth() + 1, date: js.getUTCDate() });
      }
    }
  });

  it("gives every instant the local date Intl gives, in zones that change clocks at midnight or on odd offsets", () => {
    // Santiago and Beirut change their clocks at local midnight: a cached offset wrong for
    // part of that hour would put backups on the wrong day; so would one offset for the whole year.
    for (const tz of ["Europe/Berlin", "America/Santiago", "Asia/Beirut", "Australia/Adelaide", "America/St_Johns", "Asia/Kathmandu", "UTC"]) {
      const cal = new LocalCalendar(tz);
      const fmt = new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" });
      // Every 15 minutes over the 2026 transitions of the southern and northern zones.
      for (const [from, to] of [
        ["2026-03-27T00:00:00Z", "2026-04-07T00:00:00Z"],
        ["2026-09-04T00:00:00Z", "2026-09-08T00:00:00Z"],
        ["2026-10-02T00:00:00Z", "2026-11-03T00:00:00Z"],
      ]) {
        for (let ms = Date.parse(from); ms < Date.parse(to); ms += 15 * 60_000) {
          expect(isoDate(cal.day(new Date(ms)) * DAY), `${tz} ${new Date(ms).toISOString()}`).toBe(fmt.format(new Date(ms)));
        }
      }
    }
  });
});

describe("GFS retention", () => {
  it("over 400 days of history keeps exactly the table (days 0, keepLast 1, 7 daily, 4 weekly, 12 monthly, 2 yearly)", () => {
    const NOW = new Date("2026-11-30T12:00:00Z"); // a Monday, ISO week 2026-W49
    const missing = new Set(["2026-11-27", "2026-03-29", "2026-03-30", "2026-03-31"]);
    const history: RetentionCandidate[] = [];
    for (let ms = Date.parse("2025-10-27T02:00:00Z"); ms <= NOW.getTime(); ms += DAY) {
      const d = isoDate(ms);
      if (!missing.has(d)) history.push(full(`f${d}`, new Date(ms).toISOString(), d === "2026-11-20" ? { verifyStatus: "PASSED" } : {}));
    }
    expect(history).toHaveLength(400 - missing.size);
    history.push(
      full("f2026-11-30-pm", "2026-11-30T11:00:00Z"),
      // Newer than the month's last good FULL, but unrestorable / not a FULL / not a success.
      full("bad2026-10-31", "2026-10-31T20:00:00Z", { verifyStatus: "FAILED" }),
      full("q2026-09-30", "2026-09-30T23:00:00Z", { kind: "QUICK" }),
      full("failed2026-08-31", "2026-08-31T22:00:00Z", { status: "FAILED" }),
    );
    const r = planRetention(history, policy({ keepLast: 1, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2 }), NOW, { timeZone: "UTC" });
    expect(keptTable(r)).toEqual({
      "f2026-11-30-pm": ["newest full", "last 1", "daily 2026-11-30", "weekly 2026-W49", "monthly 2026-11", "yearly 2026"],
      "f2026-11-29": ["daily 2026-11-29", "weekly 2026-W48"],
      "f2026-11-28": ["daily 2026-11-28"],
      // 2026-11-27 has no backup: that day keeps nothing, and no older day stands in for it.
      "f2026-11-26": ["daily 2026-11-26"],
      "f2026-11-25": ["daily 2026-11-25"],
      "f2026-11-24": ["daily 2026-11-24"],
      "f2026-11-22": ["weekly 2026-W47"],
      "f2026-11-20": ["newest verified full"],
      "f2026-11-15": ["weekly 2026-W46"],
      "f2026-10-31": ["monthly 2026-10"],
      "f2026-09-30": ["monthly 2026-09"],
      "f2026-08-31": ["monthly 2026-08"],
      "f2026-07-31": ["monthly 2026-07"],
      "f2026-06-30": ["monthly 2026-06"],
      "f2026-05-31": ["monthly 2026-05"],
      "f2026-04-30": ["monthly 2026-04"],
      "f2026-03-28": ["monthly 2026-03"],
      "f2026-02-28": ["monthly 2026-02"],
      "f2026-01-31": ["monthly 2026-01"],
      "f2025-12-31": ["monthly 2025-12", "yearly 2025"],
    });
    expect(r.prune).toHaveLength(history.length - 20);
    expect(r.prune.find((p) => p.id === "f2026-11-23")?.reason).toBe(
      "older than 0 days and not among the newest 1 successful FULL backups; not the newest of a kept day, week, month or year",
    );
    expect(r.prune.map((p) => p.id)).toEqual(expect.arrayContaining(["f2026-11-30", "f2026-11-23", "bad2026-10-31", "q2026-09-30", "failed2026-08-31", "f2025-11-30", "f2025-10-27"]));
  });

  it("gives docs/operations.md's example (Europe/Berlin, nightly)", () => {
    const history: RetentionCandidate[] = [];
    // 01:30Z: 02:30 local in winter, 03:30 in summer; the same local day either way.
    for (let ms = Date.parse("2025-06-01T01:30:00Z"); ms < Date.parse("2026-12-01T00:00:00Z"); ms += DAY) {
      history.push(full(isoDate(ms), new Date(ms).toISOString()));
    }
    const r = planRetention(history, policy({ keepLast: 1, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2 }), new Date("2026-11-30T09:00:00Z"), { timeZone: "Europe/Berlin" });
    const t = keptTable(r);
    expect(Object.keys(t)).toHaveLength(20);
    expect(t["2026-11-30"]).toEqual(["newest full", "last 1", "daily 2026-11-30", "weekly 2026-W49", "monthly 2026-11", "yearly 2026"]);
    expect(t["2026-11-29"]).toEqual(["daily 2026-11-29", "weekly 2026-W48"]);
    expect([t["2026-11-22"], t["2026-11-15"]]).toEqual([["weekly 2026-W47"], ["weekly 2026-W46"]]);
    expect(t["2026-03-31"]).toEqual(["monthly 2026-03"]);
    expect(t["2025-12-31"]).toEqual(["monthly 2025-12", "yearly 2025"]);
  });

  it("counts days, weeks and months in the schedule's time zone", () => {
    // 23:30Z on Sunday 29 November is 00:30 on Monday 30 November in Berlin.
    const late = full("late", "2026-11-29T23:30:00Z");
    const early = full("early", "2026-11-29T10:00:00Z");
    const NOW = new Date("2026-11-30T08:00:00Z");
    const p = policy({ keepDaily: 2, keepWeekly: 2 });
    expect(keptTable(planRetention([late, early], p, NOW, { timeZone: "UTC" }))).toEqual({
      late: ["newest full", "daily 2026-11-29", "weekly 2026-W48"],
    });
    expect(keptTable(planRetention([late, early], p, NOW, { timeZone: "Europe/Berlin" }))).toEqual({
      late: ["newest full", "daily 2026-11-30", "weekly 2026-W49"],
      early: ["daily 2026-11-29", "weekly 2026-W48"],
    });
    // 30 November 20:00 in Los Angeles is already 1 December (UTC): a month still to come there.
    const la = planRetention([full("nov", "2026-12-01T03:00:00Z"), full("oct", "2026-10-31T12:00:00Z")], policy({ keepMonthly: 2 }), new Date("2026-12-01T04:00:00Z"), { timeZone: "America/Los_Angeles" });
    expect(keptTable(la)).toEqual({ nov: ["newest full", "monthly 2026-11"], oct: ["monthly 2026-10"] });
  });

  // Hourly backups across Europe/Berlin's 2026 transitions: Sunday 29 March has 23 hours,
  // Sunday 25 October 25. Each calendar day must keep exactly one backup, its last hour's.
  for (const [name, from, now, days] of [
    ["spring forward (29 March)", "2026-03-25T00:00:00Z", "2026-03-31T09:30:00Z", ["2026-03-31", "2026-03-30", "2026-03-29", "2026-03-28", "2026-03-27"]],
    ["fall back (25 October)", "2026-10-21T00:00:00Z", "2026-10-27T09:30:00Z", ["2026-10-27", "2026-10-26", "2026-10-25", "2026-10-24", "2026-10-23"]],
  ] as const) {
    it(`keeps one backup per Berlin day across ${name}, none skipped, none twice`, () => {
      const history: RetentionCandidate[] = [];
      for (let ms = Date.parse(from); ms <= Date.parse(now); ms += 60 * 60_000) history.push(full(new Date(ms).toISOString(), new Date(ms).toISOString()));
      const r = planRetention(history, policy({ keepDaily: 5 }), new Date(now), { timeZone: "Europe/Berlin" });
      const table = keptTable(r);
      expect(Object.values(table).flat().filter((x) => x.startsWith("daily "))).toEqual(days.map((d) => `daily ${d}`).reverse());
      // The last hour of each earlier day is 23:00 local: 21:00Z in summer time, 22:00Z in winter.
      const kept = Object.keys(table).sort().reverse();
      expect(kept).toHaveLength(5);
      const expectLast = name.startsWith("spring")
        ? ["2026-03-31T09:00:00.000Z", "2026-03-30T21:00:00.000Z", "2026-03-29T21:00:00.000Z", "2026-03-28T22:00:00.000Z", "2026-03-27T22:00:00.000Z"]
        : ["2026-10-27T09:00:00.000Z", "2026-10-26T22:00:00.000Z", "2026-10-25T22:00:00.000Z", "2026-10-24T21:00:00.000Z", "2026-10-23T21:00:00.000Z"];
      expect(kept).toEqual(expectLast);
    });
  }

  it("never prunes a backup being restored or drilled, and says so", () => {
    const NOW = new Date("2026-11-30T12:00:00Z");
    const history = [full("newest", "2026-11-30T02:00:00Z"), full("restoring", "2025-01-01T02:00:00Z"), full("drilled", "2025-02-01T02:00:00Z"), full("old", "2025-03-01T02:00:00Z")];
    const busy = new Map([
      ["restoring", "restoring" as const],
      ["drilled", "drilling" as const],
    ]);
    const r = planRetention(history, policy({}), NOW, { busy });
    expect(keptTable(r)).toEqual({ newest: ["newest full"], restoring: ["restoring"], drilled: ["drilling"] });
    expect(r.prune.map((p) => p.id)).toEqual(["old"]);
  });

  it("keeps the newest verified FULL behind newer unverified ones", () => {
    const NOW = new Date("2026-11-30T12:00:00Z");
    const r = planRetention(
      [full("new", "2026-11-30T02:00:00Z"), full("verified", "2026-11-20T02:00:00Z", { verifyStatus: "PASSED" }), full("older-verified", "2026-11-10T02:00:00Z", { verifyStatus: "PASSED" })],
      policy({}),
      NOW,
    );
    expect(keptTable(r)).toEqual({ new: ["newest full"], verified: ["newest verified full"] });
  });

  it("with every GFS count 0 decides exactly as before (saved settings without the new fields)", () => {
    const NOW = new Date("2026-11-30T12:00:00Z");
    const history = Array.from({ length: 60 }, (_, i) => full(`b${i}`, new Date(NOW.getTime() - i * DAY * 1.5).toISOString()));
    const r = planRetention(history, policy({ days: 30, keepLast: 5 }), NOW, { timeZone: "Europe/Berlin" });
    expect(r.keep.map((k) => k.id)).toEqual(history.filter((_, i) => i * 1.5 < 30).map((b) => b.id));
    expect(r.prune.every((p) => !p.reason.includes("week"))).toBe(true);
  });
});
