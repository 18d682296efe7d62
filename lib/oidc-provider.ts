// The single sign-on provider for next-auth 4: its built-in OpenID Connect support
// (openid-client underneath) with discovery, the ID token as the source of claims, and
// PKCE, state and nonce all checked. The redirect URI is <NEXTAUTH_URL>/api/auth/callback/oidc.
import type { OAuthConfig } from "next-auth/providers/oauth";
import type { OidcSettings } from "./oidc-config";

export const OIDC_PROVIDER_ID = "oidc";

export function oidcProvider(s: OidcSettings): OAuthConfig<Record<string, unknown>> {
  return {
    id: OIDC_PROVIDER_ID,
    name: s.name,
    type: "oauth",
    wellKnown: `${s.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`,
    issuer: s.issuer,
    clientId: s.clientId,
    clientSecret: s.clientSecret,
    idToken: true,
    checks: ["pkce", "state", "nonce"],
    authorization: { params: { scope: s.scopes } },
    // openid-client's default is 3.5 s; a provider under load at 3 a.m. deserves longer.
    httpOptions: { timeout: 10_000 },
    // Only what next-auth needs to carry the profile; who the user is, and their role, is
    // decided in the signIn callback (lib/oidc-sign-in.ts) from the verified claims.
    profile(claims) {
      return {
        id: String(claims.sub ?? ""),
        email: typeof claims.email === "string" ? claims.email : null,
        name: typeof claims.name === "string" ? claims.name : null,
      };
    },
  };
}
