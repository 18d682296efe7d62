// GET /api/today — did today's (UTC) backup of a target (omitted = `default`) run: the /backups banner
import { db } from "@/lib/db";
import { json, parseQuery, roleOf, withAuth } from "@/lib/http";
import { getToday } from "@/lib/backup/today";
import { targetQuerySchema } from "@/lib/validation/backups";
import { todayShared, todayKey } from "@/lib/today-shared";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

// Every open dashboard polls this: requests that arrive together share one read, never an
// older one (lib/fresh-shared.ts, decision 104).
export const GET = withAuth("backups.read", async (req, { principal }) => {
  const { target } = parseQuery(req, targetQuerySchema);
  return json(await todayShared.get(todayKey(roleOf(principal), target), () => getToday(db(), new Date(), target)));
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
