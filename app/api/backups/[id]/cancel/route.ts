// POST /api/backups/:id/cancel — cancel a queued or running backup
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, cancelBackup, toBackupDto, getBackupRow } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("backups.cancel", async (_req, { params, actor }) => {
  const ctx = appContext();
  const id = parseId(params.id);
  await cancelBackup(ctx, id, actor);
  return json(toBackupDto(await getBackupRow(ctx.db, id)), 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
