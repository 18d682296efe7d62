// Display helpers shared by the dashboard. Pure and locale-independent, so the same
// value renders the same on the server, in the browser and in tests. Times are UTC
// throughout: the dashboard's day boundary and the schedule's "02:00" are UTC.

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/**
 * The one byte formatter (UI, emails, webhooks, health, CLI): binary units, because the
 * limits it describes are binary (STORAGE_WARN_BYTES, the 1 MiB deploy log, 64 KiB bodies)
 * and `du -h` shows them so. 1536 → "1.5 KiB"; one decimal below 10 of a unit, none above.
 * `unknown` is what a missing or impossible size reads as.
 */
export function formatBytes(bytes: number | bigint | null | undefined, unknown = "—"): string {
  if (bytes === null || bytes === undefined) return unknown;
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return unknown;
  if (n < 1024) return `${Math.round(n)} B`;
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.96 KiB would round to "1024 KiB"; carry into the next unit instead.
  if (Number(value.toFixed(value < 10 ? 1 : 0)) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value).toString();
  return `${text} ${BYTE_UNITS[unit]}`;
}

/** 0.4 → "<1 s", 12 → "12 s", 125 → "2 min 5 s", 3780 → "1 h 3 min", 90000 → "1 d 1 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  if (seconds < 1) return seconds === 0 ? "0 s" : "<1 s";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/** A span of hours as people say it: 0.3 → "<1 h", 26 → "26 h", 80 → "3 d". */
export function formatHours(hours: number | null | undefined): string {
  if (hours === null || hours === undefined || !Number.isFinite(hours) || hours < 0) return "—";
  if (hours < 1) return "<1 h";
  if (hours < 72) return `${Math.floor(hours)} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** A configured minute count in words: 1 → "minute", 60 → "hour", 90 → "90 minutes", 120 → "2 hours". */
export function formatMinutes(minutes: number): string {
  if (minutes === 1) return "minute";
  if (minutes === 60) return "hour";
  if (minutes % 60 === 0) return `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

/** "1 minute", "5 minutes": a count with its noun. */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

/** "5 min ago", "26 h ago", "3 d ago", "in 4 h"; "just now" within a minute. */
export function formatRelative(value: Date | string | number | null | undefined, now: Date = new Date()): string {
  if (value === null || value === undefined) return "—";
  const t = toDate(value).getTime();
  if (Number.isNaN(t)) return "—";
  const diff = (now.getTime() - t) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return "just now";
  let text: string;
  if (abs < 3600) text = `${Math.floor(abs / 60)} min`;
  else if (abs < 72 * 3600) text = `${Math.floor(abs / 3600)} h`;
  else text = `${Math.floor(abs / 86400)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2025-10-05 02:00 UTC" */
export function formatDateTimeUtc(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** "02:00 UTC" */
export function formatTimeUtc(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

/** "02:00:12 UTC": for phase logs, where seconds matter. */
export function formatClockUtc(value: Date | string | number | null | undefined): string {
  if (value === null || value === undefined) return "—";
  const d = toDate(value);
  if (Number.isNaN(d.getTime())) return "—";
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** "2025-10-05" (UTC) */
export function formatDateUtc(value: Date | string | number): string {
  const d = toDate(value);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/**
 * Ticks for a time axis over [from, to]: UTC midnights counted back from the last one, a week
 * apart over a month, two weeks over a quarter, two days over a fortnight or less. The chart
 * library's own ticks for a time domain labelled only the day that held data.
 */
export function dayTicks(from: number, to: number): number[] {
  const days = (to - from) / DAY_MS;
  const step = (days <= 14 ? 2 : days <= 45 ? 7 : 14) * DAY_MS;
  const ticks: number[] = [];
  for (let t = Math.floor(to / DAY_MS) * DAY_MS; t >= from; t -= step) ticks.unshift(t);
  return ticks;
}

/** The first 8 characters of a backup id: what the delete dialog asks for. */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** The first 12 hex digits of a checksum or commit, enough to tell them apart. */
export function shortHash(hash: string | null | undefined, length = 12): string {
  return hash ? hash.slice(0, length) : "—";
}

/** Seconds between two instants (end defaults to now), never negative. */
export function elapsedSeconds(start: Date | string | null | undefined, end: Date | string | null = null, now = new Date()): number | null {
  if (!start) return null;
  const s = toDate(start).getTime();
  const e = end ? toDate(end).getTime() : now.getTime();
  if (Number.isNaN(s) || Number.isNaN(e)) return null;
  return Math.max(0, (e - s) / 1000);
}

/** Fraction 0..1 of `done` out of an estimated `total`; null when there is no estimate. Capped below 1 while running. */
export function progressFraction(done: number, estimatedTotal: number | null | undefined): number | null {
  if (!estimatedTotal || estimatedTotal <= 0 || !Number.isFinite(done) || done < 0) return null;
  return Math.min(done / estimatedTotal, 0.99);
}

/** An axis's ticks from 0 up, and the decimals that tell them apart. */
export interface AxisTicks {
  /** From 0 to the first round value at or above the largest, evenly spaced. */
  ticks: number[];
  /** Digits after the point that every tick needs (0.25 → 2, 20 → 0). */
  decimals: number;
}

/** Steps of 1, 2, 2.5 and 5 times a power of ten: the ones a reader counts along. */
const NICE_MULTIPLES = [1, 2, 2.5, 5, 10];

/**
 * Round ticks from 0 to cover `max`, at most `most` intervals: 0.27 → 0, 0.1, 0.2, 0.3;
 * 15 → 0, 5, 10, 15. The chart library's own ticks for 0.27 were 0, 0.075, 0.15, 0.225,
 * 0.3, which one decimal printed as "0 0.1 0.1 0.2 0.3". Nothing to show (0, or not a
 * number) is drawn from 0 to 1.
 */
export function niceTicks(max: number, most = 4): AxisTicks {
  const top = Number.isFinite(max) && max > 0 ? max : 1;
  const rough = top / most;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = NICE_MULTIPLES.map((m) => m * power).find((s) => s >= rough * (1 - 1e-9)) ?? 10 * power;
  let decimals = 0;
  while (decimals < 12 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  const count = Math.max(1, Math.ceil(top / step - 1e-9));
  return { ticks: Array.from({ length: count + 1 }, (_, i) => Number((i * step).toFixed(decimals))), decimals };
}

/**
 * The duration axis in one unit, as plain numbers ("0 2 4 6" min): formatDuration's
 * "2 min 5 s" per tick reads badly and crowds the axis. Tooltips keep the full form.
 * `ticks` are in seconds, round in the unit.
 */
export function durationAxis(maxSeconds: number): { unit: "s" | "min" | "h"; ticks: number[]; tick: (seconds: number) => string } {
  const [unit, per] = maxSeconds >= 2 * 3600 ? (["h", 3600] as const) : maxSeconds >= 120 ? (["min", 60] as const) : (["s", 1] as const);
  const { ticks, decimals } = niceTicks(maxSeconds / per);
  return { unit, ticks: ticks.map((t) => t * per), tick: (s) => (s === 0 ? "0" : (s / per).toFixed(decimals)) };
}

/** The size axis in one binary unit (formatBytes's), with round ticks in it: 15 KiB → "0", "5 KiB", "10 KiB", "15 KiB". */
export function bytesAxis(maxBytes: number): { unit: (typeof BYTE_UNITS)[number]; ticks: number[]; tick: (bytes: number) => string } {
  let unit = 0;
  while (unit < BYTE_UNITS.length - 1 && maxBytes >= 1024 ** (unit + 1)) unit++;
  const per = 1024 ** unit;
  // Whole bytes: an axis of bytes alone counts at least to 4.
  const { ticks, decimals } = niceTicks(unit === 0 ? Math.max(maxBytes, 4) : maxBytes / per);
  return { unit: BYTE_UNITS[unit], ticks: ticks.map((t) => t * per), tick: (b) => (b === 0 ? "0" : `${(b / per).toFixed(decimals)} ${BYTE_UNITS[unit]}`) };
}
