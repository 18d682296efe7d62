// next-auth's own routes, with guards in front:
// - only the endpoints the credentials flow and, when configured, single sign-on use are
//   passed on; anything else (a GET of the credentials callback, a POST to csrf…) is
//   answered 404/405 here instead of next-auth's 500;
// - with LOCAL_LOGIN=false the password endpoints answer 403;
// - the sign-in form is read up to 64 KiB, never whole;
// - every sign-in attempt is recorded before it is counted, and past the limit (per email,
//   per client IP — lib/client-ip.ts) answered 429 before any password check;
// - a form with a NUL (U+0000) anywhere is answered 400 before anything is recorded:
//   PostgreSQL cannot store it, and the attempt's row would fail with a 500 (decision 205).
import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { authOptions, clientIp } from "@/lib/auth";
import { db } from "@/lib/db";
import { recordLoginAttempt } from "@/lib/login-limit";
import { errorJson, errorResponse, readBodyText } from "@/lib/http";
import { randomUUID } from "node:crypto";
import { config } from "@/lib/config";
import { oidcSettings } from "@/lib/oidc-config";
import { OIDC_PROVIDER_ID } from "@/lib/oidc-provider";
import { NUL_MESSAGE, nulParam } from "@/lib/nul-text";
import { unhandledMethods } from "@/lib/route-methods";

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
const PASSWORD_ROUTES = new Set(["signin/credentials", "callback/credentials"]);
// The provider sends the browser back with a GET (response_mode=query, the default).
const SSO_ROUTES: Record<string, readonly string[]> = {
  [`signin/${OIDC_PROVIDER_ID}`]: ["POST"],
  [`callback/${OIDC_PROVIDER_ID}`]: ["GET"],
};

async function handler(req: NextRequest, ctx: Ctx) {
  const { nextauth } = await ctx.params;
  const route = nextauth.join("/");
  const cfg = config();
  const methods = ROUTES[route] ?? (oidcSettings(cfg) ? SSO_ROUTES[route] : undefined);
  if (!methods) return errorJson("NOT_FOUND", "Not found");
  if (!cfg.LOCAL_LOGIN && PASSWORD_ROUTES.has(route)) {
    return errorJson("FORBIDDEN", "Password sign-in is switched off here (LOCAL_LOGIN=false); use single sign-on");
  }
  if (!methods.includes(req.method)) {
    return errorJson("METHOD_NOT_ALLOWED", `Use ${methods.join(" or ")}`, { headers: { allow: methods.join(", ") } });
  }
  let forward: NextRequest = req;
  if (req.method === "POST") {
    let text: string;
    try {
      text = await readBodyText(req);
    } catch (e) {
      return errorResponse(e, randomUUID());
    }
    const field = nulParam(new URLSearchParams(text));
    if (field !== null) {
      return errorJson("VALIDATION_FAILED", `The form field "${field}" ${NUL_MESSAGE}`, { details: { fields: [{ path: field, message: NUL_MESSAGE }] } });
    }
    forward = new NextRequest(req.url, { method: req.method, headers: req.headers, body: text });
    if (route === "callback/credentials") {
      const type = req.headers.get("content-type") ?? "";
      if (!type.includes("application/x-www-form-urlencoded")) {
        return errorJson("VALIDATION_FAILED", "Send the sign-in form (application/x-www-form-urlencoded)");
      }
      const email = String(new URLSearchParams(text).get("email") ?? "").toLowerCase().slice(0, 320);
      const attempt = await recordLoginAttempt(db(), email, clientIp(req.headers));
      if (attempt.limited) {
        return errorJson("RATE_LIMITED", "Too many sign-in attempts; try again later", { headers: { "retry-after": String(attempt.retryAfterSeconds) } });
      }
    }
  }
  try {
    return await NextAuth(authOptions({ ip: clientIp(req.headers) }))(forward, ctx);
  } catch {
    return errorJson("VALIDATION_FAILED", "The sign-in request is not valid");
  }
}

export { handler as GET, handler as POST };

export const { OPTIONS, PUT, DELETE, PATCH } = unhandledMethods({ GET: handler, POST: handler });
