// When a signed session stops being honoured (issue 12 §5). The JWT is rolling (12 h of
// inactivity ends it) but also carries when the user signed in and the user's session
// version at that moment: a newer version (password or role changed, user disabled,
// "sign out everywhere") or an age past SESSION_MAX_DAYS ends it, whatever its expiry.
export const SESSION_IDLE_SECONDS = 12 * 60 * 60;

export interface SessionClaims {
  /** User.sessionVersion when the session was created. */
  sv?: unknown;
  /** Sign-in time, seconds since the epoch. */
  authAt?: unknown;
}

/** Why the session is no longer valid, or null when it is. */
export function sessionProblem(
  claims: SessionClaims,
  user: { sessionVersion: number; disabledAt: Date | null },
  maxDays: number,
  now = new Date(),
): string | null {
  if (user.disabledAt) return "user disabled";
  if (typeof claims.sv !== "number" || claims.sv !== user.sessionVersion) return "session revoked";
  if (typeof claims.authAt !== "number") return "session without a sign-in time";
  if (now.getTime() / 1000 - claims.authAt > maxDays * 86_400) return "session older than SESSION_MAX_DAYS";
  return null;
}
