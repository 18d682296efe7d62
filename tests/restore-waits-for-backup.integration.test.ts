// Decision 176: a restore asked for while a backup of the same database runs (the nightly one,
// at 3 a.m., right after the bad migration). One backup of a target runs at a time, so the
// restore's safety backup waits for it; the restore's page said only "safety backup". The
// safety backup now names the backup it waits for (phase and metadata.waitingFor), and once
// that one is cancelled, the safety backup and the restore go on — on the application fixture
// with its later migration, judged by catalogue-and-data fingerprints.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminUrl, makeEnv, sql, waitFor, type TestEnv } from "./support/vitest-env";
import { stopBosses } from "../lib/queue";
import { runBackup } from "../lib/backup/run-backup";
import { cancelBackup } from "../lib/backup/jobs";
import { startRestore, runRestore } from "../lib/backup/restore";
import { SYSTEM } from "../lib/audit";
import { gatedStorage } from "./support/gated-storage";
import { fullBackup } from "./support/restore-steps";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { asAppRole, buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";

const fingerprint = (url: string) => catalogFingerprint(sql, url);

afterAll(async () => {
  await stopBosses();
});

describe("a restore while a backup of the same database runs", () => {
  let env: TestEnv;
  beforeAll(async () => {
    // The application fixture (owner role, schemas, extensions, views, partitions, row-level
    // security, a large object), and more than the pipes between pg_dump and the store hold:
    // held, the nightly dump waits with its locks.
    env = await makeEnv({ seed: false, overrides: { heartbeatMs: 500 } });
    await buildAppDatabase((url, text) => sql(url, text), adminUrl(), env.targetUrl);
    await sql(
      env.targetUrl,
      "CREATE TABLE public.attachments (id int PRIMARY KEY, body text); INSERT INTO public.attachments SELECT r.i, (SELECT string_agg(md5(random()::text || r.i || k.j), '') FROM generate_series(1, 32) AS k(j)) FROM generate_series(1, 16384) AS r(i)",
    );
  }, 180_000);
  afterAll(async () => {
    await env?.cleanup();
  });

  it("its safety backup names the backup it waits for, and goes on once that one is cancelled", async () => {
    const atBackup = await fingerprint(env.targetUrl);
    const good = await fullBackup(env);
    // The bad migration, after the good backup, as the application's role.
    await sql(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    expect(await fingerprint(env.targetUrl)).not.toEqual(atBackup);

    // The nightly backup, running: its store takes nothing yet, so it holds the target's backup lock.
    const held = gatedStorage(env.ctx.storage);
    const nightly = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "SCHEDULED", metadata: { phases: [] } } });
    const nightlyRun = runBackup({ ...env.ctx, storage: held.storage }, nightly.id);
    try {
      await waitFor(async () => (await env.db.backupJob.findUniqueOrThrow({ where: { id: nightly.id } })).phase === "dumping", 20_000);

      const { restoreId, preRestoreBackupId: safetyId } = await startRestore(env.ctx, good, SYSTEM, { confirm: "RESTORE" });
      const restoring = runRestore(env.ctx, restoreId);
      const safety = await waitFor(async () => {
        const s = await env.db.backupJob.findUniqueOrThrow({ where: { id: safetyId } });
        return s.phase?.startsWith("waiting for backup ") ? s : null;
      }, 20_000);
      expect(safety.status).toBe("QUEUED");
      expect(safety.phase).toBe(`waiting for backup ${nightly.id} (FULL scheduled, dumping) to finish`);
      expect((safety.metadata as { waitingFor?: string }).waitingFor).toBe(nightly.id);
      expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).phase).toBe("safety backup");

      // Cancelled, the nightly backup lets the safety backup and the restore go on.
      await cancelBackup(env.ctx, nightly.id, SYSTEM);
      expect((await nightlyRun).status).toBe("CANCELLED");
      expect(await restoring).toBe("SUCCEEDED");
      const done = await env.db.backupJob.findUniqueOrThrow({ where: { id: safetyId } });
      expect(done.status).toBe("SUCCEEDED");
      // What it waited for is not kept once it ran.
      expect((done.metadata as { waitingFor?: string }).waitingFor).toBeUndefined();
      // The database is the backup again: owners, grants, every object and every row.
      expect(await fingerprint(env.targetUrl)).toEqual(atBackup);
    } finally {
      held.open();
      await nightlyRun.catch(() => undefined);
    }
  }, 180_000);
});
