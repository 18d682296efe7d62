// Sign-in throttling: 10 failures in 15 minutes per email or per IP → refused (429).
// Counted in the database so that every replica sees the same number.
import type { Db } from "./db";

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_MAX_FAILURES = 10;

export async function isLoginLimited(db: Db, email: string, ip: string, now = new Date()): Promise<boolean> {
  const since = new Date(now.getTime() - LOGIN_WINDOW_MS);
  const [byEmail, byIp] = await Promise.all([
    db.loginAttempt.count({ where: { email: email.toLowerCase(), at: { gte: since } } }),
    db.loginAttempt.count({ where: { ip, at: { gte: since } } }),
  ]);
  return byEmail >= LOGIN_MAX_FAILURES || byIp >= LOGIN_MAX_FAILURES;
}

export async function recordLoginFailure(db: Db, email: string, ip: string): Promise<void> {
  await db.loginAttempt.create({ data: { email: email.toLowerCase(), ip } });
  // Old rows carry no information; trimming here keeps the table small without a job.
  await db.loginAttempt.deleteMany({ where: { at: { lt: new Date(Date.now() - LOGIN_WINDOW_MS) } } });
}

export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await db.loginAttempt.deleteMany({ where: { email: email.toLowerCase() } });
}
