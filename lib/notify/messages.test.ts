import { describe, expect, it } from "vitest";
import { backupEventMessage, humanSeconds, type BackupSummary } from "./messages";
import { formatBytes } from "../format";

const NOW = new Date("2026-11-21T02:00:05Z");

const backup: BackupSummary = {
  id: "b1",
  status: "FAILED",
  kind: "FULL",
  trigger: "SCHEDULED",
  sizeBytes: null,
  durationSeconds: 3,
  failureReason: "pg_dump: connection refused",
};

describe("humanSeconds", () => {
  it("renders seconds", () => {
    expect(humanSeconds(4.25)).toBe("4.3 s");
    expect(humanSeconds(35.4)).toBe("35 s");
    expect(humanSeconds(3725)).toBe("3725 s");
    expect(humanSeconds(null)).toBe("unknown duration");
  });
});

describe("backupEventMessage", () => {
  it("names the attempt of a failed backup and says whether it will retry", () => {
    const m = backupEventMessage({ type: "backup.failed", backup, attempt: 2, maxAttempts: 3 }, NOW);
    expect(m.text).toBe(":x: Vaultline backup FAILED (FULL, scheduled, attempt 2 of 3): pg_dump: connection refused");
    expect(m.subject).toBe("[Vaultline] Backup FAILED (FULL, scheduled, attempt 2 of 3)");
    expect(m.body).toContain("Vaultline will try again.");
    expect(m.payload).toMatchObject({ event: "backup.failed", attempt: 2, maxAttempts: 3, occurredAt: NOW.toISOString() });

    const last = backupEventMessage({ type: "backup.failed", backup, attempt: 3, maxAttempts: 3 }, NOW);
    expect(last.body).toContain("This was the last attempt");
  });

  it("escapes Slack markup and flattens long reasons in the chat line, not in the payload", () => {
    const reason = `pg_dump: error: <table> & stuff\n${"x".repeat(400)}`;
    const m = backupEventMessage({ type: "backup.failed", backup: { ...backup, failureReason: reason }, attempt: 1, maxAttempts: 1 }, NOW);
    expect(m.text).toContain("&lt;table&gt; &amp; stuff x");
    expect(m.text).not.toContain("\n");
    expect(m.text.endsWith("…")).toBe(true);
    expect(m.payload.backup?.failureReason).toBe(reason);
    expect(m.body).toContain(reason);
  });

  it("describes a success with size and duration", () => {
    const m = backupEventMessage(
      {
        type: "backup.succeeded",
        backup: { ...backup, status: "SUCCEEDED", trigger: "PRE_DEPLOY", sizeBytes: 5 * 1024 * 1024, durationSeconds: 12, failureReason: null },
      },
      NOW,
    );
    expect(m.text).toBe(":white_check_mark: Vaultline backup succeeded (FULL, pre-deploy): 5 MiB in 12 s");
    expect(m.payload.backup).toMatchObject({ size: 5 * 1024 * 1024, duration: 12, trigger: "PRE_DEPLOY" });
  });

  it("says a size in the same words as the dashboard (one formatter, one unit system)", () => {
    const sizeBytes = 3_400_000;
    const m = backupEventMessage(
      { type: "backup.succeeded", backup: { ...backup, status: "SUCCEEDED", sizeBytes, durationSeconds: 12, failureReason: null } },
      NOW,
    );
    expect(formatBytes(sizeBytes)).toBe("3.2 MiB");
    expect(m.text).toContain(formatBytes(sizeBytes));
    expect(m.body).toContain(`Size:     ${formatBytes(sizeBytes)}`);
  });

  it("reports a missed backup with the last success", () => {
    const m = backupEventMessage({ type: "backup.missed", lastSuccessAt: new Date("2026-11-19T02:00:00Z"), hours: 26 }, NOW);
    expect(m.text).toBe(":warning: Vaultline: no successful backup for 26 hours (last success 2026-11-19T02:00:00.000Z)");
    const never = backupEventMessage({ type: "backup.missed", lastSuccessAt: null, hours: 26 }, NOW);
    expect(never.text).toContain("no successful backup on record");
    expect(never.payload.missed).toEqual({ lastSuccessAt: null, hours: 26 });
  });

  it("reports restores", () => {
    const restore = { id: "r1", backupId: "b1", safetyBackupId: "s1", durationSeconds: 42 };
    expect(backupEventMessage({ type: "restore.started", restore }, NOW).text).toBe(
      ":rotating_light: Vaultline restore started from backup b1 (safety backup s1)",
    );
    const ok = backupEventMessage({ type: "restore.finished", restore, status: "SUCCEEDED" }, NOW);
    expect(ok.text).toBe(":white_check_mark: Vaultline restore from backup b1 finished in 42 s");
    expect(ok.payload.restore).toMatchObject({ status: "SUCCEEDED", duration: 42, safetyBackupId: "s1" });
  });

  it("says which session a running backup holds up, and how to let it through, never its query", () => {
    const session = { pid: 5151, user: "deploy", application: "release-migrate", state: "active", kind: "client backend", client: "10.0.0.9", transactionSeconds: 31, table: "public.orders", mode: "AccessExclusiveLock", seconds: 31, behind: 17 };
    const m = backupEventMessage({ type: "backup.blocking", backup: { id: "b9", status: "RUNNING", kind: "FULL", trigger: "SCHEDULED" }, session }, NOW);
    expect(m.text).toBe(
      ':hourglass: Vaultline backup b9 (FULL, scheduled) holds up a session: pid 5151 (user deploy, application "release-migrate", from 10.0.0.9), active (transaction open 31 s) has waited 31 s for the backup\'s lock on public.orders (AccessExclusiveLock); 17 sessions wait behind it',
    );
    expect(m.severity).toBe("warning");
    expect(m.subject).toContain("Backup b9 holds up a session on public.orders");
    expect(m.body).toContain("Cancel the backup to let it through, or end that session: SELECT pg_terminate_backend(5151);");
    expect(m.payload).toMatchObject({ event: "backup.blocking", backup: { id: "b9", status: "RUNNING" }, blocking: session });
  });

  it("reports retention with count, size and ids", () => {
    const m = backupEventMessage({ type: "retention.pruned", count: 1, bytes: 2048n, ids: ["old1"] }, NOW);
    expect(m.text).toBe(":wastebasket: Vaultline retention pruned 1 backup (2 KiB)");
    expect(m.payload.retention).toEqual({ count: 1, bytes: 2048, ids: ["old1"] });
    expect(m.body).toContain("  old1");
  });
});
