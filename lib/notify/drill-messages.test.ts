import { describe, expect, it } from "vitest";
import { backupEventMessage } from "./messages";

const now = new Date("2026-12-06T04:10:00Z");

describe("drill notifications", () => {
  it("a failed drill names the backup and the reason, escaped for chat, whole in the payload", () => {
    const reason = "restored data differs: public.<users> (same 3 rows, different content)";
    const m = backupEventMessage({ type: "drill.failed", drill: { id: "d1", backupId: "b1", trigger: "SCHEDULED", failureReason: reason, recoverySeconds: 12 } }, now);
    expect(m.subject).toBe("[Vaultline] Restore drill FAILED of backup b1");
    expect(m.text).toBe(":x: Vaultline restore drill FAILED of backup b1: restored data differs: public.&lt;users&gt; (same 3 rows, different content)");
    expect(m.payload).toMatchObject({ event: "drill.failed", drill: { id: "d1", backupId: "b1", failureReason: reason, recoverySeconds: 12 } });
    expect(m.body).toContain("Reason:\n" + reason);
  });

  it("a drill with nothing to restore says so", () => {
    const m = backupEventMessage({ type: "drill.failed", drill: { id: "d2", backupId: null, trigger: "SCHEDULED", failureReason: "no successful FULL backup to drill", recoverySeconds: null } }, now);
    expect(m.text).toMatch(/FAILED \(no backup to restore\): no successful FULL backup/);
  });

  it("overdue names the last proven restore and the schedule", () => {
    const m = backupEventMessage({ type: "drill.overdue", lastSuccessAt: new Date("2026-11-22T04:05:00Z"), cron: "0 4 * * 0", timezone: "UTC" }, now);
    expect(m.text).toBe(":warning: Vaultline: restore drill overdue (last proven restore 2026-11-22T04:05:00.000Z; schedule 0 4 * * 0 UTC)");
    expect(m.payload.drill).toEqual({ lastSuccessAt: "2026-11-22T04:05:00.000Z", cron: "0 4 * * 0", timezone: "UTC" });
    const never = backupEventMessage({ type: "drill.overdue", lastSuccessAt: null, cron: "0 4 * * 0", timezone: "UTC" }, now);
    expect(never.text).toMatch(/no restore proven yet/);
  });
});
