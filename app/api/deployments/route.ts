// GET /api/deployments — one target's deploy history (gate decisions, deploys, rollbacks; omitted = `default`), newest first
// POST /api/deployments — record a deploy of a target done elsewhere (CI)
import { json, parseBody, parseQuery, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { listDeployments, recordDeployment } from "@/lib/deploy";
import { createDeploymentSchema, listDeploymentsSchema } from "@/lib/validation/deploy";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("deployments.read", async (req) => json(await listDeployments(appContext(), parseQuery(req, listDeploymentsSchema))));

export const POST = withAuth("deployments.write", async (req, { principal, actor }) => {
  const input = await parseBody(req, createDeploymentSchema);
  return json(await recordDeployment(appContext(), input, { actor, userId: userIdOf(principal) }), 201);
});

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET, POST });
