// GET /api/targets — every target with its today (never a connection URL) · POST — add one after testing its connection (ADMIN, audited)
import { appContext } from "@/lib/backup";
import { createTarget, listTargets } from "@/lib/backup/targets-admin";
import { json, parseBody, withAuth } from "@/lib/http";
import { createTargetSchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("targets.read", async () => json({ targets: await listTargets(appContext()) }));

export const POST = withAuth("targets.write", async (req, { actor }) => json(await createTarget(appContext(), await parseBody(req, createTargetSchema), actor), 201));

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
