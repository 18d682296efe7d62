// next-auth options (password sign-in unless LOCAL_LOGIN=false, single sign-on when OIDC_*
// is set; JWT sessions) and the one cached way to read the session (STYLE.md §5). Route
// handlers authenticate through lib/http.ts withAuth.
import type { NextAuthOptions } from "next-auth";
import { getServerSession } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { cache } from "react";
import { z } from "zod";
import { db } from "./db";
import { config } from "./config";
import { audit } from "./audit";
import { hashPassword, verifyPassword } from "./passwords";
import { clearLoginFailures } from "./login-limit";
import { PEER_HEADER, resolveClientIp } from "./client-ip";
import { PEER_HEADER_ENV } from "./http-server";
import { SESSION_IDLE_SECONDS, sessionProblem } from "./session-policy";
import type { RoleName } from "./permissions";
import { oidcSettings } from "./oidc-config";
import { OIDC_PROVIDER_ID, oidcProvider } from "./oidc-provider";
import { ssoSignIn } from "./oidc-sign-in";
import { componentLogger } from "./log";

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: RoleName;
}

export const credentialsSchema = z.object({ email: z.string().email().max(320), password: z.string().min(1).max(1000) });

/** The client's address: the TCP peer, or what TRUST_PROXY's proxies say (lib/client-ip.ts). */
export function clientIp(headers: Headers | Record<string, string | string[] | undefined>): string {
  const get = (k: string) =>
    headers instanceof Headers ? headers.get(k) : ([] as (string | undefined)[]).concat(headers[k] ?? [])[0];
  // Only our server (lib/http-server.ts) sets the peer header; elsewhere a client could.
  const peer = process.env[PEER_HEADER_ENV] === "1" ? get(PEER_HEADER) : null;
  return resolveClientIp(peer, get("x-forwarded-for"), config().trustProxy);
}

// Unknown emails cost one bcrypt comparison too, so timing does not tell which exist.
let dummyHash: Promise<string> | undefined;
const unknownUserHash = () => (dummyHash ??= hashPassword("vaultline: no such user"));

// next-auth's own log lines carry the error objects of openid-client, which may hold the
// ID token itself: only the code and the message reach our log.
const authLog = componentLogger("auth");
const nextAuthLogger: NextAuthOptions["logger"] = {
  error(code, meta) {
    const m = meta as { message?: unknown; error?: { message?: unknown } } | undefined;
    authLog.warn({ code, message: String(m?.error?.message ?? m?.message ?? "") }, "next-auth error");
  },
  warn(code) {
    authLog.warn({ code }, "next-auth warning");
  },
  debug() {},
};

/** `ip`: the client's address, for the audit trail of single sign-on (the route passes it). */
export function authOptions(opts: { ip?: string } = {}): NextAuthOptions {
  const cfg = config();
  const sso = oidcSettings(cfg);
  return {
    secret: cfg.nextAuthSecret,
    session: { strategy: "jwt", maxAge: SESSION_IDLE_SECONDS },
    // Errors land on the login page, which says what went wrong (components/login-messages.ts).
    pages: { signIn: "/login", error: "/login" },
    logger: nextAuthLogger,
    providers: [
      ...(cfg.LOCAL_LOGIN ? [passwordProvider()] : []),
      ...(sso ? [oidcProvider(sso)] : []),
    ],
    callbacks: {
      async signIn({ user, account, profile }) {
        if (account?.provider !== OIDC_PROVIDER_ID) return true;
        if (!sso || !profile) return "/login?error=OAuthCallback";
        const r = await ssoSignIn(db(), profile as Record<string, unknown>, sso, opts.ip ?? null);
        if (!r.ok) return `/login?error=${r.code}`;
        // The session is ours (user id, role, session version), not the provider's.
        Object.assign(user, { id: r.user.id, email: r.user.email, name: r.user.displayName, role: r.user.role, sessionVersion: r.user.sessionVersion });
        return true;
      },
      async jwt({ token, user }) {
        if (user) {
          const u = user as unknown as { role: RoleName; sessionVersion: number };
          token.role = u.role;
          token.sv = u.sessionVersion;
          token.authAt = Math.floor(Date.now() / 1000);
        }
        return token;
      },
      async session({ session, token }) {
        Object.assign(session, { userId: token.sub!, sv: token.sv, authAt: token.authAt });
        return session;
      },
    },
  };
}

function passwordProvider() {
  return CredentialsProvider({
    name: "Email and password",
    credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
    // The route in front (app/api/auth/[...nextauth]) has already recorded this attempt
    // and answered 429 past the limit; a success clears the email's attempts.
    async authorize(raw, req) {
      const parsed = credentialsSchema.safeParse(raw);
      if (!parsed.success) return null;
      const email = parsed.data.email.toLowerCase();
      const ip = clientIp((req?.headers ?? {}) as Record<string, string>);
      const d = db();
      const user = await d.user.findUnique({ where: { email }, omit: { passwordHash: false } });
      const matches = await verifyPassword(parsed.data.password, user?.passwordHash ?? (await unknownUserHash()));
      // Single sign-on users sign in at their provider only (a password set for one is not a way around its groups).
      const ok = !!user && !user.disabledAt && !user.oidcSubject && !!user.passwordHash && matches;
      if (!ok || !user) {
        await audit(d, {
          actor: { type: "user", id: user?.id ?? null, label: email },
          action: "auth.sign_in_failed",
          target: email,
          details: { reason: user?.disabledAt ? "disabled" : user?.oidcSubject ? "single sign-on account" : "bad credentials" },
          ip,
        });
        return null;
      }
      await clearLoginFailures(d, email);
      await d.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
      await audit(d, { actor: { type: "user", id: user.id, label: user.email }, action: "auth.sign_in", target: user.email, ip });
      return { id: user.id, email: user.email, name: user.displayName, role: user.role, sessionVersion: user.sessionVersion };
    },
  });
}

/**
 * The signed-in user, re-read from the database so a disabled user or changed role takes
 * effect at once, and refused when the session predates the user's session version or is
 * older than SESSION_MAX_DAYS (lib/session-policy.ts). Cached per request.
 */
export const getSessionUser = cache(async (): Promise<SessionUser | null> => {
  const session = (await getServerSession(authOptions())) as { userId?: string; sv?: unknown; authAt?: unknown } | null;
  const id = session?.userId;
  if (!id) return null;
  const user = await db().user.findUnique({ where: { id } });
  if (!user || sessionProblem(session, user, config().SESSION_MAX_DAYS)) return null;
  return { id: user.id, email: user.email, displayName: user.displayName, role: user.role };
});
