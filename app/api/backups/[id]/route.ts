// GET /api/backups/:id — one backup with its manifest · DELETE — remove it (objects, then row)
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, deleteBackup, getBackupRow, readManifest, toBackupDto } from "@/lib/backup";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("backups.read", async (_req, { params }) => {
  const ctx = appContext();
  const row = await getBackupRow(ctx.db, parseId(params.id));
  const manifest = row.status === "SUCCEEDED" ? await readManifest(ctx, row).catch((e: Error) => ({ error: e.message })) : null;
  return json({ ...toBackupDto(row), manifest, metadata: row.metadata });
});

export const DELETE = withAuth<{ id: string }>("backups.delete", async (_req, { params, actor }) => {
  await deleteBackup(appContext(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});
