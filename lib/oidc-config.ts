// Single sign-on settings (OIDC_*, LOCAL_LOGIN): their zod shape, merged into the one
// environment schema of lib/config.ts, the checks across them, and the settings the sign-in
// code reads. A half-configured provider, or password sign-in switched off with nothing in
// its place, stops the start with a message naming the variable.
import { z } from "zod";
import type { RefinementCtx } from "zod";
import { ROLES, type RoleName } from "./permissions";

const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const list = z.string().transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export const oidcEnvShape = {
  OIDC_ISSUER: z
    .string()
    .url()
    .refine((v) => {
      const u = new URL(v);
      return u.protocol === "https:" || (u.protocol === "http:" && LOOPBACK.has(u.hostname));
    }, "an https URL (http only for localhost)")
    .refine((v) => !new URL(v).search && !new URL(v).hash, "the issuer URL has no query or fragment")
    .optional(),
  OIDC_CLIENT_ID: z.string().min(1).optional(),
  OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  OIDC_NAME: z.string().min(1).max(60).default("Single sign-on"),
  OIDC_SCOPES: z
    .string()
    .regex(/(^|\s)openid(\s|$)/, "must include openid")
    .default("openid email profile"),
  OIDC_ROLE_CLAIM: z
    .string()
    .regex(/^[^.\s]+(\.[^.\s]+)*$/, "a claim name, or a dotted path such as realm_access.roles")
    .default("groups"),
  OIDC_ADMIN_GROUPS: list.optional(),
  OIDC_OPERATOR_GROUPS: list.optional(),
  OIDC_VIEWER_GROUPS: list.optional(),
  OIDC_DEFAULT_ROLE: z.enum([...ROLES, "none"]).default("VIEWER"),
  OIDC_LINK_BY_EMAIL: flag.default(false),
  LOCAL_LOGIN: flag.default(true),
};

type OidcEnv = z.infer<z.ZodObject<typeof oidcEnvShape>>;

const REQUIRED = ["OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"] as const;

/** The checks across the OIDC variables (called from lib/config.ts's superRefine). */
export function checkOidcEnv(c: OidcEnv, ctx: RefinementCtx): void {
  const anySet = REQUIRED.some((k) => c[k] !== undefined);
  if (anySet) {
    for (const k of REQUIRED) {
      if (!c[k]) ctx.addIssue({ code: "custom", path: [k], message: `required for single sign-on (set ${REQUIRED.join(", ")} together)` });
    }
  }
  if (!c.LOCAL_LOGIN && !anySet) {
    ctx.addIssue({
      code: "custom",
      path: ["LOCAL_LOGIN"],
      message: "false switches password sign-in off; configure single sign-on (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET) first, or nobody can sign in",
    });
  }
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  name: string;
  scopes: string;
  roleClaim: string;
  adminGroups: string[];
  operatorGroups: string[];
  viewerGroups: string[];
  /** The role of a user no group maps; null = such users are refused. */
  defaultRole: RoleName | null;
  linkByEmail: boolean;
}

/** The provider's settings, or null when single sign-on is not configured. */
export function oidcSettings(c: OidcEnv): OidcSettings | null {
  if (!c.OIDC_ISSUER || !c.OIDC_CLIENT_ID || !c.OIDC_CLIENT_SECRET) return null;
  return {
    issuer: c.OIDC_ISSUER,
    clientId: c.OIDC_CLIENT_ID,
    clientSecret: c.OIDC_CLIENT_SECRET,
    name: c.OIDC_NAME,
    scopes: c.OIDC_SCOPES,
    roleClaim: c.OIDC_ROLE_CLAIM,
    adminGroups: c.OIDC_ADMIN_GROUPS ?? [],
    operatorGroups: c.OIDC_OPERATOR_GROUPS ?? [],
    viewerGroups: c.OIDC_VIEWER_GROUPS ?? [],
    defaultRole: c.OIDC_DEFAULT_ROLE === "none" ? null : c.OIDC_DEFAULT_ROLE,
    linkByEmail: c.OIDC_LINK_BY_EMAIL,
  };
}

/** Issuers compare as strings, except for one trailing slash (configurations differ on it). */
export function sameIssuer(a: string, b: string): boolean {
  const trim = (s: string) => (s.endsWith("/") ? s.slice(0, -1) : s);
  return trim(a) === trim(b);
}
