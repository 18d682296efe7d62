// GET /api/restores — restore history, newest first
import { db } from "@/lib/db";
import { json, paginationSchema, parseQuery, withAuth } from "@/lib/http";
import { listRestores } from "@/lib/backup/restores-catalog";

export const dynamic = "force-dynamic";

export const GET = withAuth("restores.read", async (req) => json(await listRestores(db(), parseQuery(req, paginationSchema))));
