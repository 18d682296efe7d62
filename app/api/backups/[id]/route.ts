// GET /api/backups/:id — one backup with its manifest (404 with its tombstone once removed) · DELETE — remove it (objects, then row)
import { can, json, parseId, withAuth } from "@/lib/http";
import { appContext, backupDetail, deleteBackup } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

// The key id only for those who may take the archive (lib/backup/detail.ts).
export const GET = withAuth<{ id: string }>("backups.read", async (_req, { params, requestId, principal }) =>
  json(await backupDetail(appContext(), parseId(params.id), requestId, can(principal, "backups.download"))),
);

export const DELETE = withAuth<{ id: string }>("backups.delete", async (_req, { params, actor }) => {
  await deleteBackup(appContext(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});

export const { OPTIONS, POST, PUT, PATCH } = unhandledMethods({ GET, DELETE });
