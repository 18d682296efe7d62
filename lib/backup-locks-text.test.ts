import { describe, expect, it } from "vitest";
import { describeBackupWait, describeBlockedSession, gaveWayReason, lockTimeoutReason } from "./backup-locks-text";
import { GaveWayError, isLockTimeout } from "./backup/backup-locks";

const holder = { pid: 4242, user: "app", application: "migrate", state: "idle in transaction", kind: "client backend", client: null, transactionSeconds: 61 };
const blocked = { ...holder, pid: 5151, state: "active", table: "public.orders", mode: "AccessExclusiveLock", seconds: 3, behind: 1 };

describe("a backup's locks in words", () => {
  it("names whose lock the dump waits for, and says so when pg_blocking_pids named no one", () => {
    expect(describeBackupWait({ pid: 1, table: "public.customers", seconds: 12, heldBy: [holder] })).toBe(
      'waited 12 s for a lock on public.customers held by pid 4242 (user app, application "migrate"), idle in transaction (transaction open 1 min 1 s)',
    );
    expect(describeBackupWait({ pid: 1, table: null, seconds: 2, heldBy: [] })).toBe("waited 2 s for a lock held by another session");
  });

  it("counts those queued behind a held-up session, in the present and the past", () => {
    expect(describeBlockedSession(blocked)).toMatch(/has waited 3 s for the backup's lock on public\.orders \(AccessExclusiveLock\); 1 session waits behind it$/);
    expect(describeBlockedSession({ ...blocked, behind: 0 })).toMatch(/\(AccessExclusiveLock\)$/);
    expect(describeBlockedSession({ ...blocked, behind: 4 }, { past: true })).toMatch(/ waited 3 s .*; 4 sessions waited behind it$/);
  });

  it("the lock timeout's reason names the holder when a sample saw it, and what to do either way", () => {
    const named = lockTimeoutReason(300, { pid: 1, table: "public.customers", seconds: 298, heldBy: [holder, { ...holder, pid: 4343 }] });
    expect(named).toMatch(/^pg_dump waited 5 min for a lock on public\.customers held by pid 4242 .*; pid 4343 .*gave up after 5 min \(BACKUP_LOCK_WAIT_SECONDS\)/);
    expect(named).toContain("SELECT pg_terminate_backend(4242), pg_terminate_backend(4343)");
    const unnamed = lockTimeoutReason(60, null);
    expect(unnamed).toMatch(/^pg_dump waited for a lock another session held, and gave up after 1 min/);
    expect(unnamed).toContain("pg_blocking_pids");
  });

  it("a scheduled backup that gave way says to whom, after how long, and that it is retried (decision 187)", () => {
    expect(gaveWayReason({ ...blocked, seconds: 10, behind: 17 }, 10)).toBe(
      'Gave way to pid 5151 (user app, application "migrate"), active (transaction open 1 min 1 s) has waited 10 s for the backup\'s lock on public.orders (AccessExclusiveLock); 17 sessions wait behind it (BACKUP_GIVE_WAY_SECONDS=10): the backup stopped so that it could go on. A scheduled backup is retried; if a migration keeps meeting it, deploy through the gate, which holds deploys while a backup dumps.',
    );
    const e = new GaveWayError(blocked, 5);
    expect(e.message).toBe(gaveWayReason(blocked, 5));
    expect(e.session.pid).toBe(5151);
    // Set by the target's own settings (decision 189): the words say where to change it.
    expect(new GaveWayError(blocked, 30, "target").message).toContain("(the target's settings: give way after 30 s): the backup stopped");
    expect(new GaveWayError(blocked, 30, "target").message).not.toContain("BACKUP_GIVE_WAY_SECONDS");
  });

  it("tells pg_dump's lock timeout from other failures", () => {
    expect(isLockTimeout("pg_dump: error: query failed: ERROR:  canceling statement due to statement timeout")).toBe(true);
    expect(isLockTimeout("pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout")).toBe(true);
    expect(isLockTimeout("ERROR:  canceling statement due to conflict with recovery")).toBe(false);
    expect(isLockTimeout("The backup took longer than 60 minutes (BACKUP_TIMEOUT_MINUTES) and was stopped")).toBe(false);
  });
});
