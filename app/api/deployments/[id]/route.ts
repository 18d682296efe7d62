// GET /api/deployments/:id — one record, with its full log for OPERATORs and up (polled while RUNNING)
import { can, json, parseId, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { getDeployment } from "@/lib/deploy";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth<{ id: string }>("deployments.read", async (_req, { params, principal }) =>
  json(await getDeployment(appContext(), parseId(params.id), can(principal, "deployments.detail"))),
);

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
