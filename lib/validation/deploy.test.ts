import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { createDeploymentSchema, gateRequestSchema, rollbackRequestSchema } from "./deploy";
import { tokenCan, roleCan } from "../permissions";
import { errorResponse } from "../http";
import { ApiError } from "../errors";
import { startRollback } from "../deploy/rollback";
import type { BackupContext } from "../backup/context";
import type { DeployHooks } from "../deploy/hooks";
import type { Who } from "../deploy/deployments";

describe("gate request", () => {
  it("fills the contract's defaults, leaves freshness to the target (lib/deploy/gate.ts) and lower-cases the commit", () => {
    // maxAgeMinutes and require stay absent: the target's settings.gate, then 60 / ANY, fill them.
    expect(gateRequestSchema.parse({ commitSha: "ABCDEF1" })).toEqual({
      commitSha: "abcdef1",
      createIfMissing: false,
      waitSeconds: 0,
    });
    expect(gateRequestSchema.parse({ commitSha: "abcdef1", target: "shop-prod" }).target).toBe("shop-prod");
  });

  it.each([
    ["too short", { commitSha: "abc12" }],
    ["not hex", { commitSha: "xyz1234" }],
    ["too long", { commitSha: "a".repeat(41) }],
    ["missing", {}],
    ["waitSeconds over 900", { commitSha: "abcdef1", waitSeconds: 901 }],
    ["unknown require", { commitSha: "abcdef1", require: "QUICK" }],
    ["unknown field", { commitSha: "abcdef1", force: true }],
  ])("rejects %s, answered as 400 VALIDATION_FAILED naming the field", async (_name, body) => {
    const r = gateRequestSchema.safeParse(body);
    expect(r.success).toBe(false);
    const res = errorResponse(r.error as ZodError, "test");
    expect(res.status).toBe(400);
    const json = await res.json();
    expect(json.error.code).toBe("VALIDATION_FAILED");
    expect(json.error.details.fields.length).toBeGreaterThan(0);
  });

  it("a malformed sha is reported on commitSha", () => {
    const r = gateRequestSchema.safeParse({ commitSha: "not-a-sha" });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0].path).toEqual(["commitSha"]);
  });
});

describe("deployment and rollback requests", () => {
  it("records SUCCEEDED by default and rejects a bad url", () => {
    expect(createDeploymentSchema.parse({ commitSha: "0123456789abcdef" }).status).toBe("SUCCEEDED");
    expect(createDeploymentSchema.safeParse({ commitSha: "0123456789abcdef", url: "not a url" }).success).toBe(false);
    // A report has no later update: RUNNING would hold the deploy slot forever.
    expect(createDeploymentSchema.safeParse({ commitSha: "0123456789abcdef", status: "RUNNING" }).success).toBe(false);
  });

  it("leaves the confirmation word to the handler: a wrong word passes zod (no 400)…", () => {
    for (const confirm of ["rollback", "ROLLBACK ", "", 1, undefined]) {
      expect(rollbackRequestSchema.safeParse({ backupId: "c".repeat(25), confirm }).success, String(confirm)).toBe(true);
    }
  });

  it("…and the handler answers 422 CONFIRMATION_REQUIRED, naming the word, before it reads anything", async () => {
    // A context whose every property throws: the word is checked before the catalogue is touched.
    const untouchable = <T extends object>(what: string) =>
      new Proxy({} as T, {
        get: (_t, k) => {
          throw new Error(`touched ${what}.${String(k)}`);
        },
      });
    const ctx = untouchable<BackupContext>("ctx");
    const hooks = untouchable<DeployHooks>("hooks");
    const who: Who = { actor: { type: "system", label: "test" }, userId: null };
    for (const confirm of [undefined, "", "rollback", "Rollback", "ROLLBACK ", " ROLLBACK", "RESTORE", 1]) {
      const err = await startRollback(ctx, { backupId: "c".repeat(25), confirm }, who, hooks).catch((e: unknown) => e);
      expect(err, String(confirm)).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ code: "CONFIRMATION_REQUIRED", status: 422, details: { expected: "ROLLBACK" } });
    }
  });
});

describe("who may call the gate", () => {
  it("needs the deploy scope on a token, OPERATOR from a session", () => {
    expect(tokenCan(["backups:read"], "ADMIN", "deploy.gate")).toBe(false);
    expect(tokenCan(["backups:read", "backups:write", "restore"], "ADMIN", "deploy.gate")).toBe(false);
    expect(tokenCan(["deploy"], "OPERATOR", "deploy.gate")).toBe(true);
    expect(tokenCan(["deploy"], "VIEWER", "deploy.gate")).toBe(false);
    expect(roleCan("VIEWER", "deploy.gate")).toBe(false);
    expect(roleCan("OPERATOR", "deploy.gate")).toBe(true);
    expect(roleCan("OPERATOR", "rollback.run")).toBe(false);
    expect(tokenCan(["restore"], "ADMIN", "rollback.run")).toBe(true);
    expect(tokenCan(["deploy"], "ADMIN", "rollback.run")).toBe(false);
  });
});
