// Who a restore that keeps owners must be (decision 182): a member of the roles it acts for —
// owners and default privileges' FOR ROLE — not of a role only granted something; and a
// superuser, or the grantor itself, for a grant made by a role that does not own its object.
import { describe, expect, it } from "vitest";
import { aclGrants, aclRoles, type CatalogSnapshot } from "./catalog-snapshot";
import { keepsPrivileges, ownershipPlan, roleNeeds, type TargetCapabilities } from "./restore-plan";

const cap = (over: Partial<TargetCapabilities>): TargetCapabilities =>
  ({ user: "app", superuser: false, missingRoles: [], notMemberOf: [], ...over }) as TargetCapabilities;

describe("aclGrants", () => {
  it("reads grantee and grantor of each item, PUBLIC as the empty name", () => {
    expect(aclGrants("{app=arwdDxt/app,reader=r/app,=U/owner}")).toEqual([
      { grantee: "app", grantor: "app" },
      { grantee: "reader", grantor: "app" },
      { grantee: "", grantor: "owner" },
    ]);
    expect(aclGrants(null)).toEqual([]);
    expect(aclGrants("{}")).toEqual([]);
    expect(aclRoles("{reader=r/app,=U/owner}")).toEqual(["reader", "app", "owner"]);
  });
  it("reads names PostgreSQL quotes, inside elements it quotes again (as PostgreSQL 15 printed them)", () => {
    // SELECT relacl::text for a table owned by "a b", granted to "odd ""name""", "x,y" and PUBLIC.
    const printed = String.raw`{"\"a b\"=arwdDxt/\"a b\"","\"odd \"\"name\"\"\"=r/\"a b\"","\"x,y\"=r/\"a b\"","=r/\"a b\""}`;
    expect(aclGrants(printed)).toEqual([
      { grantee: "a b", grantor: "a b" },
      { grantee: 'odd "name"', grantor: "a b" },
      { grantee: "x,y", grantor: "a b" },
      { grantee: "", grantor: "a b" },
    ]);
    // The everyday case: a hyphenated role, and one with capitals.
    expect(aclRoles(String.raw`{"\"app-readonly\"=r/\"App-Owner\"",owner=arwdDxt/owner}`)).toEqual(["app-readonly", "App-Owner", "owner", "owner"]);
  });
});

describe("roleNeeds", () => {
  const base = { objects: {}, roles: ["app", "reader"] } as unknown as CatalogSnapshot;
  it("acts for the recorded owners, and needs every named role to exist", () => {
    expect(roleNeeds({ ...base, owners: ["app"], otherGrantors: ["passer"] })).toEqual({ named: ["app", "reader"], acting: ["app"], otherGrantors: ["passer"], extensions: [] });
  });
  it("acts for every named role for a manifest before decision 182, as before", () => {
    expect(roleNeeds(base)).toEqual({ named: ["app", "reader"], acting: ["app", "reader"], otherGrantors: [], extensions: [] });
    expect(roleNeeds(null)).toEqual({ named: [], acting: [], otherGrantors: [], extensions: [] });
  });
  it("reads back by its name a role such a manifest recorded with PostgreSQL's quotes", () => {
    const old = { objects: {}, roles: ['"app-readonly"', '"Reader""x"', "app"] } as unknown as CatalogSnapshot;
    expect(roleNeeds(old).named).toEqual(["app-readonly", 'Reader"x', "app"]);
    // A manifest from decision 182 on holds names as they are.
    expect(roleNeeds({ ...old, owners: ["app"] }).named).toEqual(old.roles);
  });
});

describe("ownershipPlan", () => {
  it("keeps owners and grants when the role acts for every owner", () => {
    expect(ownershipPlan(cap({}), ["app", "reader"], [])).toEqual({ canKeep: true, problems: [], roles: ["app", "reader"], reassignKeepsGrants: true });
  });
  it("names an owner the role is no member of, with the grant that fixes it", () => {
    expect(ownershipPlan(cap({ notMemberOf: ["billing"] }), ["app", "billing"], []).problems).toEqual(['app may not give objects to billing (GRANT "billing" TO "app";).']);
  });
  it("refuses grants passed on by another role to anyone but a superuser or that role", () => {
    const words =
      "passer granted privileges on objects it does not own (passing on a grant option); pg_restore makes such a grant as its grantor (SET SESSION AUTHORIZATION), which only a superuser may: restore through a superuser's connection.";
    expect(ownershipPlan(cap({}), ["app"], ["passer"])).toMatchObject({ canKeep: false, problems: [words], reassignKeepsGrants: false });
    expect(ownershipPlan(cap({}), ["app"], ["passer", "other"]).problems[0]).toMatch(/^passer, other granted privileges on objects they do not own/);
    expect(ownershipPlan(cap({}), ["app"], ["app"])).toMatchObject({ canKeep: true, reassignKeepsGrants: true });
    expect(ownershipPlan(cap({ superuser: true, notMemberOf: ["billing"] }), ["app"], ["passer"])).toMatchObject({ canKeep: true, problems: [] });
  });
  it("given to the connecting role, keeps grants only when every grantee exists and none must be made as another", () => {
    expect(keepsPrivileges(cap({ missingRoles: ["reader"] }), [], false)).toBe(false);
    expect(keepsPrivileges(cap({}), ["passer"], false)).toBe(false);
    expect(keepsPrivileges(cap({}), ["passer"], true)).toBe(true);
    expect(keepsPrivileges(cap({ superuser: true }), ["passer"], false)).toBe(true);
    expect(keepsPrivileges(cap({}), [], false)).toBe(true);
  });
});
