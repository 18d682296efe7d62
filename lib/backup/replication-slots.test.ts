import { describe, expect, it } from "vitest";
import { slotsAfterRestore, slotsWarning, type ReplicationSlot } from "./replication-slots";
import { subscriptionNotes } from "./subscriptions";
import { preparedProblem } from "./restore-plan";

const slot = (name: string, active = false): ReplicationSlot => ({ name, plugin: "pgoutput", active, retainedBytes: 0 });

describe("what a restore says about a database's logical replication", () => {
  it("says nothing without slots, subscriptions or prepared transactions", () => {
    expect(slotsWarning([], "swap", 24)).toBeNull();
    expect(slotsAfterRestore([], { strategy: "in-place" })).toBeNull();
    expect(subscriptionNotes([])).toEqual([]);
    expect(preparedProblem({ preparedTransactions: [] })).toBeNull();
  });

  it("names each slot, its plugin and whether it is read now, in the strategy's terms", () => {
    const swap = slotsWarning([slot("feed", true)], "swap", 48)!;
    expect(swap).toContain("logical replication slot feed (pgoutput, a consumer is reading it now)");
    expect(swap).toContain("it stays with the previous database, kept for Undo for 48 h");
    const inPlace = slotsWarning([slot("a"), slot("b")], "in-place", 24)!;
    expect(inPlace).toContain("slots a (pgoutput), b (pgoutput)");
    expect(inPlace).toContain("they stay on this database and decode the restore");
  });

  it("records where the slots went after the restore", () => {
    const at = new Date("2026-12-05T10:00:00Z");
    expect(slotsAfterRestore([slot("feed")], { strategy: "swap", previous: "shop__before_x", keepUntil: at })).toContain(
      "slot feed stayed with the previous database shop__before_x: its consumer has stopped",
    );
    expect(slotsAfterRestore([slot("feed")], { strategy: "swap", previous: "p", keepUntil: at })).toContain("2026-12-05T10:00:00.000Z");
    expect(slotsAfterRestore([slot("a"), slot("b")], { strategy: "in-place" })).toContain("slots a, b decoded the restore");
  });

  it("tells a ready subscription from one that must not only be enabled", () => {
    const [ready, notReady] = subscriptionNotes([
      { name: "feed", ready: true },
      { name: "Odd Name", ready: false, reason: "could not connect to the publisher" },
    ]);
    expect(ready).toContain('ALTER SUBSCRIPTION "feed" ENABLE replays what its slot holds');
    expect(notReady).toContain("Subscription Odd Name is disabled and its tables could not be registered again (could not connect to the publisher)");
    expect(notReady).toContain("Do not only ENABLE it");
  });

  it("names prepared transactions, five at most, and how to finish them", () => {
    const t = (gid: string) => ({ gid, owner: "app", prepared: "2026-12-04 10:00:00 UTC" });
    expect(preparedProblem({ preparedTransactions: [t("xa1")] })).toMatch(/^A transaction prepared for two-phase commit holds the target's database: 'xa1' \(by app, prepared 2026-12-04 10:00:00 UTC\)\. It keeps its locks/);
    const many = preparedProblem({ preparedTransactions: ["1", "2", "3", "4", "5", "6", "7"].map(t) })!;
    expect(many).toMatch(/^7 transactions prepared for two-phase commit hold/);
    expect(many).toContain("'5' (by app, prepared 2026-12-04 10:00:00 UTC), and 2 more");
    expect(many).not.toContain("'6'");
  });
});
