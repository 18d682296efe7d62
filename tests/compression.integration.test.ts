// Compression outside pg_dump (issue 14): an application-like database backed up with zstd,
// gzip and none, and an archive made the old way (pg_dump's own zlib, no codec in the
// manifest) — each verifies, previews, drills and restores exactly on both strategies, and
// `cli download --decrypt` gives a file pg_restore reads. Judged by the catalogue-and-data
// fingerprint.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { cliEnv, makeEnv, type TestEnv } from "./support/vitest-env";
import { adminUrl, sql } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { asAppRole, buildAppDatabase, LATER_MIGRATION_SQL } from "./support/app-fixture";
import { pgRestoreListFile } from "./support/gpg";
import { startS3, type S3Server } from "./support/s3";
import { runBackup } from "../lib/backup/run-backup";
import { runRestore, startRestore } from "../lib/backup/restore";
import { previewRestore } from "../lib/backup/preview";
import { runVerify, readManifest } from "../lib/backup/verify";
import { runDrill } from "../lib/backup/drill";
import { reconcileFromStorage } from "../lib/backup/reconcile";
import { backupKeys, type Manifest } from "../lib/backup/manifest";
import { S3Storage } from "../lib/backup/storage/s3";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";
import { databaseOf, swapNames } from "../lib/backup/swap";
import type { CompressionSettings } from "../lib/validation/settings";

const run = promisify(execFile);
const exec = (url: string, text: string) => sql(url, text);
const fingerprint = (url: string) => catalogFingerprint(sql, url);

afterAll(async () => {
  await stopBosses();
});

async function fullBackup(env: TestEnv): Promise<string> {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
  const r = await runBackup(env.ctx, job.id);
  expect(r.failureReason).toBeUndefined();
  return job.id;
}

/** Rewrites a backup's manifest as Vaultline wrote it before issue 14: no codec on any part. */
async function asLegacyManifest(env: TestEnv, id: string): Promise<void> {
  const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
  const key = backupKeys(env.ctx.prefix, env.ctx.env, id, job.createdAt).manifest;
  const m = JSON.parse((await env.ctx.storage.getBytes(key)).toString("utf8")) as Manifest;
  for (const p of m.parts) delete (p as { compression?: unknown }).compression;
  await env.ctx.storage.putBytes(key, `${JSON.stringify(m, null, 2)}\n`, "application/json");
  // A catalogue row of that time had no digest of its manifest (decision 51).
  await env.db.backupJob.update({ where: { id }, data: { manifestSha256: null } });
}

async function cliDownloadDecrypted(env: TestEnv, id: string, out: string) {
  await run("npx", ["tsx", "scripts/cli.ts", "download", id, "--decrypt", "--out", out], {
    env: cliEnv(env),
  });
  return path.join(out, "archive.dump");
}

const CASES: { name: string; compression: CompressionSettings; legacy?: boolean; strategies: ("in-place" | "swap")[]; download?: boolean }[] = [
  { name: "zstd", compression: { codec: "zstd", level: 3 }, strategies: ["in-place", "swap"], download: true },
  { name: "gzip", compression: { codec: "gzip", level: 6 }, strategies: ["in-place"] },
  { name: "none", compression: { codec: "none", level: null }, strategies: ["swap"] },
  { name: "made before issue 14", compression: { codec: "none", level: null }, legacy: true, strategies: ["in-place", "swap"], download: true },
];

describe.each(CASES)("a backup compressed with $name", ({ compression, legacy, strategies, download }) => {
  let env: TestEnv;
  let original: Record<string, string>;
  let backupId: string;
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "vaultline-codec-"));
    env = await makeEnv({ seed: false, overrides: { compression, restoreJobs: 2 } });
    await buildAppDatabase(exec, adminUrl(), env.targetUrl);
    original = await fingerprint(env.targetUrl);
    backupId = await fullBackup(env);
    if (legacy) await asLegacyManifest(env, backupId);
  });
  afterAll(async () => {
    await stopBosses();
    const names = swapNames(databaseOf(env.targetUrl), "x");
    const kept = await sql<{ datname: string }>(adminUrl(), "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${names.live}__%`]);
    for (const { datname } of kept) await sql(adminUrl(), `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("records the codec on the database part (none for an old archive), and verifies", async () => {
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    const part = (await readManifest(env.ctx, job)).parts.find((p) => p.name === "database")!;
    if (legacy) expect(part.compression).toBeUndefined();
    else {
      expect(part.compression).toMatchObject({ codec: compression.codec, level: compression.level, pgDump: compression.codec === "none" ? "default" : "-Z0" });
      expect(part.compression!.inputBytes).toBeGreaterThan(0);
      if (compression.codec !== "none") expect(part.plainSizeBytes).toBeLessThan(part.compression!.inputBytes);
    }
    const v = await runVerify(env.ctx, backupId);
    expect(v.reason).toBeUndefined();
    expect(v.ok).toBe(true);
    expect(v.parts[0].entries).toBeGreaterThan(20);
    const drill = await runDrill(env.ctx, backupId);
    expect(drill.reason).toBeUndefined();
    expect(drill.ok).toBe(true);
  });

  it.each(strategies)("previews, then restores exactly (%s)", async (strategy) => {
    env.ctx.restoreStrategy = strategy;
    await exec(asAppRole(env.targetUrl), LATER_MIGRATION_SQL);
    const preview = await previewRestore(env.ctx, backupId);
    expect(preview.verified).toEqual({ ok: true, reason: null });
    expect(preview.plan?.strategy).toBe(strategy);
    expect(preview.objects?.tables.dropped).toEqual(["public.later.table", "reports.daily"]);

    const { restoreId } = await startRestore(env.ctx, backupId, SYSTEM, { confirm: "RESTORE" });
    const status = await runRestore(env.ctx, restoreId);
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.failureReason).toBeNull();
    expect(status).toBe("SUCCEEDED");
    expect(row.strategy).toBe(strategy);
    expect(await fingerprint(env.targetUrl)).toEqual(original);
  });

  it.runIf(download)("downloads with --decrypt to an archive pg_restore reads as it is", async () => {
    const file = await cliDownloadDecrypted(env, backupId, path.join(work, "download"));
    const list = await pgRestoreListFile(file);
    expect(list).toMatch(/TABLE public customers/);
    // An old archive comes back byte for byte as gpg -d gives it (its plain checksum).
    if (legacy) {
      const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
      const part = (await readManifest(env.ctx, job)).parts.find((p) => p.name === "database")!;
      expect(createHash("sha256").update(await readFile(file)).digest("hex")).toBe(part.plainSha256);
    }
  }, 180_000);

  it("is re-read into the catalogue from storage with its codec", async () => {
    await env.db.backupJob.delete({ where: { id: backupId } });
    await reconcileFromStorage(env.ctx);
    const back = await env.db.backupJob.findUniqueOrThrow({ where: { id: backupId } });
    expect(back.status).toBe("SUCCEEDED");
    expect((await runVerify(env.ctx, backupId)).ok).toBe(true);
  });
});

describe("a damaged zstd stream inside a correctly encrypted archive", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ overrides: { compression: { codec: "zstd", level: 1 } } });
  });
  afterAll(async () => env.cleanup());

  it("fails verification as undecompressable, not as a storage problem", async () => {
    const id = await fullBackup(env);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
    const key = backupKeys(env.ctx.prefix, env.ctx.env, id, job.createdAt).manifest;
    const m = JSON.parse((await env.ctx.storage.getBytes(key)).toString("utf8")) as Manifest;
    // Claim gzip: the decompressor then meets bytes it cannot read.
    m.parts[0].compression!.codec = "gzip";
    await env.ctx.storage.putBytes(key, JSON.stringify(m), "application/json");
    // Past the manifest's own digest (decision 51), as a row made before it would be.
    await env.db.backupJob.update({ where: { id }, data: { manifestSha256: null } });
    const v = await runVerify(env.ctx, id);
    expect(v.ok).toBe(false);
    expect(v.reason).toMatch(/does not decompress|incorrect header/i);
  });
});

describe("S3 multipart parts planned from the expected size", () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => s3.stop());

  const MiB = 1024 * 1024;
  function storageWith(opts: { maxParts: number; bufferBudgetBytes?: number; partsInMemory?: boolean }) {
    const storage = new S3Storage({
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      region: "us-east-1",
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
      ...opts,
    });
    const sizes: number[] = [];
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "UploadPartCommand") {
          const input = args.input as { Body?: Uint8Array; ContentLength?: number; PartNumber?: number };
          sizes[(input.PartNumber ?? 1) - 1] = input.ContentLength ?? input.Body?.byteLength ?? -1;
        }
        return next(args);
      },
      { step: "initialize", name: "countParts" },
    );
    return { storage, sizes };
  }
  const total = 64 * MiB + 12345;
  const data = randomBytes(total);
  const source = () =>
    Readable.from(
      (function* () {
        for (let o = 0; o < data.length; o += MiB) yield data.subarray(o, o + MiB);
      })(),
    );
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  it.each([
    ["in memory (lib-storage), when asked", undefined, true, false],
    ["spooled to disk, three 13 MiB parts in flight within 64 MiB (the default)", undefined, false, true],
    ["spooled to disk even when asked for memory: 2 parts would not fit a 16 MiB budget", 16 * MiB, true, true],
  ] as const)("with a lowered 5-part limit, a 64 MiB archive goes up in at most 5 equal parts but the last — %s", async (_name, bufferBudgetBytes, partsInMemory, spooled) => {
    const { storage, sizes } = storageWith({ maxParts: 5, bufferBudgetBytes, partsInMemory });
    const key = `plan/${spooled ? "spooled" : "memory"}-${bufferBudgetBytes ?? 0}.bin`;
    const put = await storage.put(key, source(), { expectedBytes: total });
    expect(put.size).toBe(total);
    expect(storage.lastPlan).toMatchObject({ partSize: 13 * MiB, spool: spooled });
    expect(sizes.length).toBeLessThanOrEqual(5);
    expect(sizes.slice(0, -1).every((s) => s === 13 * MiB)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
    expect(sha(await storage.getBytes(key))).toBe(sha(data));
    expect((await storage.head(key))?.size).toBe(total);
  });

  it("a spooled upload sends up to queueSize parts at once (default plan: four 8 MiB parts)", async () => {
    const { storage } = storageWith({ maxParts: 10_000 });
    let now = 0;
    let most = 0;
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "UploadPartCommand") return next(args);
        most = Math.max(most, ++now);
        try {
          return await next(args);
        } finally {
          now--;
        }
      },
      { step: "initialize", name: "concurrentParts" },
    );
    const put = await storage.put("plan/concurrent.bin", source(), { expectedBytes: total });
    expect(put.size).toBe(total);
    expect(storage.lastPlan).toMatchObject({ partSize: 8 * MiB, queueSize: 4, spool: true, bufferBytes: 0 });
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
    expect(sha(await storage.getBytes("plan/concurrent.bin"))).toBe(sha(data));
  });

  it("a spooled upload whose source fails is aborted: no object, no open upload", async () => {
    const { storage } = storageWith({ maxParts: 5, bufferBudgetBytes: 16 * MiB });
    const failing = Readable.from(
      (async function* () {
        for (let o = 0; o < 30 * MiB; o += MiB) yield data.subarray(o, o + MiB);
        throw new Error("pg_dump died");
      })(),
    );
    await expect(storage.put("plan/failed.bin", failing, { expectedBytes: total })).rejects.toThrow(/pg_dump died/);
    expect(await storage.head("plan/failed.bin")).toBeNull();
    expect(await s3.openUploads()).toEqual([]);
  });
});
