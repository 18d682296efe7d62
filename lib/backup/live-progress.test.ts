import { describe, expect, it } from "vitest";
import { progressColumns } from "./live-progress";

describe("progressColumns", () => {
  it("stores the counts as they are, and the total", () => {
    expect(progressColumns({ unit: "archive", read: () => 700, loaded: () => 300 }, 1000)).toEqual({ readBytes: 700n, loadedBytes: 300n, totalBytes: 1000n });
  });
  it("never past the total nor below zero", () => {
    expect(progressColumns({ unit: "stored", read: () => 1200, loaded: () => -1 }, 1000)).toEqual({ readBytes: 1000n, loadedBytes: 0n, totalBytes: 1000n });
  });
});
