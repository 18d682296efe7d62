// The bench's results are named by the commit they were measured at, and a run never writes
// over earlier results: the committed figures of issue 14 were overwritten by the next run
// of the same day (`<date>.json`) and had to be restored from git by hand.
import { describe, expect, it } from "vitest";
import { resultName } from "../bench/report";

const clean = { sha: "92781e8a1b2c", libChanged: false };

describe("resultName", () => {
  it("says the day, the commit, the dataset and the label", () => {
    expect(resultName({ day: "2026-12-07", commit: clean, dataset: "app" }, new Set())).toBe("2026-12-07-92781e8-app");
    expect(resultName({ day: "2026-12-07", commit: clean, dataset: "pgbench-s50", label: "arena-lab" }, new Set())).toBe("2026-12-07-92781e8-pgbench-s50-arena-lab");
    expect(resultName({ day: "2026-12-07", commit: { sha: "92781e8a1b2c", libChanged: true }, dataset: "app-64mb" }, new Set())).toBe("2026-12-07-92781e8-dirty-app-64mb");
    expect(resultName({ day: "2026-12-07", commit: { sha: null, libChanged: false }, dataset: "app" }, new Set())).toBe("2026-12-07-nogit-app");
  });

  it("never takes a name an earlier run's .json or .md has", () => {
    const r = { day: "2026-12-07", commit: clean, dataset: "app" };
    expect(resultName(r, new Set(["2026-12-07-92781e8-app.json", "2026-12-07-92781e8-app.md"]))).toBe("2026-12-07-92781e8-app-2");
    expect(resultName(r, new Set(["2026-12-07-92781e8-app.md", "2026-12-07-92781e8-app-2.json"]))).toBe("2026-12-07-92781e8-app-3");
    expect(resultName(r, new Set(["2026-12-07-92781e8-app-profile.json"]))).toBe("2026-12-07-92781e8-app");
  });
});
