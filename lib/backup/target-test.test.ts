import { describe, expect, it } from "vitest";
import { connectionFailed, redactedMessage, type TargetTestResult } from "./target-test";

describe("redactedMessage", () => {
  const url = "postgres://shop:p%40ss%2Fw0rd@db.internal:5432/shop_prod";

  it("removes the URL, its password raw and decoded, and any other connection URL", () => {
    const e = new Error(`connect failed for ${url}: password p@ss/w0rd rejected (p%40ss%2Fw0rd); see postgresql://x:y@h/z`);
    const m = redactedMessage(e, url);
    expect(m).not.toContain("p@ss/w0rd");
    expect(m).not.toContain("p%40ss%2Fw0rd");
    expect(m).not.toContain("postgres://");
    expect(m).not.toContain("postgresql://");
    expect(m).toContain("rejected");
  });

  it("keeps a message that holds no secret as it is", () => {
    expect(redactedMessage(new Error("connect ECONNREFUSED 10.0.0.5:5432"), url)).toBe("connect ECONNREFUSED 10.0.0.5:5432");
    expect(redactedMessage("timeout expired", "not a url")).toBe("timeout expired");
  });
});

describe("connectionFailed", () => {
  const base: TargetTestResult = { ok: false, serverVersion: null, pgDump: { version: null, compatible: false, message: "" }, canBackup: false, canRestoreInPlace: false, canSwap: false, restorable: false, reasons: [] };
  it("is the first reason only when it is a failed connect", () => {
    expect(connectionFailed({ ...base, reasons: [{ check: "connect", ok: false, message: "Cannot connect: x" }] })?.message).toBe("Cannot connect: x");
    expect(connectionFailed({ ...base, reasons: [{ check: "connect", ok: true, message: "Connected" }, { check: "backup.tables", ok: false, message: "no" }] })).toBeNull();
  });
});
