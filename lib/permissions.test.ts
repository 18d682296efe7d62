import { describe, expect, it } from "vitest";
import { PERMISSIONS, ROLES, SCOPES, roleCan, tokenCan, type Action, type RoleName, type Scope } from "./permissions";

// The whole matrix, written out by hand from DESIGN §6 (not derived from PERMISSIONS):
// for each action, which session roles may do it and which single token scope allows it
// (for a creator who has the role). A change to lib/permissions.ts must change this too.
const V = "VIEWER",
  O = "OPERATOR",
  A = "ADMIN";
const MATRIX: Record<Action, { roles: RoleName[]; scope: Scope | null }> = {
  "backups.read": { roles: [V, O, A], scope: "backups:read" },
  "backups.create": { roles: [O, A], scope: "backups:write" },
  "backups.verify": { roles: [O, A], scope: "backups:write" },
  "backups.cancel": { roles: [O, A], scope: "backups:write" },
  "backups.download": { roles: [O, A], scope: "backups:download" },
  "backups.delete": { roles: [A], scope: "restore" },
  "restores.read": { roles: [V, O, A], scope: "backups:read" },
  "restores.run": { roles: [A], scope: "restore" },
  "deploy.gate": { roles: [O, A], scope: "deploy" },
  "deployments.read": { roles: [V, O, A], scope: "deploy" },
  "deployments.detail": { roles: [O, A], scope: "deploy" },
  "deployments.write": { roles: [O, A], scope: "deploy" },
  "rollback.run": { roles: [A], scope: "restore" },
  "checks.read": { roles: [V, O, A], scope: "backups:read" },
  "checks.run": { roles: [O, A], scope: "deploy" },
  "settings.read": { roles: [V, O, A], scope: "settings" },
  "settings.write": { roles: [A], scope: "settings" },
  "settings.secrets": { roles: [A], scope: "settings" },
  "keys.manage": { roles: [A], scope: "settings" },
  "targets.read": { roles: [V, O, A], scope: "backups:read" },
  "targets.test": { roles: [O, A], scope: "backups:write" },
  "targets.write": { roles: [A], scope: "settings" },
  "audit.read": { roles: [V, O, A], scope: "backups:read" },
  "metrics.read": { roles: [V, O, A], scope: "metrics" },
  "tokens.manage": { roles: [A], scope: null },
  "users.manage": { roles: [A], scope: null },
  "sessions.revoke": { roles: [V, O, A], scope: null },
};

describe("permissions", () => {
  it("covers exactly the actions, roles and scopes of lib/permissions.ts", () => {
    expect(Object.keys(PERMISSIONS).sort()).toEqual(Object.keys(MATRIX).sort());
    // The loops below walk ROLES and SCOPES: a role or scope dropped there would shrink the matrix unnoticed.
    expect([...ROLES]).toEqual([V, O, A]);
    expect([...SCOPES].sort()).toEqual(["backups:download", "backups:read", "backups:write", "deploy", "metrics", "restore", "settings"]);
  });

  it("gives each session role exactly the actions of the table", () => {
    for (const action of Object.keys(MATRIX) as Action[]) {
      for (const role of ROLES) {
        expect(roleCan(role, action), `${role} ${action}`).toBe(MATRIX[action].roles.includes(role));
      }
    }
  });

  it("gives a token an action only through the table's scope, and never beyond its creator's role", () => {
    for (const action of Object.keys(MATRIX) as Action[]) {
      const want = MATRIX[action];
      for (const creator of ROLES) {
        for (const scope of SCOPES) {
          const expected = want.scope === scope && want.roles.includes(creator);
          expect(tokenCan([scope], creator, action), `[${scope}] of ${creator}: ${action}`).toBe(expected);
        }
        expect(tokenCan([], creator, action), `[] of ${creator}: ${action}`).toBe(false);
        expect(tokenCan([...SCOPES], creator, action), `all scopes of ${creator}: ${action}`).toBe(want.scope !== null && want.roles.includes(creator));
      }
    }
  });

  it("grants nothing for a scope that is not one of the list, however close", () => {
    const near = ["*", "admin", "backups", "backups:*", "BACKUPS:READ", "backups:read ", " restore", "settings:write", ""];
    for (const action of Object.keys(MATRIX) as Action[]) {
      for (const creator of ROLES) expect(tokenCan(near, creator, action), `${near.join(",")} of ${creator}: ${action}`).toBe(false);
    }
  });

  it("does not let backups:read download archives (issue 12 §4)", () => {
    expect(tokenCan(["backups:read"], "ADMIN", "backups.download")).toBe(false);
    expect(tokenCan(["backups:download"], "ADMIN", "backups.download")).toBe(true);
    expect(tokenCan(["backups:download"], "VIEWER", "backups.download")).toBe(false);
    expect(roleCan("VIEWER", "backups.download")).toBe(false);
  });

  it("masks secrets for an ADMIN's backups:read token", () => {
    expect(tokenCan(["backups:read"], "ADMIN", "settings.secrets")).toBe(false);
    expect(tokenCan(["settings"], "ADMIN", "settings.secrets")).toBe(true);
    expect(tokenCan(["settings"], "OPERATOR", "settings.secrets")).toBe(false);
  });
});
