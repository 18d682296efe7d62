// POST /api/deploy/gate — "may I deploy commit X?" about one target (omitted = `default`): 200 {allowed:true, backup, checks} or 428 {allowed:false, reasons, checks}
import { json, parseBody, userIdOf, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { gateResponse, runGate } from "@/lib/deploy";
import { gateRequestSchema } from "@/lib/validation/deploy";
import { announceGateDecision } from "@/lib/notify/announce";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";
// waitSeconds may hold the request up to 15 minutes.
export const maxDuration = 960;

export const POST = withAuth("deploy.gate", async (req, { principal, actor }) => {
  const input = await parseBody(req, gateRequestSchema);
  const gate = await runGate(appContext(), input, { actor, userId: userIdOf(principal) });
  void announceGateDecision(appContext(), gate, input.commitSha, actor.label ?? null);
  const r = gateResponse(gate);
  return json(r.body, r.status);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
