// The two steps every restore-fidelity test takes: a FULL backup of the env's target, and a
// confirmed restore of it run to its end.
import { expect } from "vitest";
import type { TestEnv } from "./vitest-env";
import { runBackup } from "../../lib/backup/run-backup";
import { startRestore, runRestore } from "../../lib/backup/restore";
import { SYSTEM } from "../../lib/audit";

export async function fullBackup(env: TestEnv): Promise<string> {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
  const r = await runBackup(env.ctx, job.id);
  expect(r.failureReason).toBeUndefined();
  return job.id;
}

export async function restore(env: TestEnv, backupId: string, ownership?: "keep" | "reassign") {
  const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE", ownership });
  const status = await runRestore(env.ctx, restoreId);
  const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
  return { status, row };
}
