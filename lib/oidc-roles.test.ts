import { describe, expect, it } from "vitest";
import { claimAt, mapRole, type RoleMappingSettings } from "./oidc-roles";
import { parseConfig, ConfigError } from "./config";
import { oidcEnvShape, oidcSettings, sameIssuer } from "./oidc-config";
import { readFileSync } from "node:fs";

const settings: RoleMappingSettings = {
  roleClaim: "groups",
  adminGroups: ["vaultline-admins", "/ops/dba"],
  operatorGroups: ["vaultline-operators"],
  viewerGroups: ["engineering"],
  defaultRole: "VIEWER",
};

describe("single sign-on role mapping", () => {
  it("maps groups, the highest match winning whatever the order", () => {
    expect(mapRole({ groups: ["engineering", "vaultline-operators"] }, settings)).toMatchObject({ role: "OPERATOR", source: "group" });
    expect(mapRole({ groups: ["vaultline-operators", "vaultline-admins"] }, settings)).toMatchObject({ role: "ADMIN", source: "group" });
    expect(mapRole({ groups: ["/ops/dba"] }, settings).role).toBe("ADMIN");
    expect(mapRole({ groups: ["engineering"] }, { ...settings, defaultRole: null })).toMatchObject({ role: "VIEWER", source: "group" });
  });

  it("matches groups exactly: case, prefixes and look-alikes do not count", () => {
    for (const g of ["Vaultline-Admins", "vaultline-admins ", "vaultline", "/ops/dba/extra", "ops/dba"]) {
      expect(mapRole({ groups: [g] }, settings)).toMatchObject({ role: "VIEWER", source: "default" });
    }
  });

  it("falls back to OIDC_DEFAULT_ROLE, or to no role (refused) when it is none", () => {
    expect(mapRole({ groups: ["marketing"] }, settings)).toEqual({ role: "VIEWER", source: "default", values: ["marketing"] });
    expect(mapRole({}, { ...settings, defaultRole: "OPERATOR" })).toMatchObject({ role: "OPERATOR", source: "default" });
    expect(mapRole({ groups: ["marketing"] }, { ...settings, defaultRole: null }).role).toBeNull();
    expect(mapRole({}, { ...settings, defaultRole: null }).role).toBeNull();
  });

  it("takes a single string claim as the role itself, any case, and only a real role name", () => {
    const s = { ...settings, roleClaim: "vaultline_role" };
    expect(mapRole({ vaultline_role: "ADMIN" }, s)).toMatchObject({ role: "ADMIN", source: "claim" });
    expect(mapRole({ vaultline_role: "operator" }, s)).toMatchObject({ role: "OPERATOR", source: "claim" });
    expect(mapRole({ vaultline_role: "superuser" }, { ...s, defaultRole: null }).role).toBeNull();
    // A string that is a group (Google's hd, an email) is matched like a group.
    expect(mapRole({ hd: "engineering" }, { ...s, roleClaim: "hd", defaultRole: null }).role).toBe("VIEWER");
  });

  it("does not read role names out of a group list (a group called ADMIN grants nothing by itself)", () => {
    expect(mapRole({ groups: ["ADMIN"] }, { ...settings, defaultRole: null }).role).toBeNull();
  });

  it("ignores values that are not strings, and claims of the wrong type", () => {
    expect(mapRole({ groups: [1, null, { name: "vaultline-admins" }, "vaultline-operators"] }, settings)).toMatchObject({ role: "OPERATOR", values: ["vaultline-operators"] });
    expect(mapRole({ groups: { 0: "vaultline-admins" } }, settings).role).toBe("VIEWER");
    expect(mapRole({ groups: true }, settings).role).toBe("VIEWER");
  });

  it("reads nested claims by dotted path (Keycloak realm roles) and names that contain dots (Entra)", () => {
    const claims = { realm_access: { roles: ["offline_access", "vaultline-admins"] }, "http://schemas.example/claims/groups": ["vaultline-operators"] };
    expect(mapRole(claims, { ...settings, roleClaim: "realm_access.roles" }).role).toBe("ADMIN");
    expect(mapRole(claims, { ...settings, roleClaim: "http://schemas.example/claims/groups" }).role).toBe("OPERATOR");
    expect(claimAt(claims, "realm_access.missing.deeper")).toBeUndefined();
    expect(claimAt({ a: "x" }, "a.length")).toBeUndefined();
    expect(claimAt({}, "constructor")).toBeUndefined();
  });
});

describe("single sign-on configuration", () => {
  const base = { DATABASE_URL: "postgresql://u:p@localhost/db", BACKUP_ENCRYPTION_PASSPHRASE: "a passphrase long enough", NEXTAUTH_SECRET: "0123456789abcdef0123" };
  const oidc = { OIDC_ISSUER: "https://id.example.com/realms/ops", OIDC_CLIENT_ID: "vaultline", OIDC_CLIENT_SECRET: "s3cret" };
  const problems = (env: Record<string, string>) => {
    try {
      parseConfig({ ...base, ...env });
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };

  it("is off by default, with password sign-in on", () => {
    const c = parseConfig(base);
    expect(oidcSettings(c)).toBeNull();
    expect(c.LOCAL_LOGIN).toBe(true);
  });

  it("parses the provider, lists and default role", () => {
    const c = parseConfig({ ...base, ...oidc, OIDC_ADMIN_GROUPS: " admins, /ops/dba ,,", OIDC_DEFAULT_ROLE: "none", OIDC_ROLE_CLAIM: "realm_access.roles" });
    expect(oidcSettings(c)).toMatchObject({
      issuer: oidc.OIDC_ISSUER,
      name: "Single sign-on",
      scopes: "openid email profile",
      roleClaim: "realm_access.roles",
      adminGroups: ["admins", "/ops/dba"],
      operatorGroups: [],
      defaultRole: null,
      linkByEmail: false,
    });
    expect(oidcSettings(parseConfig({ ...base, ...oidc }))!.defaultRole).toBe("VIEWER");
  });

  it("names each missing or bad variable", () => {
    expect(problems({ OIDC_ISSUER: oidc.OIDC_ISSUER })).toEqual([
      expect.stringMatching(/^OIDC_CLIENT_ID: required for single sign-on/),
      expect.stringMatching(/^OIDC_CLIENT_SECRET: required for single sign-on/),
    ]);
    expect(problems({ ...oidc, OIDC_ISSUER: "http://id.example.com" })).toEqual([expect.stringMatching(/^OIDC_ISSUER: an https URL/)]);
    expect(problems({ ...oidc, OIDC_ISSUER: "http://localhost:8080/realms/x" })).toEqual([]);
    expect(problems({ ...oidc, OIDC_DEFAULT_ROLE: "ROOT" })).toEqual([expect.stringMatching(/^OIDC_DEFAULT_ROLE:/)]);
    expect(problems({ ...oidc, OIDC_SCOPES: "email profile" })).toEqual([expect.stringMatching(/^OIDC_SCOPES: must include openid/)]);
    expect(problems({ LOCAL_LOGIN: "false" })).toEqual([expect.stringMatching(/^LOCAL_LOGIN: false switches password sign-in off; configure single sign-on/)]);
    expect(problems({ ...oidc, LOCAL_LOGIN: "false" })).toEqual([]);
  });

  it("documents every variable in .env.example", () => {
    const example = readFileSync(".env.example", "utf8");
    for (const v of Object.keys(oidcEnvShape)) expect(example, v).toMatch(new RegExp(`^${v}=`, "m"));
  });

  it("compares issuers exactly, but for one trailing slash", () => {
    expect(sameIssuer("https://a.example/realms/x", "https://a.example/realms/x/")).toBe(true);
    expect(sameIssuer("https://a.example/realms/x", "https://a.example/realms/y")).toBe(false);
    expect(sameIssuer("https://a.example", "https://A.example")).toBe(false);
  });
});
