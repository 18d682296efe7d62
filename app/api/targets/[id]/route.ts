// GET /api/targets/:id (id or name) — one target · PATCH — change it (ADMIN, audited) · DELETE — remove it, ?force=true with its backups (ADMIN, audited)
import { appContext } from "@/lib/backup";
import { deleteTarget, getTargetView, updateTarget } from "@/lib/backup/targets-admin";
import { json, parseBody, parseQuery, withAuth } from "@/lib/http";
import { deleteTargetQuerySchema, targetSelectorSchema, updateTargetSchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("targets.read", async (_req, { params }) => json(await getTargetView(appContext(), targetSelectorSchema.parse(params.id))));

export const PATCH = withAuth<{ id: string }>("targets.write", async (req, { params, actor }) =>
  json(await updateTarget(appContext(), targetSelectorSchema.parse(params.id), await parseBody(req, updateTargetSchema), actor)),
);

export const DELETE = withAuth<{ id: string }>("targets.write", async (req, { params, actor }) => {
  const { force } = parseQuery(req, deleteTargetQuerySchema);
  await deleteTarget(appContext(), targetSelectorSchema.parse(params.id), { force }, actor);
  return new Response(null, { status: 204 });
});

export const { OPTIONS, POST, PUT } = unhandledMethods({ GET, DELETE, PATCH });
