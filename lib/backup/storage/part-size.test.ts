import { describe, expect, it } from "vitest";
import { ObjectTooLargeError, S3_LIMITS, planMultipart } from "./part-size";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

describe("planMultipart", () => {
  it("keeps small archives at the preferred 8 MiB parts, four in flight, waiting in temp files: no part buffers in memory", () => {
    expect(planMultipart({ expectedBytes: 1 * MiB })).toEqual({ partSize: 8 * MiB, queueSize: 4, capacityBytes: 8 * MiB * 10_000, bufferBytes: 0, spool: true });
    expect(planMultipart({}).partSize).toBe(8 * MiB);
  });

  it("holds parts in memory only when asked to and they fit the budget", () => {
    expect(planMultipart({ expectedBytes: 1 * MiB, partsInMemory: true })).toEqual({ partSize: 8 * MiB, queueSize: 4, capacityBytes: 8 * MiB * 10_000, bufferBytes: 40 * MiB, spool: false });
    expect(planMultipart({ expectedBytes: 1 * MiB, partsInMemory: true, bufferBudgetBytes: 8 * MiB })).toMatchObject({ queueSize: 1, bufferBytes: 0, spool: true });
  });

  it("bounds the parts held at once (in flight + filling) by the budget whatever the part size, down to two", () => {
    for (const size of [1 * MiB, 78 * GiB, 100 * GiB, 200 * GiB, 400 * GiB, 2 * TiB, 5 * TiB]) {
      const p = planMultipart({ expectedBytes: size });
      expect(p.spool).toBe(true);
      expect(p.bufferBytes).toBe(0);
      expect((p.queueSize + 1) * p.partSize).toBeLessThanOrEqual(Math.max(64 * MiB, 2 * p.partSize));
    }
  });

  it("grows the part size once 8 MiB parts would pass 10,000 (~78 GiB)", () => {
    expect(planMultipart({ expectedBytes: 78 * GiB }).partSize).toBe(8 * MiB);
    const p = planMultipart({ expectedBytes: 80 * GiB });
    expect(p.partSize).toBe(9 * MiB);
    expect(p.capacityBytes).toBeGreaterThanOrEqual(80 * GiB);
  });

  it("plans a 2 TiB archive within 10,000 parts, spooled to disk: a 210 MiB part does not fit the memory budget", () => {
    const p = planMultipart({ expectedBytes: 2 * TiB });
    expect(Math.ceil((2 * TiB) / p.partSize)).toBeLessThanOrEqual(S3_LIMITS.maxParts);
    expect(p.partSize % MiB).toBe(0);
    expect(p.partSize).toBe(210 * MiB);
    expect(p.queueSize).toBe(1);
    expect(p.spool).toBe(true);
    expect(p.bufferBytes).toBe(0);
  });

  it("plans S3's largest object, 5 TiB, with parts under 5 GiB, and refuses more", () => {
    const p = planMultipart({ expectedBytes: 5 * TiB });
    expect(p.partSize).toBeLessThanOrEqual(S3_LIMITS.maxPartSize);
    expect(p.capacityBytes).toBeGreaterThanOrEqual(5 * TiB);
    expect(() => planMultipart({ expectedBytes: 5 * TiB + 1 })).toThrow(ObjectTooLargeError);
  });

  it("never goes below S3's 5 MiB minimum nor above its 5 GiB maximum", () => {
    expect(planMultipart({ preferredPartSize: 1 * MiB }).partSize).toBe(5 * MiB);
    expect(planMultipart({ expectedBytes: 50 * GiB, maxParts: 10 }).partSize).toBe(5 * GiB);
    expect(() => planMultipart({ expectedBytes: 50 * GiB + 1, maxParts: 10 })).toThrow(ObjectTooLargeError);
  });

  it("follows a lowered part-count limit", () => {
    const p = planMultipart({ expectedBytes: 64 * MiB, maxParts: 10 });
    expect(p.partSize).toBe(8 * MiB);
    const q = planMultipart({ expectedBytes: 130 * MiB, maxParts: 10 });
    expect(q.partSize).toBe(13 * MiB);
  });

  it("in memory, keeps part buffers within the budget whatever the size: fewer in flight, then spooled", () => {
    for (const size of [1 * MiB, 78 * GiB, 100 * GiB, 200 * GiB, 320 * GiB, 400 * GiB, 2 * TiB, 5 * TiB]) {
      const p = planMultipart({ expectedBytes: size, bufferBudgetBytes: 64 * MiB, partsInMemory: true });
      expect(p.bufferBytes).toBeLessThanOrEqual(64 * MiB);
      expect(p.spool).toBe(p.partSize * 2 > 64 * MiB);
      expect(p.queueSize).toBeGreaterThanOrEqual(1);
    }
    expect(planMultipart({ expectedBytes: 200 * GiB, partsInMemory: true }).queueSize).toBe(2);
    expect(planMultipart({ expectedBytes: 312 * GiB, partsInMemory: true }).spool).toBe(false);
    expect(planMultipart({ expectedBytes: 400 * GiB, partsInMemory: true }).spool).toBe(true);
  });
});
