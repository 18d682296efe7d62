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
 * Instants → local calendar dates for one time zone. Intl is slow (tens of microseconds
 * per call), so the zone's UTC offset is looked up per UTC day, then per UTC hour: when
 * the offset at both ends of a span is the same, every instant in it has that offset
 * (no zone changes its offset twice in a day); an hour holding a transition is
 * converted instant by instant.
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

  /** The offset for the whole span [start, start + length), or null when it changes inside. */
  private spanOffset(key: number, start: number, length: number): number | null {
    let o = this.offsets.get(key);
    if (o === undefined) {
      const first = this.exactOffset(start);
      o = first === this.exactOffset(start + length - 1000) ? first : null;
      this.offsets.set(key, o);
    }
    return o;
  }

  /** The local calendar date of an instant, as a day number. */
  day(at: Date): DayNumber {
    const ms = at.getTime();
    const d = Math.floor(ms / DAY_MS);
    // Day keys are even, hour keys odd: one map for both.
    let offset = this.spanOffset(2 * d, d * DAY_MS, DAY_MS);
    if (offset === null) {
      const h = Math.floor(ms / HOUR_MS);
      offset = this.spanOffset(2 * h + 1, h * HOUR_MS, HOUR_MS) ?? this.exactOffset(ms);
    }
    return Math.floor((ms + offset) / DAY_MS);
  }
}

/** The calendar date of a day number, without a Date (H. Hinnant's civil_from_days). */
export function civil(day: DayNumber): { year: number; month: number; date: number } {
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, date: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
export function isoWeekday(day: DayNumber): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** ISO 8601 week-numbering year and week of a date (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(day: DayNumber): { year: number; week: number } {
  const thursday = day - isoWeekday(day) + 3;
  const year = civil(thursday).year;
  const jan1 = Math.floor(Date.UTC(year, 0, 1) / DAY_MS);
  return { year, week: Math.floor((thursday - jan1) / 7) + 1 };
}

/** Which period of `unit` a date falls in, as an index that grows by one per period ("the last N" is a range). */
export function periodIndex(unit: PeriodUnit, day: DayNumber): number {
  switch (unit) {
    case "daily":
      return day;
    case "weekly":
      // Mondays are 7 days apart, so (Monday's day number) / 7, rounded down, counts weeks.
      return Math.floor((day - isoWeekday(day)) / 7);
    case "monthly": {
      const { year, month } = civil(day);
      return year * 12 + month - 1;
    }
    case "yearly":
      return civil(day).year;
  }
}

/** The period's stable label: "2026-11-30", "2026-W48" (ISO week-numbering year), "2026-11", "2026". */
export function periodLabel(unit: PeriodUnit, day: DayNumber): string {
  const { year, month, date } = civil(day);
  switch (unit) {
    case "daily":
      return `${year}-${pad(month)}-${pad(date)}`;
    case "weekly": {
      const w = isoWeek(day);
      return `${w.year}-W${pad(w.week)}`;
    }
    case "monthly":
      return `${year}-${pad(month)}`;
    case "yearly":
      return String(year);
  }
}
