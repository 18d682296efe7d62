import { describe, expect, it } from "vitest";
import { estimateArchiveBytes, PREVIOUS_ARCHIVE_HEADROOM } from "./size-estimate";

describe("estimateArchiveBytes", () => {
  it("takes the larger of the database size and the previous archive × headroom", () => {
    expect(estimateArchiveBytes(2e12, 3e11)).toBe(2e12);
    expect(estimateArchiveBytes(1e9, 4e8)).toBe(4e8 * PREVIOUS_ARCHIVE_HEADROOM);
  });
  it("uses whichever is known, and nothing when neither is", () => {
    expect(estimateArchiveBytes(null, 1e9)).toBe(1e9 * PREVIOUS_ARCHIVE_HEADROOM);
    expect(estimateArchiveBytes(5e9, null)).toBe(5e9);
    expect(estimateArchiveBytes(null, null)).toBeNull();
  });
});
