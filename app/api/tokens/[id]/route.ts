// DELETE /api/tokens/:id — revoke a token
import { db } from "@/lib/db";
import { parseId, withAuth } from "@/lib/http";
import { revokeToken } from "@/lib/users";
import { unhandledMethods } from "@/lib/route-methods";

export const DELETE = withAuth<{ id: string }>("tokens.manage", async (_req, { params, actor }) => {
  await revokeToken(db(), parseId(params.id), actor);
  return new Response(null, { status: 204 });
});

export const { GET, HEAD, OPTIONS, POST, PUT, PATCH } = unhandledMethods({ DELETE });
