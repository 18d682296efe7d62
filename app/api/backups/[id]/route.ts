// GET /api/backups/:id — one backup with its manifest (404 with its tombstone once removed) · DELETE — remove it (objects, then row)
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, backupDetail, deleteBackup } from "@/lib/backup";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("backups.read", async (_req, { params, requestId }) =>
  json(await backupDetail(appContext(), parseId(params.id), requestId)),
);

export const DELETE = withAuth<{ id: string }>("backups.delete", async (_req, { params, actor }) => {
  await deleteBackup(appContext(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});
