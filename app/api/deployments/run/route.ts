// POST /api/deployments/run — gate, then DEPLOY_COMMAND / DEPLOY_WEBHOOK_URL with the commit
import { json, parseBody, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { appHooks, gateResponse, startDeploy } from "@/lib/deploy";
import { runDeploySchema } from "@/lib/validation/deploy";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth("deployments.write", async (req, { principal, actor }) => {
  const input = await parseBody(req, runDeploySchema);
  const r = await startDeploy(appContext(), input, { actor, userId: userIdOf(principal) }, appHooks());
  const g = r.gate;
  if (!g.allowed) {
    const blocked = gateResponse(g);
    return json(blocked.body, blocked.status);
  }
  return json({ allowed: true, deploymentId: g.deploymentId, hook: r.hook, running: !!r.done, backup: g.backup, checks: g.checks }, r.done ? 202 : 200);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
