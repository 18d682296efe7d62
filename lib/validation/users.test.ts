import { describe, expect, it } from "vitest";
import { createTokenSchema, createUserSchema } from "./users";

describe("createTokenSchema", () => {
  const token = { name: "ci", scopes: ["backups:read"] };

  it("says what expiresAt expects when it cannot be read as a date (not zod's 'expected date, received Date')", () => {
    for (const expiresAt of ["tomorrow", "", 1_900_000_000_000, true]) {
      const issues = createTokenSchema.safeParse({ ...token, expiresAt }).error?.issues;
      expect(issues, String(expiresAt)).toEqual([expect.objectContaining({ path: ["expiresAt"], message: "an ISO 8601 date-time, like 2026-12-31T23:59:59Z" })]);
    }
    expect(createTokenSchema.safeParse({ ...token, expiresAt: "2020-01-01T00:00:00Z" }).error?.issues[0].message).toBe("must be in the future");
    expect(createTokenSchema.parse({ ...token, expiresAt: "2099-12-31T23:59:59Z" }).expiresAt).toEqual(new Date("2099-12-31T23:59:59Z"));
  });

  it("refuses a field it does not know (a role for the token, say) instead of dropping it", () => {
    expect(createTokenSchema.safeParse({ ...token, role: "ADMIN" }).error?.issues).toEqual([expect.objectContaining({ code: "unrecognized_keys", keys: ["role"] })]);
    expect(createUserSchema.safeParse({ email: "a@b.c", displayName: "A", role: "VIEWER", password: "0123456789", admin: true }).success).toBe(false);
  });
});
