import { describe, expect, it } from "vitest";
import { lastSuccessAt, lockWaitWords, selectedTarget, showsAllTargets, sizeChange, sparklinePoints, switchTargetHref, targetFilter, targetLabel, targetOf, targetOrDefault, targetParam, withTarget } from "./targets-client";

describe("withTarget", () => {
  it("keeps today's URLs canonical for the default target", () => {
    expect(withTarget("/backups", "default")).toBe("/backups");
    expect(withTarget("/backups", null)).toBe("/backups");
    expect(withTarget("/backups", "")).toBe("/backups");
    expect(withTarget("/backups?target=shop-prod&status=FAILED", "default")).toBe("/backups?status=FAILED");
  });

  it("sets, replaces and keeps the other params and the hash", () => {
    expect(withTarget("/restores", "shop-prod")).toBe("/restores?target=shop-prod");
    expect(withTarget("/backups?status=FAILED&target=crm#history", "shop-prod")).toBe("/backups?status=FAILED&target=shop-prod#history");
    expect(withTarget("/backups#x", "crm")).toBe("/backups?target=crm#x");
  });
});

describe("selectedTarget and targetParam", () => {
  it("reads an absent or blank param as default and sends nothing for it", () => {
    expect(selectedTarget(null)).toBe("default");
    expect(selectedTarget("  ")).toBe("default");
    expect(selectedTarget("shop-prod")).toBe("shop-prod");
    expect(targetParam(undefined)).toEqual({});
    expect(targetParam("default")).toEqual({});
    expect(targetParam("crm")).toEqual({ target: "crm" });
  });
});

describe("lastSuccessAt", () => {
  it("accepts a time or a backup, and refuses nonsense", () => {
    expect(lastSuccessAt("2026-12-01T02:00:00.000Z")).toEqual({ at: "2026-12-01T02:00:00.000Z", id: null });
    expect(lastSuccessAt({ id: "b1", completedAt: "2026-12-01T02:05:00.000Z", createdAt: "2026-12-01T02:00:00.000Z" })).toEqual({
      at: "2026-12-01T02:05:00.000Z",
      id: "b1",
    });
    expect(lastSuccessAt({ id: "b1", completedAt: null, createdAt: "2026-12-01T02:00:00.000Z" })?.at).toBe("2026-12-01T02:00:00.000Z");
    expect(lastSuccessAt(null)).toBeNull();
    expect(lastSuccessAt("yesterday")).toBeNull();
    expect(lastSuccessAt({})).toBeNull();
  });
});

describe("sparklinePoints", () => {
  it("draws oldest left, newest right, the largest at the top", () => {
    const p = sparklinePoints([100, 300, 200], 104, 24, 2);
    expect(p.map((x) => x.x)).toEqual([2, 52, 102]);
    expect(p[0].y).toBe(22);
    expect(p[1].y).toBe(2);
    expect(p[2].y).toBe(12);
  });

  it("draws equal sizes and a single size flat in the middle, and nothing for none", () => {
    expect(sparklinePoints([5, 5, 5], 100, 20).every((p) => p.y === 10)).toBe(true);
    expect(sparklinePoints([7], 100, 20)).toEqual([
      { x: 2, y: 10 },
      { x: 98, y: 10 },
    ]);
    expect(sparklinePoints([], 100, 20)).toEqual([]);
    expect(sparklinePoints([Number.NaN, -1], 100, 20)).toEqual([]);
  });
});

describe("sizeChange and targetLabel", () => {
  it("compares newest with oldest", () => {
    expect(sizeChange([100, 150, 112])).toBeCloseTo(0.12);
    expect(sizeChange([100])).toBeNull();
    expect(sizeChange([0, 10])).toBeNull();
  });

  it("names a target with its environment", () => {
    expect(targetLabel({ name: "shop-prod", environment: "prod" })).toBe("shop-prod (prod)");
    expect(targetLabel({ name: "x", environment: "" })).toBe("x");
  });
});

describe("targetOf", () => {
  it("reads the target of a row, and nothing from a row without one", () => {
    expect(targetOf({ id: "b", target: { id: "t1", name: "shop-prod", environment: "prod" } })).toEqual({ id: "t1", name: "shop-prod", environment: "prod" });
    expect(targetOf({ id: "b" })).toBeNull();
    expect(targetOf({ target: { name: "x" } })).toBeNull();
    expect(targetOf(null)).toBeNull();
  });

  it("treats a row without a target as the default target's", () => {
    expect(targetOrDefault({ id: "b" })).toEqual({ id: "default", name: "default", environment: "" });
    expect(targetOrDefault({ target: { id: "t1", name: "crm", environment: "staging" } }).name).toBe("crm");
  });
});

describe("switchTargetHref", () => {
  it("keeps a list's filters, restarts its pages, and drops the param for default", () => {
    expect(switchTargetHref("/backups", "status=FAILED&offset=50", "shop-prod")).toBe("/backups?status=FAILED&target=shop-prod");
    expect(switchTargetHref("/restores", "target=shop-prod&offset=25", "default")).toBe("/restores");
  });

  it("goes from a detail page to its list, and from the overview to the target's backups", () => {
    expect(switchTargetHref("/backups/cm123", "", "crm")).toBe("/backups?target=crm");
    expect(switchTargetHref("/restores/cm9", "target=crm", "shop-prod")).toBe("/restores?target=shop-prod");
    expect(switchTargetHref("/overview", "", "shop-prod")).toBe("/backups?target=shop-prod");
  });

  it("leaves other pages where they are, carrying the choice", () => {
    expect(switchTargetHref("/audit", "action=backup.deleted", "crm")).toBe("/audit?action=backup.deleted&target=crm");
  });

  it("on the audit log names `default` and lets \"\" mean every target (decision 110)", () => {
    expect(switchTargetHref("/audit", "action=backup.deleted&offset=50", "default")).toBe("/audit?action=backup.deleted&target=default");
    expect(switchTargetHref("/audit", "target=crm&offset=50", "")).toBe("/audit");
    expect(showsAllTargets("/audit")).toBe(true);
    expect(showsAllTargets("/backups")).toBe(false);
    expect(targetFilter(" ")).toBeUndefined();
    expect(targetFilter("default")).toBe("default");
  });
});

describe("the overview card's words for a backup and a migration waiting for each other", () => {
  it("whom the backup holds up, how many more and behind; whose lock it waits for", () => {
    expect(
      lockWaitWords({
        backupId: "b1",
        blocking: { sessions: 2, behind: 17, seconds: 41, application: "release-migrate", table: "public.orders" },
        waiting: { table: "public.customers", seconds: 12, application: "migrate", pid: 4242 },
      }),
    ).toEqual([
      'The backup holds up "release-migrate" on public.orders and 1 more for 41 s; 17 queries wait behind.',
      'The backup has waited 12 s for a lock on public.customers held by "migrate" (pid 4242).',
    ]);
    expect(lockWaitWords({ backupId: "b1", blocking: { sessions: 1, behind: 1, seconds: 3, application: null, table: null }, waiting: null })).toEqual([
      "The backup holds up a session for 3 s; 1 query waits behind.",
    ]);
    expect(lockWaitWords({ backupId: "b1", blocking: null, waiting: { table: null, seconds: 5, application: null, pid: 7 } })).toEqual(["The backup has waited 5 s for a lock held by pid 7."]);
  });
});
