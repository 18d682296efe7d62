// GET /api/deployments — deploy history (gate decisions, deploys, rollbacks), newest first
// POST /api/deployments — record a deploy done elsewhere (CI)
import { json, paginationSchema, parseBody, parseQuery, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { listDeployments, recordDeployment } from "@/lib/deploy";
import { createDeploymentSchema } from "@/lib/validation/deploy";

export const dynamic = "force-dynamic";

export const GET = withAuth("deployments.read", async (req) => json(await listDeployments(appContext(), parseQuery(req, paginationSchema))));

export const POST = withAuth("deployments.write", async (req, { principal, actor }) => {
  const input = await parseBody(req, createDeploymentSchema);
  return json(await recordDeployment(appContext(), input, { actor, userId: userIdOf(principal) }), 201);
});
