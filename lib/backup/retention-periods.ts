// Calendar periods for GFS retention ("the newest FULL of each of the last N days, ISO
// weeks, months, years"), in the schedule's time zone. An instant becomes a local
// calendar date once (the platform's IANA database through Intl); everything after that
// is arithmetic on calendar dates, which have no daylight saving time, so a 23- or
// 25-hour day is still exactly one day and no day is counted twice or skipped.

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export type PeriodUnit = "daily" | "weekly" | "monthly" | "yearly";
export const PERIOD_UNITS: readonly PeriodUnit[] = ["daily", "weekly", "monthly", "yearly"];

/** A local calendar date as a day number: days since 1970-01-01 (the date, not an instant). */
export type DayNumber = number;

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * Instants → local calendar dates for one time zone. Intl is slow (microseconds per call),
 * so the zone's UTC offset is looked up once per UTC hour: when the offset at both ends
 * of the hour is the same, every instant in it has that offset; an hour holding a
 * transition is converted instant by instant.
 */
export class LocalCalendar {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number | null>();

  constructor(readonly timeZone: string) {
    this.fmt = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** Local wall-clock time minus UTC, in ms, at `ms` (whole seconds; Intl drops the rest). */
  private exactOffset(ms: number): number {
    const p: Record<string, number> = {};
    for (const part of this.fmt.formatToParts(new Date(ms))) if (part.type !== "literal") p[part.type] = Number(part.value);
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return wall - (ms - (((ms % 1000) + 1000) % 1000));
  }

  private hourOffset(hour: number): number | null {
    let o = this.offsets.get(hour);
    if (o === undefined) {
      const start = this.exactOffset(hour * HOUR_MS);
      o = start === this.exactOffset((hour + 1) * HOUR_MS - 1000) ? start : null;
      this.offsets.set(hour, o);
    }
    return o;
  }

  /** The local calendar date of an instant, as a day number. */
  day(at: Date): DayNumber {
    const ms = at.getTime();
    const offset = this.hourOffset(Math.floor(ms / HOUR_MS)) ?? this.exactOffset(ms);
    return Math.floor((ms + offset) / DAY_MS);
  }
}

function ymd(day: DayNumber): { year: number; month: number; date: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate() };
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekday(day: DayNumber): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** ISO 8601 week-numbering year and week of a date (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(day: DayNumber): { year: number; week: number } {
  const thursday = day - isoWeekday(day) + 3;
  const year = ymd(thursday).year;
  const jan1 = Math.floor(Date.UTC(year, 0, 1) / DAY_MS);
  return { year, week: Math.floor((thursday - jan1) / 7) + 1 };
}

/**
 * Which period of `unit` a date falls in: an index that grows by one per period (so
 * "the last N periods" is a range of indexes) and its stable label.
 */
export function periodOf(unit: PeriodUnit, day: DayNumber): { index: number; label: string } {
  const { year, month, date } = ymd(day);
  switch (unit) {
    case "daily":
      return { index: day, label: `${year}-${pad(month)}-${pad(date)}` };
    case "weekly": {
      const w = isoWeek(day);
      // Mondays are 7 days apart, so (Monday's day number) / 7, rounded down, counts weeks.
      return { index: Math.floor((day - isoWeekday(day)) / 7), label: `${w.year}-W${pad(w.week)}` };
    }
    case "monthly":
      return { index: year * 12 + month - 1, label: `${year}-${pad(month)}` };
    case "yearly":
      return { index: year, label: String(year) };
  }
}
