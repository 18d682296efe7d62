import { describe, expect, it } from "vitest";
import { backupEventMessage, targetLabel, type BackupSummary } from "./messages";

const NOW = new Date("2026-12-02T02:00:05Z");
const shop = { id: "t1", name: "shop-prod", environment: "prod" };
const dflt = { id: "default", name: "default", environment: "prod" };
const backup: BackupSummary = { id: "b1", status: "FAILED", kind: "FULL", trigger: "SCHEDULED", durationSeconds: 3, failureReason: "pg_dump: connection refused" };

describe("messages name their target", () => {
  it("leads every line with the target's name, and adds it to facts and payload", () => {
    const m = backupEventMessage({ type: "backup.failed", backup, attempt: 1, maxAttempts: 3, target: shop }, NOW);
    expect(m.plain).toBe("Vaultline shop-prod: backup FAILED (FULL, scheduled, attempt 1 of 3): pg_dump: connection refused");
    expect(m.text).toBe(":x: Vaultline shop-prod: backup FAILED (FULL, scheduled, attempt 1 of 3): pg_dump: connection refused");
    expect(m.subject).toBe("[Vaultline] shop-prod: Backup FAILED (FULL, scheduled, attempt 1 of 3)");
    expect(m.facts[0]).toEqual({ name: "Target", value: "shop-prod (prod)" });
    expect(m.payload.target).toEqual(shop);
    expect(m.body).toContain("Target:   shop-prod (prod)");
  });

  it("says 'default target' for the default, so the line does not read broken", () => {
    expect(targetLabel(dflt)).toBe("default target");
    const m = backupEventMessage({ type: "backup.missed", lastSuccessAt: null, hours: 26, target: dflt }, NOW);
    expect(m.plain).toBe("Vaultline default target: no successful backup for 26 hours (no successful backup on record)");
    expect(m.title).toBe("default target: No successful backup for 26 hours");
  });

  it("names the target of a restore and of a blocked deploy", () => {
    const r = backupEventMessage({ type: "restore.started", restore: { id: "r1", backupId: "b1" }, target: shop }, NOW);
    expect(r.text).toBe(":rotating_light: Vaultline shop-prod: restore started from backup b1");
    const d = backupEventMessage({ type: "deploy.blocked", commitSha: "abc1234", reasons: ["stale"], target: shop }, NOW);
    expect(d.plain).toBe("Vaultline shop-prod: deploy of abc1234 blocked: stale");
  });

  it("leaves an event without a target (and the channel test) as before", () => {
    const m = backupEventMessage({ type: "backup.failed", backup, attempt: 1, maxAttempts: 3 }, NOW);
    expect(m.plain.startsWith("Vaultline backup FAILED")).toBe(true);
    expect(m.payload.target).toBeUndefined();
    expect(backupEventMessage({ type: "test", channelName: "ops" }, NOW).plain).toBe('Vaultline test notification for channel "ops"');
  });
});
