import { describe, expect, it, vi } from "vitest";

describe("poolOf", () => {
  it("finds the pool of a client made by another copy of the module (Next bundles lib/db.ts into several chunks)", async () => {
    const a = await import("./db");
    vi.resetModules();
    const b = await import("./db");
    expect(b).not.toBe(a);
    const client = a.createDb("postgresql://nobody@127.0.0.1:1/none");
    try {
      expect(b.poolOf(client)).toBeDefined();
      expect(b.poolOf(client)).toBe(a.poolOf(client));
    } finally {
      await client.$disconnect();
    }
  });
});
