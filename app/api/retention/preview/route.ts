// GET /api/retention/preview?target= — what a target's saved (or a proposed) retention policy keeps and prunes now
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { retentionPreviewQuerySchema } from "@/lib/validation/retention";
import { previewRetention } from "@/lib/backup";
import { requireTarget } from "@/lib/backup/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

// Ids, dates and sizes of backups, as the backup list shows them: whoever may read that list.
export const GET = withAuth("backups.read", async (req) => {
  const { limit, target, ...proposed } = parseQuery(req, retentionPreviewQuerySchema);
  const { id: targetId } = await requireTarget(db(), target);
  return json(await previewRetention(db(), { proposed, limit, targetId }));
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
