// The bench and the e2e server run a snapshot of HEAD keyed on the app's inputs
// (tests/support/app.ts). proxy.ts was missing from them, so a change to the security
// headers alone reused the previous build. Every tracked top-level entry must now be
// listed as an input or as not one.
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { APP_INPUTS, NOT_APP_INPUTS } from "./support/app";

describe("the app snapshot's inputs", () => {
  it("cover every tracked top-level file and folder, each on one list", () => {
    const tracked = execFileSync("git", ["ls-tree", "--name-only", "HEAD"], { encoding: "utf8" }).trim().split("\n");
    expect([...APP_INPUTS, ...NOT_APP_INPUTS].sort()).toEqual([...new Set([...APP_INPUTS, ...NOT_APP_INPUTS])].sort());
    expect(tracked.filter((n) => !APP_INPUTS.includes(n) && !NOT_APP_INPUTS.includes(n))).toEqual([]);
    expect(APP_INPUTS).toContain("proxy.ts");
  });
});
