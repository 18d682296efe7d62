// POST /api/rollback — {backupId, confirm:"ROLLBACK"}: database through the restore path (FULL), then the code hook
import { json, parseBody, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { appHooks, startRollback } from "@/lib/deploy";
import { rollbackRequestSchema } from "@/lib/validation/deploy";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth("rollback.run", async (req, { principal, actor }) => {
  const body = await parseBody(req, rollbackRequestSchema);
  const r = await startRollback(appContext(), body, { actor, userId: userIdOf(principal) }, appHooks());
  return json({ deploymentId: r.deploymentId, restoreId: r.restoreId, preRestoreBackupId: r.preRestoreBackupId }, 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
