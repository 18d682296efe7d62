import { describe, expect, it } from "vitest";
import { connectTimeoutMs } from "./pg-client";
import { pinnedTarget } from "./pinned-host";

describe("connect_timeout as libpq reads it (decision 190)", () => {
  it("seconds, at least 2, whole; none for 0, absent or unreadable", () => {
    expect(connectTimeoutMs("postgresql://u@h/db?connect_timeout=5")).toBe(5000);
    expect(connectTimeoutMs("postgresql://u@h/db?connect_timeout=1")).toBe(2000);
    expect(connectTimeoutMs("postgresql://u@h/db?connect_timeout=7.9")).toBe(7000);
    expect(connectTimeoutMs("postgresql://u@h1:5432,h2:5432/db?connect_timeout=3")).toBe(3000);
    for (const none of ["postgresql://u@h/db", "postgresql://u@h/db?connect_timeout=0", "postgresql://u@h/db?connect_timeout=soon"]) expect(connectTimeoutMs(none)).toBeNull();
  });
});

describe("pinnedTarget", () => {
  it("gives a one-host URL back as it is, without a session", async () => {
    // Nothing listens there: a session would fail.
    const url = "postgresql://u:pw@nowhere.invalid:1/db?sslmode=disable";
    await expect(pinnedTarget(url)).resolves.toBe(url);
  });
});
