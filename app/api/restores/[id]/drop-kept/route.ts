// POST /api/restores/:id/drop-kept — {"confirm":"DROP"}: drop the database a restore keeps beside
// the live one (a copy, or a swap's previous database) now, not at its keepUntil
import { json, parseBody, parseId, withAuth } from "@/lib/http";
import { appContext, dropKeptDatabase } from "@/lib/backup";
import { dropKeptRequestSchema } from "@/lib/validation/restores";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("restores.run", async (req, { params, actor }) => {
  const body = await parseBody(req, dropKeptRequestSchema);
  return json(await dropKeptDatabase(appContext(), parseId(params.id), actor, { confirm: body.confirm }));
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
