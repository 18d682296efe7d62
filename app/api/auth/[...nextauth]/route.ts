// next-auth's own routes, with the sign-in throttle in front of the credentials callback
// so that the 11th failure in 15 minutes is answered 429, not another password check.
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { authOptions, clientIp } from "@/lib/auth";
import { db } from "@/lib/db";
import { isLoginLimited } from "@/lib/login-limit";
import { json } from "@/lib/http";

type Ctx = { params: Promise<{ nextauth: string[] }> };

async function handler(req: NextRequest, ctx: Ctx) {
  const { nextauth } = await ctx.params;
  if (req.method === "POST" && nextauth.join("/") === "callback/credentials") {
    const form = await req.clone().formData().catch(() => null);
    const email = String(form?.get("email") ?? "").toLowerCase();
    if (await isLoginLimited(db(), email, clientIp(req.headers))) {
      return json(
        { error: { code: "RATE_LIMITED", message: "Too many failed sign-ins; try again in 15 minutes" } },
        { status: 429, headers: { "retry-after": "900" } },
      );
    }
  }
  return NextAuth(authOptions())(req, ctx);
}

export { handler as GET, handler as POST };
