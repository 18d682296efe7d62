import { describe, expect, it } from "vitest";
import { sessionProblem } from "./session-policy";

const now = new Date("2026-12-01T12:00:00Z");
const at = (daysAgo: number) => now.getTime() / 1000 - daysAgo * 86_400;
const user = { sessionVersion: 3, disabledAt: null };

describe("sessionProblem", () => {
  it("accepts a session of the current version within the absolute lifetime", () => {
    expect(sessionProblem({ sv: 3, authAt: at(6.9) }, user, 7, now)).toBeNull();
  });

  it("refuses a session issued before the version was bumped (password, role, sign-out everywhere)", () => {
    expect(sessionProblem({ sv: 2, authAt: at(0) }, user, 7, now)).toBe("session revoked");
  });

  it("refuses sessions older than SESSION_MAX_DAYS, however recently they were used", () => {
    expect(sessionProblem({ sv: 3, authAt: at(7.01) }, user, 7, now)).toMatch(/SESSION_MAX_DAYS/);
    expect(sessionProblem({ sv: 3, authAt: at(1.5) }, user, 1, now)).toMatch(/SESSION_MAX_DAYS/);
  });

  it("refuses JWTs from before session versions existed, and disabled users", () => {
    expect(sessionProblem({}, user, 7, now)).toBe("session revoked");
    expect(sessionProblem({ sv: 3 }, user, 7, now)).not.toBeNull();
    expect(sessionProblem({ sv: 3, authAt: at(0) }, { sessionVersion: 3, disabledAt: now }, 7, now)).toBe("user disabled");
  });
});
