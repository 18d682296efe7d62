import { describe, expect, it } from "vitest";
import {
  checksStateKey,
  createTargetSchema,
  deleteTargetQuerySchema,
  readTargetSettings,
  targetBodySchema,
  testTargetUrlSchema,
  updateTargetSchema,
} from "./targets";
import { isInsidePosix } from "../path-segments";

const url = "postgres://shop:pw@db.internal:5432/shop_prod";

describe("createTargetSchema", () => {
  it("takes a name, environment and postgres URL, settings optional", () => {
    expect(createTargetSchema.parse({ name: "shop-prod", environment: "prod", databaseUrl: url })).toEqual({ name: "shop-prod", environment: "prod", databaseUrl: url });
    const schedule = { enabled: true, cron: "0 3 * * *", timezone: "Europe/Berlin", kind: "FULL" as const };
    expect(createTargetSchema.parse({ name: "crm", environment: "staging", databaseUrl: url, settings: { schedule } }).settings).toEqual({ schedule });
  });

  it("refuses the reserved names, bad names, other URLs and unknown fields", () => {
    for (const name of ["default", "test", "Shop", "-shop", "a".repeat(64), "shop_prod"]) {
      expect(createTargetSchema.safeParse({ name, environment: "prod", databaseUrl: url }).success, name).toBe(false);
    }
    for (const databaseUrl of ["mysql://h/db", "postgres://h", "postgres://h/", "not a url", "postgres://h/db?sslmode=no-verify", "postgres://h/db?sslmode=REQUIRE"]) {
      expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl }).success, databaseUrl).toBe(false);
    }
    expect(createTargetSchema.safeParse({ name: "x", environment: "../up", databaseUrl: url }).success).toBe(false);
    // libpq's failover form is a target's URL (decision 183); a list in the host parameter, a
    // malformed list and a target_session_attrs libpq does not know are refused with their reasons.
    for (const databaseUrl of ["postgresql://shop:pw@db1:5432,db2:5432/shop?target_session_attrs=read-write", "postgres://db1,db2/shop", "postgres://[::1]:5433,db2/shop?target_session_attrs=prefer-standby"]) {
      expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl }).success, databaseUrl).toBe(true);
    }
    for (const [databaseUrl, message] of [
      ["postgresql:///shop?host=db1,db2", /^several hosts go in the URL's host part/],
      ["postgresql://db1:x,db2/shop", /^a postgres:\/\/ or postgresql:\/\/ URL naming a database/],
      ["postgresql://db1,db2/", /^a postgres:\/\/ or postgresql:\/\/ URL naming a database/],
      ["postgresql://db1,db2/shop?target_session_attrs=master", /^target_session_attrs must be one libpq knows/],
      ["postgresql:///shop?service=prod", /^service= names a pg_service.conf entry/],
    ] as const) {
      const r = createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl });
      expect(r.error?.issues.map((i) => i.message), databaseUrl).toEqual([expect.stringMatching(message)]);
    }
    // A comma elsewhere (a password, an option's value) is not a second host.
    expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl: "postgres://shop:p%2Cw@db:5432/shop?options=-c%20a%3D1,2" }).success).toBe(true);
    for (const mode of ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]) {
      expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl: `${url}?sslmode=${mode}` }).success, mode).toBe(true);
    }
    expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl: url, password: "p" }).success).toBe(false);
    expect(createTargetSchema.safeParse({ name: "x", environment: "prod", databaseUrl: url, settings: { cron: "x" } }).success).toBe(false);
  });
});

describe("updateTargetSchema", () => {
  it("needs at least one field, each validated as on create", () => {
    expect(updateTargetSchema.safeParse({}).success).toBe(false);
    expect(updateTargetSchema.parse({ environment: "staging" })).toEqual({ environment: "staging" });
    expect(updateTargetSchema.safeParse({ name: "default" }).success).toBe(false);
    expect(updateTargetSchema.safeParse({ settings: { gate: { require: "SOME" } } }).success).toBe(false);
    expect(updateTargetSchema.parse({ settings: {} })).toEqual({ settings: {} });
  });
});

describe("small schemas", () => {
  it("force is true only for ?force=true", () => {
    expect(deleteTargetQuerySchema.parse({})).toEqual({ force: false });
    expect(deleteTargetQuerySchema.parse({ force: "true" })).toEqual({ force: true });
    expect(deleteTargetQuerySchema.safeParse({ force: "yes" }).success).toBe(false);
  });

  it("the checks body and the test body", () => {
    expect(targetBodySchema.parse({})).toEqual({});
    expect(targetBodySchema.parse({ target: "shop" })).toEqual({ target: "shop" });
    expect(targetBodySchema.safeParse({ target: "" }).success).toBe(false);
    expect(testTargetUrlSchema.safeParse({ databaseUrl: "http://x/y" }).success).toBe(false);
  });

  it("the default target keeps the checks key it had before targets", () => {
    expect(checksStateKey(undefined, "checks")).toBe("checks");
    expect(checksStateKey("default", "checks")).toBe("checks");
    expect(checksStateKey("ckabc", "checks")).toBe("checks:ckabc");
  });

  it("reads stored settings leniently: a broken section is dropped, the rest kept", () => {
    expect(readTargetSettings({ checksFile: "/etc/checks.yml", schedule: { cron: 5 } })).toEqual({ checksFile: "/etc/checks.yml" });
    expect(readTargetSettings(null)).toEqual({});
  });

  it("a target's own give-way: whole seconds from 0 (never) to a day (decision 189)", () => {
    const settings = (giveWaySeconds: unknown) => updateTargetSchema.safeParse({ settings: { giveWaySeconds } });
    expect(settings(0).success).toBe(true);
    expect(settings(86_400).success).toBe(true);
    for (const bad of [-1, 1.5, 86_401, "30"]) expect(settings(bad).success, String(bad)).toBe(false);
    // A broken give-way is dropped when read, the rest kept.
    expect(readTargetSettings({ giveWaySeconds: -3, checksFile: "/c.yml" })).toEqual({ checksFile: "/c.yml" });
  });

  it("a target's own directory for a copy's files: absolute, outside its files directory (decision 192)", () => {
    const settings = (s: Record<string, unknown>) => updateTargetSchema.safeParse({ settings: s });
    expect(settings({ copyFilesDir: "/srv/restored-copies", filesDir: "/srv/uploads" }).success).toBe(true);
    expect(settings({ copyFilesDir: "/srv/uploads-copies", filesDir: "/srv/uploads" }).success).toBe(true);
    for (const inside of ["/srv/uploads", "/srv/uploads/copies", "/srv/x/../uploads/copies", "/srv//uploads/./c/"]) {
      const r = settings({ copyFilesDir: inside, filesDir: "/srv/uploads/" });
      expect(r.success, inside).toBe(false);
      expect(r.error?.issues[0]).toMatchObject({ path: ["settings", "copyFilesDir"], message: expect.stringContaining("inside the files directory") });
    }
    expect(settings({ copyFilesDir: "copies" }).error?.issues[0].message).toContain("an absolute path");
    expect(settings({ copyFilesDir: "" }).success).toBe(false);
  });

  it("isInsidePosix: by segments, '..' and '.' resolved, no file system", () => {
    expect(isInsidePosix("/a/b", "/a")).toBe(true);
    expect(isInsidePosix("/a", "/a/")).toBe(true);
    expect(isInsidePosix("/ab", "/a")).toBe(false);
    expect(isInsidePosix("/a/../b", "/a")).toBe(false);
    expect(isInsidePosix("/a/b", "relative")).toBe(false);
    expect(isInsidePosix("/anything", "/")).toBe(true);
  });
});

describe("names that would collide in storage", () => {
  it("refuses the storage folders beside the targets and four-digit names", async () => {
    const { createTargetSchema, RESERVED_TARGET_NAMES } = await import("./targets");
    const { RESERVED_TARGET_SEGMENTS } = await import("../backup/manifest");
    for (const seg of RESERVED_TARGET_SEGMENTS) expect(RESERVED_TARGET_NAMES).toContain(seg);
    const base = { environment: "prod", databaseUrl: "postgresql://u:p@h/db" };
    for (const name of ["audit", "targets", "2026", "default", "test"]) expect(createTargetSchema.safeParse({ ...base, name }).success, name).toBe(false);
    for (const name of ["shop-prod", "20261", "crm"]) expect(createTargetSchema.safeParse({ ...base, name }).success, name).toBe(true);
  });
});
