import { describe, expect, it } from "vitest";
import { safeCallbackPath } from "./safe-redirect";

describe("safeCallbackPath", () => {
  it("keeps a same-origin path with its query and hash", () => {
    expect(safeCallbackPath("/deployments")).toBe("/deployments");
    expect(safeCallbackPath("/backups?kind=QUICK&offset=50#history")).toBe("/backups?kind=QUICK&offset=50#history");
    expect(safeCallbackPath("/backups/cm123abc")).toBe("/backups/cm123abc");
  });

  it.each([
    null,
    "",
    "deployments",
    "https://evil.example/backups",
    "//evil.example/backups",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "/ok\n//evil.example",
    "/login",
    "/login?callbackUrl=/x",
    "/api/backups",
  ])("refuses %j and falls back to /backups", (v) => {
    expect(safeCallbackPath(v)).toBe("/overview");
  });
});
