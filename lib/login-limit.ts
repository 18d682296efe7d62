// Sign-in throttling: more than 10 attempts in 15 minutes per email or per IP → refused
// (429). Counted in the database so that every replica sees the same number.
// Every attempt is recorded *before* it is counted and before any password check: N
// parallel attempts then see at least 1, 2, …, N rows, so no more than the limit ever
// reach a password comparison (a check-then-record race let whole bursts through).
// A successful sign-in removes the email's rows, its own included.
import type { Db } from "./db";

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_MAX_FAILURES = 10;

export interface LoginAttempt {
  limited: boolean;
  /** Seconds until the oldest counted attempt leaves the window (for Retry-After). */
  retryAfterSeconds: number;
}

export async function recordLoginAttempt(db: Db, email: string, ip: string, now = new Date()): Promise<LoginAttempt> {
  const e = email.toLowerCase();
  await db.loginAttempt.create({ data: { email: e, ip, at: now } });
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const [byEmail, byIp] = await Promise.all([
    db.loginAttempt.count({ where: { email: e, at: { gte: since } } }),
    db.loginAttempt.count({ where: { ip, at: { gte: since } } }),
  ]);
  // Old rows carry no information; trimming here keeps the table small without a job.
  await db.loginAttempt.deleteMany({ where: { at: { lt: since } } });
  const limited = byEmail > LOGIN_MAX_FAILURES || byIp > LOGIN_MAX_FAILURES;
  if (!limited) return { limited, retryAfterSeconds: 0 };
  const oldest = await db.loginAttempt.findFirst({
    where: { OR: [{ email: e }, { ip }], at: { gte: since } },
    orderBy: { at: "asc" },
    select: { at: true },
  });
  const until = (oldest?.at.getTime() ?? now.getTime()) + LOGIN_WINDOW_MS;
  return { limited, retryAfterSeconds: Math.max(1, Math.ceil((until - now.getTime()) / 1000)) };
}

export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.loginAttempt.deleteMany({ where: { email: email.toLowerCase() } });
}
