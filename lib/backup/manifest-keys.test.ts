import { describe, expect, it } from "vitest";
import { backupKeys, keysForJob, legacyBackupKeys, RESERVED_TARGET_SEGMENTS } from "./manifest";

const at = new Date("2026-12-01T03:00:00Z");

describe("backup keys per target", () => {
  it("puts every new backup under <prefix>/<env>/<target>/YYYY/MM/<id>, default included", () => {
    expect(backupKeys("backups", "prod", "b1", at).dir).toBe("backups/prod/default/2026/12/b1");
    expect(backupKeys("backups", "staging", "b2", at, "shop-staging").manifest).toBe("backups/staging/shop-staging/2026/12/b2/manifest.json");
  });

  it("refuses a target name that is not a safe key segment or would mix with the audit, restore or deployment records", () => {
    expect(() => backupKeys("backups", "prod", "b1", at, "../x")).toThrow(/invalid target name/);
    expect(() => backupKeys("backups", "prod", "b1", at, "Shop")).toThrow(/invalid target name/);
    for (const name of RESERVED_TARGET_SEGMENTS) expect(() => backupKeys("backups", "prod", "b1", at, name)).toThrow(/invalid target name/);
  });

  it("knows where backups from before targets are", () => {
    expect(legacyBackupKeys("backups", "prod", "b1", at).dir).toBe("backups/prod/2026/12/b1");
  });

  it("finds a finished backup where its row says it was written, in either layout, and never moves it", () => {
    const ctx = { prefix: "backups", env: "prod", target: { name: "shop" } };
    // Written before targets: the row's key is the old layout, and that is where it stays.
    const old = keysForJob(ctx, { id: "b1", createdAt: at, storageKey: "backups/prod/2026/11/b1/archive.dump.gpg", metadata: {} });
    expect(old.manifest).toBe("backups/prod/2026/11/b1/manifest.json");
    // A QUICK backup records its manifest only (and a re-encrypted part another name).
    expect(keysForJob(ctx, { id: "q1", createdAt: at, storageKey: null, metadata: { manifestKey: "backups/prod/shop/2026/12/q1/manifest.json" } }).dir).toBe(
      "backups/prod/shop/2026/12/q1",
    );
    // Nothing written yet: the current layout under the context's target.
    expect(keysForJob(ctx, { id: "n1", createdAt: at }).dir).toBe("backups/prod/shop/2026/12/n1");
    expect(keysForJob({ prefix: "backups", env: "prod" }, { id: "n1", createdAt: at }).dir).toBe("backups/prod/default/2026/12/n1");
    // A key that is not this job's directory is not trusted.
    expect(keysForJob(ctx, { id: "n2", createdAt: at, storageKey: "backups/prod/2026/12/other/archive.dump.gpg" }).dir).toBe("backups/prod/shop/2026/12/n2");
  });
});
