// The fast half of the fault suite (`npm run test:faults` has all of it): doctored archives
// refused before the target is touched, and a disk that fills up during a backup.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { makeEnv, type TestEnv } from "./support/vitest-env";
import { Recorder } from "./faults/harness";
import { refuseAll } from "./faults/cases/doctored";
import { FullDiskStorage } from "./faults/enospc-storage";
import { listKeys, localTempFiles } from "./support/listing";
import { LocalStorage } from "../lib/backup/storage/local";
import { runBackup } from "../lib/backup/run-backup";
import { verifyBackupObjects } from "../lib/backup/verify";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

describe("doctored archives", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv();
  });
  afterAll(async () => {
    // startRestore's queue client holds connections to the catalogue being dropped.
    await stopBosses();
    await env.cleanup();
  });

  it("refuses 20 doctored copies of a real backup before the safety backup, target unchanged", async () => {
    const seed = Number(process.env.FAULTS_SEED ?? 20261121);
    const r = new Recorder();
    const refused = await refuseAll(env.ctx, env.targetUrl, 20, seed, r);
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(refused).toBe(20);
  });
});

describe("disk full during a local backup", () => {
  let env: TestEnv;
  let dir: string;
  let full: FullDiskStorage;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vaultline-diskfull-"));
    full = new FullDiskStorage(new LocalStorage(dir), 16 * 1024);
    env = await makeEnv({ overrides: { storage: full } });
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const backup = async () => {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
    await runBackup(env.ctx, job.id);
    return env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
  };

  it("fails with ENOSPC in the archive: FAILED with the reason, nothing listed, no temp file", async () => {
    const row = await backup();
    expect(row.status).toBe("FAILED");
    expect(row.failureReason).toMatch(/ENOSPC|no space/);
    expect(await listKeys(env.ctx.storage)).toEqual([]);
    expect(await localTempFiles(dir)).toEqual([]);
  });

  it("fails with ENOSPC on the manifest after the archive fit: the archive is removed too", async () => {
    full.budgetBytes = Number.MAX_SAFE_INTEGER;
    const ok = await backup();
    expect(ok.status).toBe("SUCCEEDED");
    full.used = 0;
    full.budgetBytes = Number(ok.sizeBytes) + 256;
    const row = await backup();
    expect(row.status).toBe("FAILED");
    expect(row.failureReason).toMatch(/ENOSPC|no space/);
    expect(full.used).toBeGreaterThanOrEqual(Number(ok.sizeBytes) - 4096);
    expect((await listKeys(env.ctx.storage)).filter((k) => k.includes(row.id))).toEqual([]);
    expect(await localTempFiles(dir)).toEqual([]);
    // With room again, the next backup succeeds and verifies.
    full.budgetBytes = Number.MAX_SAFE_INTEGER;
    const next = await backup();
    expect(next.status).toBe("SUCCEEDED");
    expect((await verifyBackupObjects(env.ctx, next)).ok).toBe(true);
  });
});
