// POST /api/backups/:id/restore — {"confirm":"RESTORE"}: safety backup, then an all-or-nothing restore
import { json, parseBody, parseId, userIdOf, withAuth } from "@/lib/http";
import { appContext, startRestore } from "@/lib/backup";
import { restoreRequestSchema } from "@/lib/validation/restores";

export const POST = withAuth<{ id: string }>("restores.run", async (req, { params, principal, actor }) => {
  const body = await parseBody(req, restoreRequestSchema);
  const r = await startRestore(appContext(), parseId(params.id), actor, { confirm: body.confirm, ownership: body.ownership, initiatedById: userIdOf(principal) });
  return json(r, 202);
});
