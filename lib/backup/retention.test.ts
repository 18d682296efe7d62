import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  planRetention,
  type RetentionCandidate,
  type RetentionPolicy,
  type RetentionStatus,
} from "./retention";

const NOW = new Date("2026-11-21T12:00:00Z");
const DAY = 24 * 60 * 60 * 1000;

function backup(
  id: string,
  ageDays: number,
  over: Partial<Omit<RetentionCandidate, "id" | "createdAt">> = {},
): RetentionCandidate {
  const createdAt = new Date(NOW.getTime() - ageDays * DAY);
  const status = over.status ?? "SUCCEEDED";
  return {
    id,
    kind: "FULL",
    trigger: "SCHEDULED",
    status,
    createdAt,
    completedAt: status === "QUEUED" || status === "RUNNING" ? null : new Date(createdAt.getTime() + 60_000),
    ...over,
  };
}

const policy = (p: Partial<RetentionPolicy> = {}): RetentionPolicy => ({
  days: 30,
  keepLast: 10,
  keepQuick: 10,
  keepDaily: 0,
  keepWeekly: 0,
  keepMonthly: 0,
  keepYearly: 0,
  ...p,
});

function plan(backups: RetentionCandidate[], p: Partial<RetentionPolicy>) {
  const r = planRetention(backups, policy(p), NOW);
  return { keep: r.keep.map((k) => k.id).sort(), prune: r.prune.map((x) => x.id).sort(), reasons: r.prune };
}

describe("planRetention", () => {
  it("does not let a FULL that failed verification stand in for the good ones (keepLast: 1)", () => {
    const r = plan(
      [backup("bad-newest", 40, { verifyStatus: "FAILED" }), backup("good", 41, { verifyStatus: "PASSED" }), backup("older-good", 50)],
      { days: 30, keepLast: 1 },
    );
    expect(r.keep).toEqual(["good"]);
    expect(r.prune).toEqual(["bad-newest", "older-good"]);
    expect(r.reasons.find((x) => x.id === "bad-newest")?.reason).toBe("older than 30 days and failed verification");
  });

  it("keeps everything newer than `days` and prunes older successful backups beyond keepLast", () => {
    const r = plan([backup("new", 29), backup("old", 31), backup("older", 40)], { days: 30, keepLast: 1 });
    // "new" is both within days and the newest FULL; "old"/"older" are past both limits.
    expect(r.keep).toEqual(["new"]);
    expect(r.prune).toEqual(["old", "older"]);
    expect(r.reasons.find((x) => x.id === "old")?.reason).toBe(
      "older than 30 days and not among the newest 1 successful FULL backups",
    );
  });

  it("treats a backup exactly `days` old as no longer newer than `days`", () => {
    const r = plan([backup("newest", 1), backup("edge", 30), backup("inside", 30 - 1 / 24)], {
      days: 30,
      keepLast: 1,
    });
    expect(r.keep).toEqual(["inside", "newest"]);
    expect(r.prune).toEqual(["edge"]);
  });

  it("keeps the newest keepLast successful FULL backups however old", () => {
    const backups = Array.from({ length: 12 }, (_, i) => backup(`f${String(i).padStart(2, "0")}`, 100 + i));
    const r = plan(backups, { days: 30, keepLast: 10 });
    expect(r.keep).toEqual(backups.slice(0, 10).map((b) => b.id).sort());
    expect(r.prune).toEqual(["f10", "f11"]);
  });

  it("with days 0 keeps only the count-based backups", () => {
    const r = plan([backup("a", 0.01), backup("b", 0.5), backup("c", 2)], { days: 0, keepLast: 2 });
    expect(r.keep).toEqual(["a", "b"]);
    expect(r.prune).toEqual(["c"]);
  });

  it("never prunes the newest successful FULL, even with days 0 and keepLast 0", () => {
    const r = plan(
      [backup("newest", 3), backup("second", 4), backup("q", 1, { kind: "QUICK" })],
      { days: 0, keepLast: 0, keepQuick: 0 },
    );
    expect(r.keep).toEqual(["newest"]);
    expect(r.prune).toEqual(["q", "second"]);
  });

  it("keeps a lone FULL backup a year old under the strictest policy", () => {
    const r = plan([backup("only", 365)], { days: 0, keepLast: 0, keepQuick: 0 });
    expect(r.keep).toEqual(["only"]);
    expect(r.prune).toEqual([]);
  });

  it("with keepLast 0 prunes old FULL backups except the newest successful one", () => {
    const r = plan([backup("a", 40), backup("b", 50), backup("c", 10)], { days: 30, keepLast: 0 });
    expect(r.keep).toEqual(["c"]);
    expect(r.prune).toEqual(["a", "b"]);
  });

  it("protects the newest SUCCESSFUL FULL, not a newer failed or QUICK one", () => {
    const r = plan(
      [
        backup("failed", 40, { status: "FAILED" }),
        backup("quick", 40, { kind: "QUICK" }),
        backup("good", 50),
        backup("older-good", 60),
      ],
      { days: 30, keepLast: 0, keepQuick: 0 },
    );
    expect(r.keep).toEqual(["good"]);
    expect(r.prune).toEqual(["failed", "older-good", "quick"]);
  });

  it("counts QUICK backups against keepQuick, separately from FULL", () => {
    const quicks = Array.from({ length: 5 }, (_, i) => backup(`q${i}`, 40 + i, { kind: "QUICK" }));
    const fulls = [backup("f0", 50), backup("f1", 51), backup("f2", 52)];
    const r = plan([...quicks, ...fulls], { days: 30, keepLast: 2, keepQuick: 3 });
    // The five newer QUICKs do not push the FULLs out of their two slots, and vice versa.
    expect(r.keep).toEqual(["f0", "f1", "q0", "q1", "q2"]);
    expect(r.prune).toEqual(["f2", "q3", "q4"]);
    expect(r.reasons.find((x) => x.id === "q3")?.reason).toBe(
      "older than 30 days and not among the newest 3 successful QUICK backups",
    );
  });

  it("keeps a PRE_RESTORE safety backup at 6 days and prunes it at 8 when days is shorter", () => {
    const r = plan(
      [
        backup("latest", 0.5),
        backup("safety6", 6, { trigger: "PRE_RESTORE" }),
        backup("safety8", 8, { trigger: "PRE_RESTORE" }),
        backup("manual6", 6, { trigger: "MANUAL" }),
      ],
      { days: 1, keepLast: 0 },
    );
    expect(r.keep).toEqual(["latest", "safety6"]);
    expect(r.prune).toEqual(["manual6", "safety8"]);
    expect(r.reasons.find((x) => x.id === "safety8")?.reason).toMatch(/safety backup older than 7 days/);
  });

  it("keeps a safety backup for the full `days` when that is longer than 7", () => {
    const r = plan([backup("latest", 0.5), backup("safety20", 20, { trigger: "PRE_RESTORE" })], {
      days: 30,
      keepLast: 0,
    });
    expect(r.keep).toEqual(["latest", "safety20"]);
  });

  it("keeps a safety backup for 7 days even with days 0", () => {
    const r = plan([backup("latest", 0.1), backup("safety", 6.9, { trigger: "PRE_RESTORE" })], {
      days: 0,
      keepLast: 0,
    });
    expect(r.keep).toEqual(["latest", "safety"]);
  });

  it("counts safety backups among the newest keepLast FULL backups", () => {
    const r = plan(
      [backup("safety", 40, { trigger: "PRE_RESTORE" }), backup("sched", 41), backup("older", 42)],
      { days: 30, keepLast: 2 },
    );
    expect(r.keep).toEqual(["safety", "sched"]);
    expect(r.prune).toEqual(["older"]);
  });

  it("never prunes QUEUED or RUNNING jobs, however old", () => {
    const r = plan(
      [
        backup("latest", 1),
        backup("running", 400, { status: "RUNNING" }),
        backup("queued", 400, { status: "QUEUED", kind: "QUICK" }),
      ],
      { days: 0, keepLast: 0, keepQuick: 0 },
    );
    expect(r.keep).toEqual(["latest", "queued", "running"]);
    expect(r.prune).toEqual([]);
  });

  it("prunes FAILED and CANCELLED rows older than `days` and keeps newer ones", () => {
    const r = plan(
      [
        backup("good", 1),
        backup("failed-new", 5, { status: "FAILED" }),
        backup("cancelled-new", 5, { status: "CANCELLED" }),
        backup("failed-old", 31, { status: "FAILED" }),
        backup("cancelled-old", 31, { status: "CANCELLED", kind: "QUICK" }),
      ],
      { days: 30, keepLast: 10 },
    );
    expect(r.keep).toEqual(["cancelled-new", "failed-new", "good"]);
    expect(r.prune).toEqual(["cancelled-old", "failed-old"]);
    expect(r.reasons.find((x) => x.id === "failed-old")?.reason).toBe("FAILED and older than 30 days");
  });

  it("does not let failed rows take keepLast slots", () => {
    const r = plan(
      [
        backup("f-fail1", 40, { status: "FAILED" }),
        backup("f-fail2", 41, { status: "FAILED" }),
        backup("ok1", 42),
        backup("ok2", 43),
        backup("ok3", 44),
      ],
      { days: 30, keepLast: 2 },
    );
    expect(r.keep).toEqual(["ok1", "ok2"]);
    expect(r.prune).toEqual(["f-fail1", "f-fail2", "ok3"]);
  });

  it("decides the same whatever the input order, and returns the input order", () => {
    const backups = [backup("a", 40), backup("b", 41), backup("c", 42), backup("d", 43)];
    const forward = planRetention(backups, policy({ keepLast: 2 }), NOW);
    const backward = planRetention([...backups].reverse(), policy({ keepLast: 2 }), NOW);
    expect(forward.keep.map((k) => k.id)).toEqual(["a", "b"]);
    expect(backward.keep.map((k) => k.id)).toEqual(["b", "a"]);
    expect(backward.prune.map((p) => p.id)).toEqual(["d", "c"]);
  });

  it("keeps a row whose date cannot be read", () => {
    const r = plan([backup("latest", 1), { ...backup("bad", 100), createdAt: new Date(Number.NaN) }], {
      days: 0,
      keepLast: 0,
    });
    expect(r.keep).toEqual(["bad", "latest"]);
  });

  it("holds its invariants for arbitrary catalogues", () => {
    const statuses: RetentionStatus[] = ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"];
    const candidate = fc.record({
      kind: fc.constantFrom("FULL" as const, "QUICK" as const),
      trigger: fc.constantFrom("MANUAL" as const, "SCHEDULED" as const, "PRE_RESTORE" as const, "API" as const),
      status: fc.constantFrom(...statuses),
      ageDays: fc.double({ min: 0, max: 400, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.array(candidate, { maxLength: 40 }),
        fc.record({
          days: fc.integer({ min: 0, max: 60 }),
          keepLast: fc.integer({ min: 0, max: 5 }),
          keepQuick: fc.integer({ min: 0, max: 5 }),
        }),
        (items, p) => {
          const backups = items.map((x, i) =>
            backup(`b${i}`, x.ageDays, { kind: x.kind, trigger: x.trigger, status: x.status }),
          );
          const r = planRetention(backups, policy(p), NOW);
          const pruned = new Set(r.prune.map((x) => x.id));
          // Every backup is decided exactly once.
          expect(r.keep.length + r.prune.length).toBe(backups.length);
          expect(new Set([...r.keep.map((k) => k.id), ...pruned]).size).toBe(backups.length);
          for (const b of backups) {
            const age = (NOW.getTime() - b.createdAt.getTime()) / DAY;
            if (!pruned.has(b.id)) continue;
            expect(["QUEUED", "RUNNING"]).not.toContain(b.status);
            expect(age).toBeGreaterThanOrEqual(p.days);
            if (b.trigger === "PRE_RESTORE") expect(age).toBeGreaterThanOrEqual(7);
          }
          const fulls = backups.filter((b) => b.status === "SUCCEEDED" && b.kind === "FULL");
          const keptFulls = fulls.filter((b) => !pruned.has(b.id));
          if (fulls.length > 0) {
            const newest = Math.max(...fulls.map((b) => b.createdAt.getTime()));
            expect(keptFulls.some((b) => b.createdAt.getTime() === newest)).toBe(true);
          }
          expect(keptFulls.length).toBeGreaterThanOrEqual(Math.min(Math.max(p.keepLast, 1), fulls.length));
        },
      ),
      { numRuns: 300 },
    );
  });
});
