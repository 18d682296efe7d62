import { describe, expect, it } from "vitest";
import { isWithin } from "./path-within";

describe("isWithin", () => {
  it("the directory itself and what is under it, not its neighbours or parents", () => {
    expect(isWithin("/srv/uploads", "/srv/uploads")).toBe(true);
    expect(isWithin("/srv/uploads/copies", "/srv/uploads/")).toBe(true);
    expect(isWithin("/srv/uploads/..copies", "/srv/uploads")).toBe(true);
    expect(isWithin("/srv/uploads/../copies", "/srv/uploads")).toBe(false);
    expect(isWithin("/srv/uploads-copies", "/srv/uploads")).toBe(false);
    expect(isWithin("/srv", "/srv/uploads")).toBe(false);
  });
});
