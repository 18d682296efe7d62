// The dashboard's view of targets (DESIGN §8): the GET /api/targets answer as the browser
// reads it, the `?target=` of every page URL, and the overview's size trend. Pure, so the
// same rules hold in the browser and in the unit tests.
import { DEFAULT_TARGET_ID, DEFAULT_TARGET_NAME } from "./validation/targets";
import type { TargetLockWait, TodayState } from "./backup/today";

/** `target` on Backup, Restore and Deployment JSON. */
export interface TargetRefDto {
  id: string;
  name: string;
  environment: string;
}

/** The last successful backup as the overview receives it: a time, or the backup itself. */
export type LastSuccessDto = string | { id?: string; completedAt?: string | null; createdAt?: string } | null;

export interface TargetTodayDto {
  state: TodayState;
  lastSuccess: LastSuccessDto;
  nextRunAt: string | null;
  /** Stored sizes in bytes of the last successful backups, oldest first. */
  sizes: number[];
  /** A running backup and other sessions waiting for each other's locks now (decision 175). */
  locks?: TargetLockWait | null;
}

/** The overview card's line for a backup and a migration waiting for each other. */
export function lockWaitWords(l: TargetLockWait): string[] {
  const out: string[] = [];
  const b = l.blocking;
  if (b) {
    const who = `${b.application ? `"${b.application}"` : "a session"}${b.table ? ` on ${b.table}` : ""}`;
    const more = b.sessions > 1 ? ` and ${b.sessions - 1} more` : "";
    const behind = b.behind > 0 ? `; ${b.behind} ${b.behind === 1 ? "query waits" : "queries wait"} behind` : "";
    out.push(`The backup holds up ${who}${more} for ${b.seconds} s${behind}.`);
  }
  const w = l.waiting;
  if (w) {
    const holder = w.application ? `"${w.application}"${w.pid !== null ? ` (pid ${w.pid})` : ""}` : w.pid !== null ? `pid ${w.pid}` : "another session";
    out.push(`The backup has waited ${w.seconds} s for a lock${w.table ? ` on ${w.table}` : ""} held by ${holder}.`);
  }
  return out;
}

/** One row of GET /api/targets: never a connection URL, only where it points. */
export interface TargetDto extends TargetRefDto {
  host: string;
  database: string;
  isDefault: boolean;
  hasUrl?: boolean;
  settings?: unknown;
  createdAt?: string;
  updatedAt?: string;
  today?: TargetTodayDto;
}

export { DEFAULT_TARGET_NAME };

/** The selected target of a page from its `?target=`; absent or empty means `default`. */
export function selectedTarget(value: string | null | undefined): string {
  const v = value?.trim();
  return v ? v : DEFAULT_TARGET_NAME;
}

/**
 * `href` with the target selected: `default` leaves the URL as it was before targets
 * existed (no param), so today's links and bookmarks stay canonical.
 */
export function withTarget(href: string, target: string | null | undefined): string {
  const [pathAndQuery, hash] = splitOnce(href, "#");
  const [path, query] = splitOnce(pathAndQuery, "?");
  const q = new URLSearchParams(query ?? "");
  const t = selectedTarget(target);
  if (t === DEFAULT_TARGET_NAME) q.delete("target");
  else q.set("target", t);
  const qs = q.toString();
  return `${path}${qs ? `?${qs}` : ""}${hash !== undefined ? `#${hash}` : ""}`;
}

/**
 * Pages where no `?target=` means every target, not `default` (decision 110): the audit
 * log, where events of no target (sign-ins, users, settings) belong too.
 */
const ALL_TARGETS_PAGES = ["/audit"];

export function showsAllTargets(pathname: string): boolean {
  return ALL_TARGETS_PAGES.includes(pathname);
}

/** The `?target=` of an all-targets page: the name or id as typed, undefined for every target. */
export function targetFilter(value: string | null | undefined): string | undefined {
  return value?.trim() || undefined;
}

/** A detail page (/backups/<id>) belongs to one target: switching goes to its list. */
const LIST_PAGES = ["/backups", "/restores", "/deployments", "/checks"];

/**
 * Where the switcher goes when `target` is chosen on `pathname?search`: the same list with
 * its filters (from its first page: another target's page 3 is not this one's); a detail
 * page's list; from the overview, which shows every target, that target's backups.
 */
export function switchTargetHref(pathname: string, search: string, target: string): string {
  if (showsAllTargets(pathname)) {
    // Here `default` is one target among others, so it is named; "" is every target.
    const q = new URLSearchParams(search);
    q.delete("offset");
    if (target) q.set("target", target);
    else q.delete("target");
    return q.size ? `${pathname}?${q}` : pathname;
  }
  const list = LIST_PAGES.find((p) => pathname === p || pathname.startsWith(`${p}/`));
  const path = pathname === "/overview" || pathname === "/" ? "/backups" : (list ?? pathname);
  const q = new URLSearchParams(path === pathname ? search : "");
  q.delete("offset");
  const qs = q.toString();
  return withTarget(qs ? `${path}?${qs}` : path, target);
}

/** The `target` query of an API call: omitted for `default`, so the request is today's. */
export function targetParam(target: string | null | undefined): Record<string, string> {
  const t = selectedTarget(target);
  return t === DEFAULT_TARGET_NAME ? {} : { target: t };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** The time of the last success, whichever form the answer used; null when there is none. */
export function lastSuccessAt(v: LastSuccessDto | undefined): { at: string; id: string | null } | null {
  if (!v) return null;
  if (typeof v === "string") return Number.isNaN(Date.parse(v)) ? null : { at: v, id: null };
  const at = v.completedAt ?? v.createdAt ?? null;
  return at && !Number.isNaN(Date.parse(at)) ? { at, id: v.id ?? null } : null;
}

/**
 * The `target` of a Backup, Restore or Deployment answer. Null when the answer has none
 * (a server from before targets): shown as nothing rather than guessed.
 */
export function targetOf(row: object | null | undefined): TargetRefDto | null {
  const t = (row as { target?: unknown } | null | undefined)?.target;
  if (!t || typeof t !== "object") return null;
  const r = t as Partial<TargetRefDto>;
  if (typeof r.id !== "string" || typeof r.name !== "string") return null;
  return { id: r.id, name: r.name, environment: typeof r.environment === "string" ? r.environment : "" };
}

/**
 * The target a row belongs to for a confirmation: its own, or `default` when the answer
 * has none (every row written before targets is the default target's).
 */
export function targetOrDefault(row: object | null | undefined): TargetRefDto {
  return targetOf(row) ?? { id: DEFAULT_TARGET_ID, name: DEFAULT_TARGET_NAME, environment: "" };
}

/** What to call a target in a sentence: "shop-prod (prod)"; `default` alone stays "default". */
export function targetLabel(t: Pick<TargetRefDto, "name" | "environment">): string {
  return t.environment ? `${t.name} (${t.environment})` : t.name;
}

/**
 * The sparkline of a size trend as SVG points in a `width` × `height` box: oldest left,
 * newest right, the smallest size at the bottom. One size is a flat line across; equal
 * sizes are a flat line in the middle (no change is not "shrank to nothing").
 */
export function sparklinePoints(sizes: readonly number[], width: number, height: number, pad = 2): { x: number; y: number }[] {
  const values = sizes.filter((n) => Number.isFinite(n) && n >= 0);
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  const inner = height - 2 * pad;
  const y = (n: number) => (max === min ? height / 2 : pad + inner - ((n - min) / (max - min)) * inner);
  if (values.length === 1) return [{ x: pad, y: y(values[0]) }, { x: width - pad, y: y(values[0]) }];
  const step = (width - 2 * pad) / (values.length - 1);
  return values.map((n, i) => ({ x: round(pad + i * step), y: round(y(n)) }));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Newest against oldest of a trend, as a signed fraction (0.12 = grew 12 %); null below two sizes. */
export function sizeChange(sizes: readonly number[]): number | null {
  const values = sizes.filter((n) => Number.isFinite(n) && n >= 0);
  if (values.length < 2 || values[0] === 0) return null;
  return (values[values.length - 1] - values[0]) / values[0];
}
