// GET /api/today — did today's (UTC) backup run: the /backups banner
import { db } from "@/lib/db";
import { json, withAuth } from "@/lib/http";
import { getToday } from "@/lib/backup/today";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async () => json(await getToday(db())));
