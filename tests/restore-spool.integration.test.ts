// A swap restore killed with -9 cannot remove its spool (the decompressed archive, as
// large as the backup). The restore housekeeping the worker runs at start and every minute
// removes the spools of restores that are over, and keeps those still running.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEnv, type TestEnv } from "./support/vitest-env";
import { restoreHousekeeping } from "../lib/backup/restore";
import { restoreSpoolPrefix } from "../lib/backup/restore-spool";

let env: TestEnv;
const made: string[] = [];

beforeAll(async () => {
  env = await makeEnv();
});
afterAll(async () => {
  for (const d of made) await rm(d, { recursive: true, force: true });
  await env.cleanup();
});

async function spoolOf(restoreId: string) {
  const dir = await mkdtemp(path.join(tmpdir(), restoreSpoolPrefix(restoreId)));
  await writeFile(path.join(dir, "archive.dump"), "spooled bytes");
  made.push(dir);
  return path.basename(dir);
}

describe("restore housekeeping and spools", () => {
  it("removes a finished restore's spool and keeps a running one's", async () => {
    const backupId = "cmx0000000000000000000001";
    const failed = await env.db.restoreJob.create({ data: { backupId, status: "FAILED" } });
    // Heartbeat now: not stale, so the sweep leaves it RUNNING.
    const running = await env.db.restoreJob.create({ data: { backupId, status: "RUNNING", startedAt: new Date(), heartbeatAt: new Date() } });
    const failedSpool = await spoolOf(failed.id);
    const runningSpool = await spoolOf(running.id);
    await restoreHousekeeping(env.ctx);
    const left = await readdir(tmpdir());
    expect(left).not.toContain(failedSpool);
    expect(left).toContain(runningSpool);
  });
});
