// A real OpenID Connect provider (the npm package oidc-provider) on a loopback port, for
// the single sign-on tests. Its development login form signs in whichever account name is
// typed (any password); the account's claims — email, groups — are whatever the test put in
// `accounts`, read at every sign-in, so a test changes a user's groups between sign-ins.
// Consent is granted without asking, as enterprise providers do for their own apps.
// `impersonate(issuer)` makes the same address answer as another provider (another issuer,
// its own keys), for the refusal of an unknown issuer.
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestIdp {
  issuer: string;
  accounts: Map<string, IdpAccount>;
  /** From now on the address answers as a provider with this other issuer; null = itself again. */
  impersonate(issuer: string | null): void;
  close(): Promise<void>;
}

export const IDP_CLIENT = { id: "vaultline-test", secret: "vaultline-test-client-secret" };

function provider(issuer: string, accounts: Map<string, IdpAccount>, redirectUris: string[], cookieKey: string): Provider {
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: IDP_CLIENT.id,
        client_secret: IDP_CLIENT.secret,
        redirect_uris: redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    async findAccount(_ctx, id) {
      const a = accounts.get(id);
      return a && { accountId: id, claims: async () => ({ sub: id, ...accounts.get(id) }) };
    },
    scopes: ["openid", "email", "profile", "groups"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"], groups: ["groups"] },
    // The claims go into the ID token (next-auth reads them from there, idToken: true).
    conformIdTokenClaims: false,
    async loadExistingGrant(ctx) {
      const { client, session, params, provider: pr } = ctx.oidc;
      const id = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const found = id ? await pr.Grant.find(id) : undefined;
      if (found) return found;
      const grant = new pr.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(params.scope ?? "openid"));
      await grant.save();
      return grant;
    },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: [cookieKey] },
  });
  return p;
}

export async function startTestIdp(opts: { port: number; redirectUris: string[] }): Promise<TestIdp> {
  const issuer = `http://localhost:${opts.port}`;
  const accounts = new Map<string, IdpAccount>();
  const own = provider(issuer, accounts, opts.redirectUris, "own-cookie-key").callback();
  let other: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | null = null;
  const server = http.createServer((req, res) => (other ?? own)(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    issuer: `http://localhost:${port}`,
    accounts,
    impersonate(otherIssuer) {
      other = otherIssuer ? provider(otherIssuer, accounts, opts.redirectUris, "other-cookie-key").callback() : null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
