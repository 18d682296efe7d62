// The shared reads of GET /api/today (decision 104). The key is everything the answer
// depends on: the caller's role and the `target` as sent (omitted and "default" are kept
// apart: they give the same answer, but the key does not have to know that).
import { createFreshShared } from "./fresh-shared";
import type { TodaySummary } from "./backup/today";
import type { RoleName } from "./permissions";

export const todayShared = createFreshShared<TodaySummary>();

export function todayKey(role: RoleName, target: string | undefined): string {
  return JSON.stringify([role, target ?? null]);
}
