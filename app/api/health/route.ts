// GET /api/health — liveness and readiness; details only for a signed-in caller
import type { NextRequest } from "next/server";
import { health, publicHealth } from "@/lib/health";
import { authenticate, json, withErrors } from "@/lib/http";
import { unhandledMethods } from "@/lib/route-methods";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (req: NextRequest) => {
  // Side by side: neither waits for the other (a bearer caller's token lookup is a statement too).
  const [h, principal] = await Promise.all([health(), authenticate(req)]);
  const code = h.status === "down" ? 503 : 200;
  return json(principal ? h : publicHealth(h), code);
});

export const { OPTIONS, POST, PUT, DELETE, PATCH } = unhandledMethods({ GET });
