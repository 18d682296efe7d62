// next-auth options (Credentials + JWT sessions) and the one cached way to read the
// session (STYLE.md §5). Route handlers authenticate through lib/http.ts withAuth.
import type { NextAuthOptions } from "next-auth";
import { getServerSession } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { cache } from "react";
import { z } from "zod";
import { db } from "./db";
import { config } from "./config";
import { audit } from "./audit";
import { verifyPassword } from "./passwords";
import { clearLoginFailures, isLoginLimited, recordLoginFailure } from "./login-limit";
import type { RoleName } from "./permissions";

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: RoleName;
}

const credentials = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(1000) });

export function clientIp(headers: Headers | Record<string, string | string[] | undefined>): string {
  const get = (k: string) =>
    headers instanceof Headers ? headers.get(k) : ([] as (string | undefined)[]).concat(headers[k] ?? [])[0];
  return get("x-forwarded-for")?.split(",")[0]?.trim() || get("x-real-ip") || "local";
}

export function authOptions(): NextAuthOptions {
  return {
    secret: config().nextAuthSecret,
    session: { strategy: "jwt", maxAge: 12 * 60 * 60 },
    pages: { signIn: "/login" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(raw, req) {
          const parsed = credentials.safeParse(raw);
          if (!parsed.success) return null;
          const email = parsed.data.email.toLowerCase();
          const ip = clientIp((req?.headers ?? {}) as Record<string, string>);
          const d = db();
          // The route wrapper answers 429 before we get here; this is the second check.
          if (await isLoginLimited(d, email, ip)) return null;
          const user = await d.user.findUnique({ where: { email }, omit: { passwordHash: false } });
          const ok = !!user && !user.disabledAt && (await verifyPassword(parsed.data.password, user.passwordHash));
          if (!ok || !user) {
            await recordLoginFailure(d, email, ip);
            await audit(d, {
              actor: { type: "user", id: user?.id ?? null, label: email },
              action: "auth.sign_in_failed",
              target: email,
              details: { reason: user?.disabledAt ? "disabled" : "bad credentials" },
              ip,
            });
            return null;
          }
          await clearLoginFailures(d, email);
          await d.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
          await audit(d, { actor: { type: "user", id: user.id, label: user.email }, action: "auth.sign_in", target: user.email, ip });
          return { id: user.id, email: user.email, name: user.displayName, role: user.role };
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user }) {
        if (user) token.role = (user as unknown as { role: RoleName }).role;
        return token;
      },
      async session({ session, token }) {
        (session as unknown as { userId: string }).userId = token.sub!;
        return session;
      },
    },
  };
}

/**
 * The signed-in user, re-read from the database so a disabled user or changed role takes
 * effect at once (a JWT alone would keep the old role until it expires). Cached per request.
 */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const session = await getServerSession(authOptions());
  const id = (session as unknown as { userId?: string } | null)?.userId;
  if (!id) return null;
  const user = await db().user.findUnique({ where: { id } });
  if (!user || user.disabledAt) return null;
  return { id: user.id, email: user.email, displayName: user.displayName, role: user.role };
});
