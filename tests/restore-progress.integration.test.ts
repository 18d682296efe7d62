// A restore says how far its database part has got (decision 136): bytes of the backup read in
// and loaded into the database, of the total, written with each heartbeat — what the restore
// dialog and page draw as a bar. Sampled from the catalogue while real restores run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { fullBackup } from "./support/restore-steps";
import { startRestore, runRestore } from "../lib/backup/restore";
import { getRestore } from "../lib/backup/restores-catalog";
import { readManifest } from "../lib/backup/verify";
import { spoolBytes } from "../lib/backup/temp-space";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

interface Sample {
  phase: string | null;
  read: number;
  loaded: number;
  total: number;
}

afterAll(async () => {
  await stopBosses();
});

describe.each([
  ["swap", "the decompressed archive"],
  ["in-place", "the stored object"],
] as const)("the progress of a %s restore", (strategy, unit) => {
  let env: TestEnv;
  let backupId: string;
  let original: Record<string, string>;

  beforeAll(async () => {
    // ~32 MiB of incompressible rows (twice that as COPY text): a restore of a few seconds.
    env = await makeEnv({ seed: { blobMb: 32 }, overrides: { restoreStrategy: strategy, restoreJobs: 2, heartbeatMs: 40 } });
    original = await dbState(env.targetUrl);
    backupId = await fullBackup(env);
  });
  afterAll(async () => {
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${swapNames(databaseOf(env.targetUrl), "x").live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
  });

  it(`counts bytes of ${unit}, never backwards, loaded never ahead of read, and ends at the total`, async () => {
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    const db = (await readManifest(env.ctx, job)).parts.find((p) => p.name === "database")!;
    const total = strategy === "swap" ? spoolBytes(db) : db.sizeBytes;
    expect(total).toBeGreaterThan(32 * 1024 * 1024);

    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    const samples: Sample[] = [];
    let done = false;
    const sampling = (async () => {
      while (!done) {
        const r = await env.db.restoreJob.findUnique({ where: { id: restoreId } });
        if (r?.totalBytes != null) samples.push({ phase: r.phase, read: Number(r.readBytes), loaded: Number(r.loadedBytes), total: Number(r.totalBytes) });
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    const status = await runRestore(env.ctx, restoreId);
    done = true;
    await sampling;
    expect(status).toBe("SUCCEEDED");
    expect(await dbState(env.targetUrl)).toEqual(original);

    // What the API gives the dialog and the page.
    const dto = await getRestore(env.db, restoreId);
    expect(dto.progress).toEqual({ readBytes: total, loadedBytes: total, totalBytes: total });

    expect(samples.length).toBeGreaterThan(5);
    for (const s of samples) {
      expect(s.total).toBe(total);
      expect(s.loaded).toBeLessThanOrEqual(s.read);
      expect(s.read).toBeLessThanOrEqual(total);
    }
    for (let i = 1; i < samples.length; i++) {
      expect(samples[i].loaded, `sample ${i}`).toBeGreaterThanOrEqual(samples[i - 1].loaded);
      expect(samples[i].read, `sample ${i}`).toBeGreaterThanOrEqual(samples[i - 1].read);
    }
    // Seen on the way, not only at the ends.
    expect(samples.some((s) => s.loaded > 0 && s.loaded < total)).toBe(true);
    if (strategy === "swap") {
      // The indexes are built once every row is in.
      const indexing = samples.filter((s) => s.phase?.startsWith("building indexes"));
      expect(indexing.length).toBeGreaterThan(0);
      for (const s of indexing) expect(s.loaded).toBe(total);
    }
  });
});
