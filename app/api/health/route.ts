// GET /api/health — liveness and readiness; details only for a signed-in caller
import type { NextRequest } from "next/server";
import { health } from "@/lib/health";
import { json, withErrors } from "@/lib/http";
import { getSessionUser } from "@/lib/auth";
import { findToken } from "@/lib/tokens";
import { db } from "@/lib/db";

export const dynamic = "force-dynamic";

export const GET = withErrors(async (req: NextRequest) => {
  const h = await health();
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
  const signedIn = bearer ? !!(await findToken(db(), bearer)) : !!(await getSessionUser());
  const code = h.status === "down" ? 503 : 200;
  if (signedIn) return json(h, code);
  // Anonymous callers (load balancers) learn only the state and which checks failed.
  const failing = Object.entries(h.checks)
    .filter(([, c]) => c.status !== "ok")
    .map(([n]) => n);
  return json({ status: h.status, checks: Object.fromEntries(Object.keys(h.checks).map((n) => [n, failing.includes(n) ? "failing" : "ok"])) }, code);
});
