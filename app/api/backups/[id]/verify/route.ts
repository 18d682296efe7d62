// POST /api/backups/:id/verify — re-read, checksum, decrypt and list the stored backup (queued)
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, requestVerify } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("backups.verify", async (_req, { params, actor }) => {
  const id = parseId(params.id);
  await requestVerify(appContext(), id, actor);
  return json({ id, status: "QUEUED" }, 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
