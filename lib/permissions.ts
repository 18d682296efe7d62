// Permissions as data (STYLE.md §4): each action names the lowest role that may do it
// from a session, and the token scope that allows it from an API token (null: sessions only).
// Browser-safe: the UI imports it to hide what a role cannot do.
import { Role } from "./generated/prisma/enums";

/** The schema's Role enum, lowest to highest (lib/validation/enums.test.ts checks it is all of them). */
export const ROLES = [Role.VIEWER, Role.OPERATOR, Role.ADMIN] as const satisfies readonly Role[];
export type RoleName = (typeof ROLES)[number];

export const SCOPES = ["backups:read", "backups:download", "backups:write", "restore", "deploy", "settings", "metrics"] as const;
export type Scope = (typeof SCOPES)[number];

export const PERMISSIONS = {
  "backups.read": { role: "VIEWER", scope: "backups:read" },
  "backups.create": { role: "OPERATOR", scope: "backups:write" },
  "backups.verify": { role: "OPERATOR", scope: "backups:write" },
  "backups.cancel": { role: "OPERATOR", scope: "backups:write" },
  "backups.download": { role: "OPERATOR", scope: "backups:download" },
  "backups.delete": { role: "ADMIN", scope: "restore" },
  "restores.read": { role: "VIEWER", scope: "backups:read" },
  "restores.run": { role: "ADMIN", scope: "restore" },
  "deploy.gate": { role: "OPERATOR", scope: "deploy" },
  "deployments.read": { role: "VIEWER", scope: "deploy" },
  // The deploy command and its raw output (may print hosts, paths, secrets): not for VIEWERs.
  "deployments.detail": { role: "OPERATOR", scope: "deploy" },
  "deployments.write": { role: "OPERATOR", scope: "deploy" },
  "rollback.run": { role: "ADMIN", scope: "restore" },
  "checks.read": { role: "VIEWER", scope: "backups:read" },
  "checks.run": { role: "OPERATOR", scope: "deploy" },
  "settings.read": { role: "VIEWER", scope: "settings" },
  "settings.write": { role: "ADMIN", scope: "settings" },
  // Seeing secrets written into settings and the audit trail (webhook URLs) whole: whoever
  // may change them. Not a route of its own; GET /api/settings and /api/audit mask without it.
  "settings.secrets": { role: "ADMIN", scope: "settings" },
  // Encryption keys (issue 16): their ids, usage, rotation and re-encryption.
  "keys.manage": { role: "ADMIN", scope: "settings" },
  // Targets (DESIGN §8): the databases protected. Reading them is reading backups; testing a
  // stored target's connection is an operator's check; adding, changing, removing is ADMIN's.
  "targets.read": { role: "VIEWER", scope: "backups:read" },
  "targets.test": { role: "OPERATOR", scope: "backups:write" },
  "targets.write": { role: "ADMIN", scope: "settings" },
  "audit.read": { role: "VIEWER", scope: "backups:read" },
  "metrics.read": { role: "VIEWER", scope: "metrics" },
  "tokens.manage": { role: "ADMIN", scope: null },
  "users.manage": { role: "ADMIN", scope: null },
  // Signing one's own sessions out everywhere (the user menu): sessions only.
  "sessions.revoke": { role: "VIEWER", scope: null },
} as const satisfies Record<string, { role: RoleName; scope: Scope | null }>;

export type Action = keyof typeof PERMISSIONS;

export function roleAtLeast(role: RoleName, min: RoleName): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min);
}

export function roleCan(role: RoleName, action: Action): boolean {
  return roleAtLeast(role, PERMISSIONS[action].role);
}

/** A token acts with its scopes only, and never beyond its creator's role. */
export function tokenCan(scopes: readonly string[], creatorRole: RoleName, action: Action): boolean {
  const p = PERMISSIONS[action];
  return p.scope !== null && scopes.includes(p.scope) && roleAtLeast(creatorRole, p.role);
}
