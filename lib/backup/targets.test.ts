import { describe, expect, it } from "vitest";
import type { BackupContext } from "./context";
import { contextForTarget, type TargetRow } from "./targets";
import { encryptTargetUrl } from "./target-secret";

const SECRET = "a-secret-of-at-least-thirty-two-characters";
const app = {
  targetUrl: "postgresql://app@db/app",
  targetSecret: SECRET,
  env: "prod",
  backupGiveWaySeconds: 10,
} as unknown as BackupContext;

const row = (over: Partial<TargetRow>): TargetRow =>
  ({ id: "t1", name: "shop", environment: "prod", databaseUrlEncrypted: encryptTargetUrl(SECRET, "postgresql://shop@db2/shop"), host: "db2", database: "shop", isDefault: false, settings: {}, ...over }) as TargetRow;

describe("contextForTarget: a scheduled backup's give-way (decision 189)", () => {
  it("is BACKUP_GIVE_WAY_SECONDS's unless the target sets its own, 0 included", () => {
    expect(contextForTarget(app, row({}))).toMatchObject({ backupGiveWaySeconds: 10, targetUrl: "postgresql://shop@db2/shop" });
    expect(contextForTarget(app, row({})).backupGiveWaySetBy).toBeUndefined();
    expect(contextForTarget(app, row({ settings: { giveWaySeconds: 0 } }))).toMatchObject({ backupGiveWaySeconds: 0, backupGiveWaySetBy: "target" });
    expect(contextForTarget(app, row({ settings: { giveWaySeconds: 45 } }))).toMatchObject({ backupGiveWaySeconds: 45, backupGiveWaySetBy: "target" });
  });

  it("applies to the default target too, whose URL stays TARGET_DATABASE_URL", () => {
    const def = row({ id: "default", name: "default", isDefault: true, databaseUrlEncrypted: null, settings: { giveWaySeconds: 20 } });
    expect(contextForTarget(app, def)).toMatchObject({ backupGiveWaySeconds: 20, backupGiveWaySetBy: "target", targetUrl: "postgresql://app@db/app" });
  });

  it("never carries one target's setting into another's context", () => {
    const shop = contextForTarget(app, row({ settings: { giveWaySeconds: 45 } }));
    const other = contextForTarget(shop, row({ id: "t2", name: "crm" }));
    expect(other).toMatchObject({ backupGiveWaySeconds: 10 });
    expect(other.backupGiveWaySetBy).toBeUndefined();
  });
});

describe("contextForTarget: where a copy restore puts the files (decision 192)", () => {
  const withDir = { ...app, restoreCopyFilesDir: "/srv/copies" } as BackupContext;
  it("is RESTORE_COPY_FILES_DIR unless the target names its own, the default target included", () => {
    expect(contextForTarget(withDir, row({}))).toMatchObject({ restoreCopyFilesDir: "/srv/copies" });
    expect(contextForTarget(withDir, row({})).restoreCopyFilesDirSetBy).toBeUndefined();
    expect(contextForTarget(withDir, row({ settings: { copyFilesDir: "/srv/shop-copies" } }))).toMatchObject({ restoreCopyFilesDir: "/srv/shop-copies", restoreCopyFilesDirSetBy: "target" });
    const def = row({ id: "default", name: "default", isDefault: true, databaseUrlEncrypted: null, settings: { copyFilesDir: "/srv/app-copies" } });
    expect(contextForTarget(withDir, def)).toMatchObject({ restoreCopyFilesDir: "/srv/app-copies", restoreCopyFilesDirSetBy: "target" });
  });

  it("never carries one target's directory into another's context", () => {
    const shop = contextForTarget(withDir, row({ settings: { copyFilesDir: "/srv/shop-copies" } }));
    const other = contextForTarget(shop, row({ id: "t2", name: "crm" }));
    expect(other).toMatchObject({ restoreCopyFilesDir: "/srv/copies" });
    expect(other.restoreCopyFilesDirSetBy).toBeUndefined();
  });
});
