// POST /api/restores/:id/keep — {"hours": n}: keep the database a restore keeps beside the live
// one (a copy, or a swap's previous database) until n hours from now, not dropped at its keepUntil
import { json, parseBody, parseId, withAuth } from "@/lib/http";
import { appContext, keepKeptDatabaseLonger } from "@/lib/backup";
import { keepLongerRequestSchema } from "@/lib/validation/restores";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("restores.run", async (req, { params, actor }) => {
  const body = await parseBody(req, keepLongerRequestSchema);
  return json(await keepKeptDatabaseLonger(appContext(), parseId(params.id), actor, { hours: body.hours }));
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
