// POST /api/checks/run {target?} — run schema drift, integrity rules and file sync of a target now (default: `default`); stored and audited
import { json, parseBody, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { contextForTargetId } from "@/lib/backup/targets";
import { runAndStoreChecks } from "@/lib/deploy";
import { targetBodySchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth("checks.run", async (req, { actor }) => {
  const { target } = await parseBody(req, targetBodySchema);
  return json({ last: await runAndStoreChecks(await contextForTargetId(appContext(), target), "manual", actor) });
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
