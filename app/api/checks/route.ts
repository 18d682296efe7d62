// GET /api/checks?target= — the last check run of a target (default: `default`; manual, gate or post-restore), or null
import { json, parseQuery, withAuth } from "@/lib/http";
import { appContext } from "@/lib/backup";
import { requireTarget, targetRef } from "@/lib/backup/targets";
import { latestCheckRun } from "@/lib/deploy";
import { targetQuerySchema } from "@/lib/validation/targets";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withAuth("checks.read", async (req) => {
  const { target } = parseQuery(req, targetQuerySchema);
  const ctx = appContext();
  // Reading needs no connection: the target's id, not its (decrypted) URL.
  return json({ last: await latestCheckRun({ db: ctx.db, target: targetRef(await requireTarget(ctx.db, target)) }) });
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
