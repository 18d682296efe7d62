// GET /api/today — did today's (UTC) backup of a target (omitted = `default`) run: the /backups banner
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { getToday } from "@/lib/backup/today";
import { targetQuerySchema } from "@/lib/validation/backups";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async (req) => json(await getToday(db(), new Date(), parseQuery(req, targetQuerySchema).target)));
