// POST /api/restores/:id/undo — {"confirm":"UNDO"}: swap the database kept by a swap restore back in
import { json, parseBody, parseId, withAuth } from "@/lib/http";
import { appContext, undoRestore } from "@/lib/backup";
import { undoRequestSchema } from "@/lib/validation/restores";
import { unhandledMethods } from "@/lib/route-methods";

export const POST = withAuth<{ id: string }>("restores.run", async (req, { params, actor }) => {
  const body = await parseBody(req, undoRequestSchema);
  return json(await undoRestore(appContext(), parseId(params.id), actor, { confirm: body.confirm }), 202);
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
