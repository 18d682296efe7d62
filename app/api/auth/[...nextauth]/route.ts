// next-auth's own routes, with two guards in front:
// - only the endpoints the credentials flow uses are passed on; anything else (a GET of
//   the credentials callback, a POST to csrf…) is answered 404/405 here instead of
//   next-auth's 500;
// - the sign-in throttle answers the 11th failure in 15 minutes with 429 before any
//   password check.
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { authOptions, clientIp } from "@/lib/auth";
import { db } from "@/lib/db";
import { isLoginLimited } from "@/lib/login-limit";
import { errorJson } from "@/lib/http";

type Ctx = { params: Promise<{ nextauth: string[] }> };

const ROUTES: Record<string, readonly string[]> = {
  csrf: ["GET"],
  session: ["GET", "POST"],
  providers: ["GET"],
  signin: ["GET"],
  "signin/credentials": ["POST"],
  "callback/credentials": ["POST"],
  signout: ["GET", "POST"],
  error: ["GET"],
  _log: ["POST"],
};

async function handler(req: NextRequest, ctx: Ctx) {
  const { nextauth } = await ctx.params;
  const route = nextauth.join("/");
  const methods = ROUTES[route];
  if (!methods) return errorJson("NOT_FOUND", "Not found");
  if (!methods.includes(req.method)) {
    return errorJson("METHOD_NOT_ALLOWED", `Use ${methods.join(" or ")}`, { headers: { allow: methods.join(", ") } });
  }
  if (route === "callback/credentials") {
    const form = await req.clone().formData().catch(() => null);
    if (!form) return errorJson("VALIDATION_FAILED", "Send the sign-in form (application/x-www-form-urlencoded)");
    const email = String(form.get("email") ?? "").toLowerCase();
    if (await isLoginLimited(db(), email, clientIp(req.headers))) {
      return errorJson("RATE_LIMITED", "Too many failed sign-ins; try again in 15 minutes", { headers: { "retry-after": "900" } });
    }
  }
  try {
    return await NextAuth(authOptions())(req, ctx);
  } catch {
    return errorJson("VALIDATION_FAILED", "The sign-in request is not valid");
  }
}

export { handler as GET, handler as POST };
