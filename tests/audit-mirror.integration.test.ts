// The audit trail's storage copy (DESIGN §3): rows are the outbox, the worker copies them.
// Before: audit() copied each event as it was written and only logged a failure, so an
// event written while storage was away never reached storage; the hook lived on globalThis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit, SYSTEM } from "../lib/audit";
import { auditPrefix, flushAuditMirror, mirrorPendingAuditEvents } from "../lib/backup/mirror";
import { StorageUnavailableError } from "../lib/backup/storage/types";
import { listKeys, makeEnv, type TestEnv } from "./support/vitest-env";

describe("audit events reach storage through the outbox", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ seed: false });
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("copies pending events, keeps them pending while storage is away, and copies them when it is back", async () => {
    const first = await audit(env.db, { actor: SYSTEM, action: "test.first", target: "t" });
    expect(await mirrorPendingAuditEvents(env.ctx)).toBeGreaterThanOrEqual(1);
    expect((await env.db.auditEvent.findUniqueOrThrow({ where: { id: first.id } })).mirroredAt).toBeInstanceOf(Date);
    const stored = (await listKeys(env.ctx.storage, auditPrefix(env.ctx))).filter((k) => k.endsWith(`-${first.id}.json`));
    expect(stored).toHaveLength(1);
    const copy = JSON.parse((await env.ctx.storage.getBytes(stored[0])).toString("utf8"));
    expect(copy).toMatchObject({ id: first.id, action: "test.first", target: "t", actorType: "system" });
    expect(copy).not.toHaveProperty("mirroredAt");

    // Storage away: the event is written, stays pending, the loop reports the failure.
    const down = {
      ...env.ctx,
      storage: Object.assign(Object.create(env.ctx.storage), {
        putBytes: async () => {
          throw new StorageUnavailableError("store unreachable");
        },
      }),
    };
    const during = await audit(env.db, { actor: SYSTEM, action: "test.during_outage" });
    await expect(mirrorPendingAuditEvents(down)).rejects.toThrow(/not copied to storage \(1 pending\): store unreachable/);
    expect((await env.db.auditEvent.findUniqueOrThrow({ where: { id: during.id } })).mirroredAt).toBeNull();

    // Back: the next run copies it, and nothing stays pending.
    for (let i = 0; i < 250; i++) await audit(env.db, { actor: SYSTEM, action: "test.burst", target: String(i) });
    expect(await flushAuditMirror(env.ctx)).toBe(251);
    expect(await env.db.auditEvent.count({ where: { mirroredAt: null } })).toBe(0);
    expect((await listKeys(env.ctx.storage, auditPrefix(env.ctx))).some((k) => k.endsWith(`-${during.id}.json`))).toBe(true);
  });
});
