// GET /api/restores/:id — one restore with its preview and check results
import { db } from "@/lib/db";
import { json, parseId, withAuth } from "@/lib/http";
import { getRestore } from "@/lib/backup/restores-catalog";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("restores.read", async (_req, { params }) => json(await getRestore(db(), parseId(params.id))));

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
