// GET /api/deploy/state — one target's gate as it stands (read-only), newest backup, hooks, running deploy
import { json, parseQuery, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { appHooks, deployState } from "@/lib/deploy";
import { gatePreviewQuerySchema } from "@/lib/validation/deploy";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("deployments.read", async (req) => {
  const q = parseQuery(req, gatePreviewQuerySchema);
  return json(await deployState(appContext(), appHooks(), q));
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
