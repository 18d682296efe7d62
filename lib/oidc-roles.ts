// Which role a single sign-on user gets, from the ID token's claims (issue 17 §4). Pure, so
// the mapping is tested without a provider. The role claim (OIDC_ROLE_CLAIM, a name or a
// dotted path such as Keycloak's realm_access.roles) holds either groups — matched exactly
// against OIDC_ADMIN_GROUPS / OIDC_OPERATOR_GROUPS / OIDC_VIEWER_GROUPS, the highest match
// wins — or, as a single string, a role name itself. Nothing matching: OIDC_DEFAULT_ROLE,
// or no role at all (the user is refused).
import { Role } from "./generated/prisma/enums";
import { ROLES, type RoleName } from "./permissions";
import type { OidcSettings } from "./oidc-config";

export type RoleMappingSettings = Pick<OidcSettings, "roleClaim" | "adminGroups" | "operatorGroups" | "viewerGroups" | "defaultRole">;

export interface RoleMapping {
  role: RoleName | null;
  /** Why: the claim named the role, a group matched, or the default applied. */
  source: "claim" | "group" | "default";
  /** The claim's values as read (for the audit trail). */
  values: string[];
}

/** The claim at `path`: a claim of that exact name first (names may contain dots), else the dotted path. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let at: unknown = claims;
  for (const part of path.split(".")) {
    if (at === null || typeof at !== "object" || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

function claimValues(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

export function mapRole(claims: Record<string, unknown>, s: RoleMappingSettings): RoleMapping {
  const raw = claimAt(claims, s.roleClaim);
  const values = claimValues(raw);
  if (typeof raw === "string") {
    const named = ROLES.find((r) => r === raw.trim().toUpperCase());
    if (named) return { role: named, source: "claim", values };
  }
  const byRole: [RoleName, string[]][] = [
    [Role.ADMIN, s.adminGroups],
    [Role.OPERATOR, s.operatorGroups],
    [Role.VIEWER, s.viewerGroups],
  ];
  for (const [role, groups] of byRole) {
    if (values.some((v) => groups.includes(v))) return { role, source: "group", values };
  }
  return { role: s.defaultRole, source: "default", values };
}
