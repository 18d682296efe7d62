// POST /api/backups/:id/drill — restore into a scratch database, compare rows and checksums, time the recovery (queued)
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, requestDrill } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("backups.verify", async (_req, { params, actor }) => {
  const id = parseId(params.id);
  await requestDrill(appContext(), id, actor);
  return json({ id, status: "QUEUED" }, 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
