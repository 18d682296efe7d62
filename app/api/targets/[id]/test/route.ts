// POST /api/targets/:id/test — test a stored target's connection and privileges (audited)
import { appContext } from "@/lib/backup";
import { testStoredTarget } from "@/lib/backup/targets-admin";
import { json, withAuth } from "@/lib/http";
import { targetSelectorSchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth<{ id: string }>("targets.test", async (_req, { params, actor }) => json(await testStoredTarget(appContext(), targetSelectorSchema.parse(params.id), actor)));

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
