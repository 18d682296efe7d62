import { describe, expect, it } from "vitest";
import { PERMISSIONS, roleCan, tokenCan } from "./permissions";

describe("permissions", () => {
  it("lets each role do exactly what DESIGN §6 gives it", () => {
    expect(roleCan("VIEWER", "backups.read")).toBe(true);
    expect(roleCan("VIEWER", "backups.create")).toBe(false);
    expect(roleCan("OPERATOR", "backups.create")).toBe(true);
    expect(roleCan("OPERATOR", "deploy.gate")).toBe(true);
    expect(roleCan("OPERATOR", "restores.run")).toBe(false);
    expect(roleCan("ADMIN", "restores.run")).toBe(true);
    expect(roleCan("OPERATOR", "settings.write")).toBe(false);
    expect(roleCan("ADMIN", "users.manage")).toBe(true);
  });

  it("limits a token to its scopes and its creator's role", () => {
    expect(tokenCan(["backups:read"], "ADMIN", "backups.read")).toBe(true);
    expect(tokenCan(["backups:read"], "ADMIN", "backups.create")).toBe(false);
    expect(tokenCan(["restore"], "OPERATOR", "restores.run")).toBe(false);
    expect(tokenCan(["restore"], "ADMIN", "restores.run")).toBe(true);
    expect(tokenCan(["deploy"], "VIEWER", "deploy.gate")).toBe(false);
  });

  it("never lets a token manage users or tokens", () => {
    const all = ["backups:read", "backups:write", "restore", "deploy", "settings", "metrics"];
    expect(tokenCan(all, "ADMIN", "users.manage")).toBe(false);
    expect(tokenCan(all, "ADMIN", "tokens.manage")).toBe(false);
    expect(PERMISSIONS["tokens.manage"].scope).toBeNull();
  });
});
