// GET /api/backups — the backup history, newest first, filtered and paginated
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { listBackupsSchema } from "@/lib/validation/backups";
import { listBackups } from "@/lib/backup/catalog";

export const dynamic = "force-dynamic";

export const GET = withAuth("backups.read", async (req) => json(await listBackups(db(), parseQuery(req, listBackupsSchema))));
