// Decision 193: what a FULL backup asks before its dump starts. The room count's session also
// reads the server's version (pg_dump's check had a session of its own) and, for S3, the
// database's size (the part plan's estimate had one too); the key and the settings no longer
// hold the dump back. Every session the backup opens on the target is counted here by a proxy
// that reads each startup packet, on an application's database (owner role, extensions, two
// schemas, partitions, a view, a large object).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeEnv, adminUrl, sql, type TestEnv } from "./support/vitest-env";
import { buildAppDatabase } from "./support/app-fixture";
import { startCountingProxy, type CountingProxy } from "./support/counting-proxy";
import { startS3, type S3Server } from "./support/s3";
import { manifestOf } from "./support/manifests";
import { runBackup } from "../lib/backup/run-backup";
import { S3Storage } from "../lib/backup/storage/s3";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

describe("the sessions a FULL backup opens on the target", () => {
  let env: TestEnv;
  let proxy: CountingProxy;
  let s3: S3Server;
  let proxied: string;

  beforeAll(async () => {
    env = await makeEnv({ seed: false });
    await buildAppDatabase((u, text) => sql(u, text), adminUrl(), env.targetUrl);
    const u = new URL(env.targetUrl);
    proxy = await startCountingProxy({ host: u.hostname, port: Number(u.port) });
    u.host = `127.0.0.1:${proxy.port}`;
    u.searchParams.set("sslmode", "disable");
    proxied = u.toString();
    s3 = await startS3();
  }, 120_000);
  afterAll(async () => {
    await env?.cleanup();
    await proxy?.close();
    await s3?.stop();
  });

  async function backup(ctx: TestEnv["ctx"]) {
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    proxy.clear();
    expect((await runBackup(ctx, job.id)).failureReason).toBeUndefined();
    return { id: job.id, counts: proxy.counts() };
  }

  it("to local storage: two for the inspection (the room with the server's version, then the catalogue beside the dump)", async () => {
    const { id, counts } = await backup({ ...env.ctx, targetUrl: proxied });
    // Before: a third "vaultline-inspect" for the server's version.
    expect(counts).toEqual({
      "vaultline-pooler-probe": 2,
      "vaultline-inspect": 2,
      "vaultline-checksums": 1,
      "vaultline-backup-watch": 1,
      "vaultline-backup": 1,
    });
    const { m: manifest } = await manifestOf(env, id);
    expect(manifest.pgDumpVersion).toMatch(/^\d+\.\d+/);
    expect(manifest.database.serverVersion).toMatch(/^\d+\.\d+/);
    expect(manifest.database.sizeBytes).toBeGreaterThan(1_000_000);
  }, 120_000);

  it("to S3: the database's size is read on the room's session, and plans the parts", async () => {
    const storage = new S3Storage({ endpoint: s3.endpoint, bucket: s3.bucket, region: "us-east-1", accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, maxParts: 2 });
    const { id, counts } = await backup({ ...env.ctx, targetUrl: proxied, storage });
    // Before: four — the room, the version, the size estimate, the catalogue.
    expect(counts["vaultline-inspect"]).toBe(2);
    const [{ n }] = await sql<{ n: string }>(env.targetUrl, "SELECT pg_database_size(current_database())::text AS n");
    // Two parts at most for the whole database's size: the estimate reached the plan.
    expect(storage.lastPlan!.partSize * 2).toBeGreaterThanOrEqual(Number(n) * 0.9);
    const { m: manifest } = await manifestOf({ ...env, ctx: { ...env.ctx, storage } }, id);
    expect(manifest.database.sizeBytes).toBeGreaterThan(1_000_000);
    expect(await s3.openUploads()).toEqual([]);
  }, 120_000);

  it("a key that cannot be had, now asked beside the dump, still fails the backup with pg_dump stopped and nothing stored", async () => {
    const ctx = { ...env.ctx, targetUrl: proxied, passphrase: "", keysFile: undefined, publicKey: undefined };
    const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
    const r = await runBackup(ctx, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/no encryption key is configured/);
    const after: string[] = [];
    for await (const o of env.ctx.storage.list("")) after.push(o.key);
    expect(after.filter((k) => k.includes(job.id))).toEqual([]);
    // No session of the backup's is left on the server: pg_dump, the snapshot's, the watch's.
    await expect
      .poll(async () => (await sql<{ n: number }>(adminUrl(), "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name IN ('vaultline-backup', 'vaultline-checksums', 'vaultline-backup-watch', 'vaultline-inspect')"))[0].n, { timeout: 10_000 })
      .toBe(0);
  }, 120_000);
});
