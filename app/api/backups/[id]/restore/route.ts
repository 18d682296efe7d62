// POST /api/backups/:id/restore — {"confirm":"RESTORE"}: safety backup, then an all-or-nothing restore;
// with "into": "copy", a restore into a database beside the live one, which is not touched
import { json, parseBody, parseId, userIdOf, withAuth } from "@/lib/http";
import { appContext, startCopyRestore, startRestore } from "@/lib/backup";
import { restoreRequestSchema } from "@/lib/validation/restores";
import { config } from "@/lib/config";
import { ApiError } from "@/lib/errors";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("restores.run", async (req, { params, principal, actor }) => {
  const body = await parseBody(req, restoreRequestSchema);
  // A supplied private key lives in this process's memory only: the worker must run here to use it.
  if (body.decryptionKey && !config().WORKER_IN_WEB) {
    throw new ApiError("CONFLICT", "A private key can be supplied only when the worker runs in the web process (WORKER_IN_WEB); on a separate worker set BACKUP_ENCRYPTION_PRIVATE_KEY instead");
  }
  const request = { confirm: body.confirm, ownership: body.ownership, createRoles: body.createRoles, tablespaces: body.tablespaces, endBlockingSessions: body.endBlockingSessions, initiatedById: userIdOf(principal), privateKey: body.decryptionKey };
  // Into a copy beside the live database (decision 169), or over it.
  const r = body.into === "copy" ? await startCopyRestore(appContext(), parseId(params.id), actor, request) : await startRestore(appContext(), parseId(params.id), actor, request);
  return json(r, 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
