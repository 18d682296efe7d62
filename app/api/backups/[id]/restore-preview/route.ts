// GET /api/backups/:id/restore-preview — what a restore would change, verified first
import { json, parseId, withAuth } from "@/lib/http";
import { appContext, previewRestore } from "@/lib/backup";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("restores.run", async (_req, { params }) => {
  const { manifest: _manifest, ...preview } = await previewRestore(appContext(), parseId(params.id));
  return json(preview);
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
