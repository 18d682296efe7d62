// What the login page says for each way a sign-in can end on it (`/login?error=…`): the
// refusals of single sign-on (lib/oidc-sign-in.ts) and next-auth's own error codes.
import type { SsoRefusal } from "@/lib/oidc-sign-in";

const SSO: Record<SsoRefusal, string> = {
  SsoWrongIssuer:
    "Sign-in refused: the answer came from an identity provider other than the one this dashboard trusts. Nothing was changed. Tell your administrator (OIDC_ISSUER).",
  SsoNoSubject: "Sign-in refused: the identity provider did not say who you are (no subject in its token).",
  SsoNoEmail:
    "Sign-in refused: the identity provider did not send an email address. Your administrator must release the email claim (scope “email”) to this dashboard.",
  SsoEmailTaken:
    "Sign-in refused: an account with your email already exists here and is not linked to your single sign-on identity. Ask an administrator to link or remove it.",
  SsoNoRole: "Sign-in refused: your single sign-on account has no Vaultline role (none of your groups is given access). Ask your administrator.",
  SsoDisabled: "Sign-in refused: your account is disabled here. Ask an administrator.",
};

const NEXT_AUTH: Record<string, string> = {
  OAuthSignin: "Single sign-on could not start: the identity provider is unreachable or refused the request. Try again shortly.",
  OAuthCallback:
    "Single sign-on failed: the identity provider's answer could not be verified, or the provider is unreachable. Try again; if it keeps failing, tell your administrator.",
  Callback: "Single sign-on failed while signing you in. Try again.",
  AccessDenied: "Sign-in refused.",
  OAuthAccountNotLinked: "This account is not linked to your single sign-on identity.",
  SessionRequired: "Please sign in.",
  CredentialsSignin: "Email or password is wrong.",
};

/** The message for `?error=`, or null when there is none; unknown codes get a generic one. */
export function loginErrorMessage(code: string | null | undefined): string | null {
  if (!code) return null;
  return (SSO as Record<string, string>)[code] ?? NEXT_AUTH[code] ?? "Sign-in failed. Try again.";
}
