// GET /api/retention/preview — what the saved (or a proposed) retention policy keeps and prunes now
import { db } from "@/lib/db";
import { json, parseQuery, withAuth } from "@/lib/http";
import { retentionPreviewQuerySchema } from "@/lib/validation/retention";
import { previewRetention } from "@/lib/backup";

export const dynamic = "force-dynamic";

// Ids, dates and sizes of backups, as the backup list shows them: whoever may read that list.
export const GET = withAuth("backups.read", async (req) => {
  const { limit, ...proposed } = parseQuery(req, retentionPreviewQuerySchema);
  return json(await previewRetention(db(), { proposed, limit }));
});
