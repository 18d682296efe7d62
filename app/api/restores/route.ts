// GET /api/restores — one target's restore history (omitted = `default`), newest first
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { listRestores } from "@/lib/backup/restores-catalog";
import { listRestoresSchema } from "@/lib/validation/restores";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("restores.read", async (req) => json(await listRestores(db(), parseQuery(req, listRestoresSchema))));

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
