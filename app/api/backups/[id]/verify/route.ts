// POST /api/backups/:id/verify — re-read, checksum, decrypt and list the stored backup (queued)
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, requestVerify } from "@/lib/backup";

export const POST = withAuth<{ id: string }>("backups.verify", async (_req, { params, actor }) => {
  const id = parseId(params.id);
  await requestVerify(appContext(), id, actor);
  return json({ id, status: "QUEUED" }, 202);
});
