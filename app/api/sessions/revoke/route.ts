// POST /api/sessions/revoke — sign the caller out everywhere (every session issued until now)
import { db } from "@/lib/db";
import { parseBody, userIdOf, withAuth } from "@/lib/http";
import { endAllSessions } from "@/lib/users";
import { endSessionsSchema } from "@/lib/validation/users";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const POST = withAuth("sessions.revoke", async (req, { principal, actor }) => {
  await parseBody(req, endSessionsSchema);
  await endAllSessions(db(), userIdOf(principal), actor);
  return new Response(null, { status: 204 });
});

export const { GET, HEAD, OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ POST });
