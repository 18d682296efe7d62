// GET /api/health — liveness and readiness; details only for a signed-in caller
import type { NextRequest } from "next/server";
import { health, publicHealth } from "@/lib/health";
import { authenticate, json, withErrors } from "@/lib/http";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (req: NextRequest) => {
  const h = await health();
  const code = h.status === "down" ? 503 : 200;
  return json((await authenticate(req)) ? h : publicHealth(h), code);
});
