// POST /api/deploy/gate — "may I deploy commit X?": 200 {allowed:true, backup, checks} or 428 {allowed:false, reasons, checks}
import { json, parseBody, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { runGate } from "@/lib/deploy";
import { gateRequestSchema } from "@/lib/validation/deploy";

export const dynamic = "force-dynamic";
// waitSeconds may hold the request up to 15 minutes.
export const maxDuration = 960;

export const POST = withAuth("deploy.gate", async (req, { principal, actor }) => {
  const input = await parseBody(req, gateRequestSchema);
  const g = await runGate(appContext(), input, { actor, userId: userIdOf(principal) });
  const body = { allowed: g.allowed, backup: g.backup, checks: g.checks, deploymentId: g.deploymentId, pendingBackupId: g.pendingBackupId };
  if (g.allowed) return json(body, 200);
  // The gate's own contract, plus the shared error shape so generic clients see the code.
  return json({ ...body, reasons: g.reasons, error: { code: "BACKUP_REQUIRED", message: g.reasons.join(" ") } }, 428);
});
