// The backup engine end to end on real parts: pg-boss queue, worker, real pg_dump, OpenPGP
// checked by stock gpg, local disk and the S3 protocol (s3rver).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, writeFile, chmod, mkdir, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { makeEnv, listKeys, waitFor, PASSPHRASE, type TestEnv } from "./support/vitest-env";
import { gpgDecryptFile, pgRestoreListFile, sha256sum, zstdDecompressFile } from "./support/gpg";
import { createBackupJob, cancelBackup, sweepStaleJobs } from "../lib/backup/jobs";
import { runBackup } from "../lib/backup/run-backup";
import { runVerify } from "../lib/backup/verify";
import { deleteBackup } from "../lib/backup/delete";
import { startWorker, type WorkerHandle } from "../lib/worker";
import { backupDetail } from "../lib/backup/related";
import { backupKeys, parseManifest } from "../lib/backup/manifest";
import { stopBosses } from "../lib/queue";
import { SYSTEM } from "../lib/audit";
import { LocalStorage } from "../lib/backup/storage/local";

const actor = SYSTEM;

async function download(env: TestEnv, key: string, to: string) {
  await pipeline(await env.ctx.storage.get(key), createWriteStream(to));
}

async function finished(env: TestEnv, id: string, timeoutMs = 60_000) {
  return waitFor(async () => {
    const j = await env.db.backupJob.findUnique({ where: { id } });
    return j && ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) ? j : null;
  }, timeoutMs);
}

afterAll(async () => {
  await stopBosses();
});

describe.each(["local", "s3"] as const)("FULL backup to %s storage through the queue", (storage) => {
  let env: TestEnv;
  let worker: WorkerHandle;
  let work: string;
  beforeAll(async () => {
    env = await makeEnv({ storage });
    worker = await startWorker(env.ctx, { sweepIntervalMs: 3_600_000 });
    work = await mkdtemp(path.join(tmpdir(), "vaultline-dl-"));
  });
  afterAll(async () => {
    await worker.stop();
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("lands encrypted with the reported checksum, decrypts with stock gpg, lists with pg_restore, manifest beside it", async () => {
    const job = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL", note: "round trip" }, actor);
    expect(job.status).toBe("QUEUED");
    const done = await finished(env, job.id);
    expect(done.failureReason).toBeNull();
    expect(done.status).toBe("SUCCEEDED");
    const keys = backupKeys("backups", "test", job.id, job.createdAt);
    expect(done.storageKey).toBe(keys.archive);
    expect(keys.archive).toMatch(new RegExp(`^backups/test/default/\\d{4}/\\d{2}/${job.id}/archive\\.dump\\.gpg$`));

    const enc = path.join(work, `${storage}.dump.gpg`);
    await download(env, keys.archive, enc);
    expect(await sha256sum(enc)).toBe(done.checksumSha256);
    expect(Number(done.sizeBytes)).toBe((await readFile(enc)).length);
    // Not a plain pg_dump archive on disk: pg_dump's custom format starts with "PGDMP".
    expect((await readFile(enc)).subarray(0, 5).toString()).not.toBe("PGDMP");

    // gpg gives back a zstd stream (the default setting), zstd -d the pg_dump archive.
    const plain = path.join(work, `${storage}.dump.zst`);
    await gpgDecryptFile(enc, plain, PASSPHRASE);
    expect((await readFile(plain)).subarray(0, 4).toString("hex")).toBe("28b52ffd");
    const archive = path.join(work, `${storage}.dump`);
    await zstdDecompressFile(plain, archive);
    expect((await readFile(archive)).subarray(0, 5).toString()).toBe("PGDMP");
    const list = await pgRestoreListFile(archive);
    expect(list).toContain("TABLE public customers");
    expect(list).toContain("TABLE DATA public invoices");

    const manifest = parseManifest(await env.ctx.storage.getBytes(keys.manifest));
    expect(manifest.id).toBe(job.id);
    expect(manifest.checksumSha256).toBe(done.checksumSha256);
    expect(manifest.parts[0].plainSha256).toBe(await sha256sum(plain));
    expect(manifest.parts[0].compression).toMatchObject({ codec: "zstd", level: 1, pgDump: "-Z0", inputBytes: (await readFile(archive)).length });
    expect(manifest.pgDumpVersion).toMatch(/^15\./);
    expect(manifest.database.serverVersion).toMatch(/^15\./);
    // One host: nothing to say which one it was dumped from (decision 184).
    expect(manifest.database).not.toHaveProperty("dumpedFrom");
    expect(manifest.tableRowEstimates?.["public.customers"]).toBe(2000);
    // Issue 12 §3: a random key id, nothing computable from the passphrase by one HMAC.
    expect(manifest.encryption.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest.encryption).not.toHaveProperty("keyFingerprint");
    const text = JSON.stringify(manifest);
    const strings = new Set<string>(["vaultline-key-fingerprint", "", "key", "vaultline"]);
    JSON.parse(text, (k, v) => (strings.add(k), typeof v === "string" && strings.add(v), v));
    for (const s of strings) {
      const mac = createHmac("sha256", env.ctx.passphrase).update(s).digest("hex");
      expect(text, `HMAC over ${JSON.stringify(s.slice(0, 40))}`).not.toContain(mac.slice(0, 16));
    }
    const keyRow = await env.db.encryptionKey.findUniqueOrThrow({ where: { id: manifest.encryption.keyId! } });
    expect(text).not.toContain(keyRow.verifier.split("$").pop()!);
    expect(JSON.stringify(manifest)).not.toContain(PASSPHRASE);
    // The database password, read from the URL the backup used (not a copy of the harness's constant).
    const dbPassword = decodeURIComponent(new URL(env.targetUrl).password);
    expect(dbPassword.length).toBeGreaterThan(8);
    expect(JSON.stringify(manifest)).not.toContain(dbPassword);
    const phases = (done.metadata as { phases: { phase: string }[] }).phases.map((p) => p.phase);
    expect(phases).toEqual(expect.arrayContaining(["queued", "dumping", "writing manifest", "confirming", "done"]));
  });

  it("the sweep removes unfinished uploads that no running job owns (killed worker, abort lost in an outage)", async () => {
    const orphanKey = "backups/test/2026/11/cmorphan00000000000000000/archive.dump.gpg";
    const runningJob = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", status: "RUNNING", startedAt: new Date(), heartbeatAt: new Date() } });
    const liveKey = backupKeys("backups", "test", runningJob.id, runningJob.createdAt).archive;
    if (storage === "s3") {
      const { CreateMultipartUploadCommand, UploadPartCommand } = await import("@aws-sdk/client-s3");
      const client = (env.ctx.storage as unknown as { client: import("@aws-sdk/client-s3").S3Client }).client;
      for (const Key of [orphanKey, liveKey]) {
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: env.s3!.bucket, Key }));
        await client.send(new UploadPartCommand({ Bucket: env.s3!.bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }));
      }
      expect((await env.s3!.openUploads()).map((u) => u.key).sort()).toEqual([orphanKey, liveKey].sort());
    } else {
      for (const key of [orphanKey, liveKey]) {
        const dir = path.join(env.storageDir!, path.dirname(key));
        await mkdir(dir, { recursive: true });
        await writeFile(path.join(dir, `.${path.basename(key)}.vaultline-tmp-abc123`), "partial");
      }
    }
    await sweepStaleJobs(env.ctx);
    if (storage === "s3") {
      expect((await env.s3!.openUploads()).map((u) => u.key)).toEqual([liveKey]);
    } else {
      const { readdir } = await import("node:fs/promises");
      expect(await readdir(path.join(env.storageDir!, path.dirname(orphanKey)))).toEqual([]);
      expect(await readdir(path.join(env.storageDir!, path.dirname(liveKey)))).toHaveLength(1);
    }
    await env.db.backupJob.update({ where: { id: runningJob.id }, data: { status: "FAILED", completedAt: new Date() } });
    await sweepStaleJobs(env.ctx);
    if (storage === "s3") expect(await env.s3!.openUploads()).toEqual([]);
  });

  it("verify passes on the stored object and catches a flipped byte", async () => {
    const job = await createBackupJob(env.ctx, { kind: "FULL", trigger: "MANUAL" }, actor);
    const done = await finished(env, job.id);
    expect(done.status).toBe("SUCCEEDED");
    expect((await runVerify(env.ctx, job.id)).ok).toBe(true);
    const ok = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(ok.verifyStatus).toBe("PASSED");

    const enc = path.join(work, `${storage}-flip.gpg`);
    await download(env, done.storageKey!, enc);
    const bytes = await readFile(enc);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    await env.ctx.storage.putBytes(done.storageKey!, bytes);
    const bad = await runVerify(env.ctx, job.id);
    expect(bad.ok).toBe(false);
    expect(bad.reason).toMatch(/checksum|sha-?256/i);
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } })).verifyStatus).toBe("FAILED");

    // GET /api/backups/:id with a damaged, then a missing manifest: a fixed sentence with
    // the request id, never the parser's text or the object key.
    const manifestKey = backupKeys(env.ctx.prefix, env.ctx.env, job.id, done.createdAt).manifest;
    expect((await backupDetail(env.ctx, job.id, "req-1")).manifest).toMatchObject({ id: job.id });
    await env.ctx.storage.putBytes(manifestKey, Buffer.from('{"formatVersion":1,"id":"<script>'), "application/json");
    expect((await backupDetail(env.ctx, job.id, "req-2")).manifest).toEqual({
      error: "the stored manifest is damaged (request req-2; details in the server log)",
    });
    await env.ctx.storage.delete(manifestKey);
    const missing = (await backupDetail(env.ctx, job.id, "req-3")).manifest as { error: string };
    expect(missing.error).toBe("the manifest object is missing from storage (request req-3; details in the server log)");
    expect(missing.error).not.toContain(manifestKey);
  });
});

describe("backup engine", () => {
  let env: TestEnv;
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "vaultline-eng-"));
    await mkdir(path.join(work, "uploads/ads"), { recursive: true });
    await writeFile(path.join(work, "uploads/ads/a.webp"), "image-a");
    await writeFile(path.join(work, "uploads/ads/b.webp"), "image-b");
    env = await makeEnv({ overrides: { filesDir: path.join(work, "uploads"), appCommitSha: "abc1234def" } });
  });
  afterAll(async () => {
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  async function newJob(input: Parameters<typeof createBackupJob>[1]) {
    // Rows without the queue: these tests drive runBackup directly.
    return env.db.backupJob.create({
      data: { kind: input.kind, trigger: input.trigger, commitSha: input.commitSha ?? null, metadata: { includeFiles: !!input.includeFiles, phases: [] } },
    });
  }

  it("a FILES_DIR that is not there fails the backup at once, saying so, before the database is dumped (decision 164)", async () => {
    const job = await newJob({ kind: "FULL", trigger: "MANUAL", includeFiles: true });
    const missing = path.join(work, "no-such-uploads");
    const r = await runBackup({ ...env.ctx, filesDir: missing }, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toBe(`FILES_DIR (${missing}) does not exist on this machine: create it, point FILES_DIR (or the target's files directory) at the uploads, or back up without files`);
    const done = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    const phases = (done.metadata as { phases: { phase: string }[] }).phases.map((p) => p.phase);
    expect(phases).not.toContain("dumping");
    expect(await listKeys(env.ctx.storage, backupKeys("backups", "test", job.id, job.createdAt).dir)).toEqual([]);
  });

  it("QUICK records the commit, schema hash and migration state, and no data", async () => {
    const job = await newJob({ kind: "QUICK", trigger: "PRE_DEPLOY" });
    expect((await runBackup(env.ctx, job.id)).status).toBe("SUCCEEDED");
    const done = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(done.commitSha).toBe("abc1234def");
    const keys = backupKeys("backups", "test", job.id, job.createdAt);
    expect(await listKeys(env.ctx.storage, keys.dir)).toEqual([keys.manifest]);
    const m = parseManifest(await env.ctx.storage.getBytes(keys.manifest));
    expect(m.parts).toEqual([]);
    expect(m.schemaHash).toMatch(/^[0-9a-f]{64}$/);
    expect(m.commitSha).toBe("abc1234def");
    expect(done.checksumSha256).toBe(await sha256OfKey(keys.manifest));
    // Its manifest alone, plain JSON: not said to be encrypted (it was, in every answer).
    const detail = await backupDetail(env.ctx, job.id, "req-quick");
    expect(detail).toMatchObject({ kind: "QUICK", encrypted: false });
  });

  it("QUICK without a commit from the request or the configuration: refused with a 400 at request time, failed at run time", async () => {
    const bare = { ...env.ctx, appCommitSha: undefined, appRepoDir: undefined };
    const before = await env.db.backupJob.count();
    const refused = await createBackupJob(bare, { kind: "QUICK", trigger: "MANUAL" }, SYSTEM).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "VALIDATION_FAILED", status: 400, message: expect.stringMatching(/APP_COMMIT_SHA.*APP_REPO_DIR/) });
    expect(await env.db.backupJob.count()).toBe(before);
    // A git checkout in APP_REPO_DIR is a source: its HEAD is recorded.
    const repo = path.join(work, "app-repo");
    await mkdir(repo, { recursive: true });
    const git = (...args: string[]) => new Promise<string>((res, rej) => execFile("git", args, { cwd: repo }, (e, out) => (e ? rej(e) : res(out.trim()))));
    await git("init", "-q");
    await git("-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "x");
    const head = await git("rev-parse", "HEAD");
    const fromRepo = await createBackupJob({ ...bare, appRepoDir: repo }, { kind: "QUICK", trigger: "MANUAL" }, SYSTEM);
    expect(fromRepo.commitSha).toBe(head);
    await cancelBackup(env.ctx, fromRepo.id, SYSTEM);
    // A scheduled QUICK row (written by the scheduler, not createBackupJob) fails with the same explanation.
    const row = await newJob({ kind: "QUICK", trigger: "SCHEDULED" });
    expect(await runBackup(bare, row.id)).toMatchObject({ status: "FAILED" });
    expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: row.id } })).failureReason).toMatch(/APP_COMMIT_SHA/);
  });

  async function sha256OfKey(key: string) {
    const { createHash } = await import("node:crypto");
    return createHash("sha256").update(await env.ctx.storage.getBytes(key)).digest("hex");
  }

  it("bundles the files directory as a second encrypted part of the same run", async () => {
    const job = await newJob({ kind: "FULL", trigger: "MANUAL", includeFiles: true });
    expect((await runBackup(env.ctx, job.id)).status).toBe("SUCCEEDED");
    const keys = backupKeys("backups", "test", job.id, job.createdAt);
    const m = parseManifest(await env.ctx.storage.getBytes(keys.manifest));
    expect(m.parts.map((p) => p.name)).toEqual(["database", "files"]);
    const enc = path.join(work, "files.tar.gpg");
    await download(env, keys.files, enc);
    expect(await sha256sum(enc)).toBe(m.parts[1].sha256);
    const tarFile = path.join(work, "files.tar");
    await gpgDecryptFile(enc, tarFile, PASSPHRASE);
    const { execFileSync } = await import("node:child_process");
    expect(execFileSync("tar", ["-tf", tarFile]).toString()).toMatch(/ads\/a\.webp/);
    expect((await runVerify(env.ctx, job.id)).ok).toBe(true);
  });

  it("cancel mid-dump leaves no listed backup and no object", async () => {
    // pg_dump queues behind an exclusive lock, so the job is reliably mid-dump.
    const blocker = new pg.Client({ connectionString: env.targetUrl });
    await blocker.connect();
    await blocker.query("BEGIN; LOCK TABLE invoices IN ACCESS EXCLUSIVE MODE");
    try {
      const job = await newJob({ kind: "FULL", trigger: "MANUAL" });
      const run = runBackup(env.ctx, job.id);
      await waitFor(async () => (await env.db.backupJob.findUnique({ where: { id: job.id } }))?.phase === "dumping");
      await cancelBackup(env.ctx, job.id, actor);
      const result = await run;
      expect(result.status).toBe("CANCELLED");
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
      expect(row.status).toBe("CANCELLED");
      expect(row.storageKey).toBeNull();
      expect(await listKeys(env.ctx.storage, backupKeys("backups", "test", job.id, job.createdAt).dir)).toEqual([]);
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }
  });

  it("gives the readable reason when pg_dump is older than the server", async () => {
    const bin = path.join(work, "oldbin");
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, "pg_dump"), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 14.9'\n");
    await chmod(path.join(bin, "pg_dump"), 0o755);
    const job = await newJob({ kind: "FULL", trigger: "MANUAL" });
    const r = await runBackup({ ...env.ctx, pgBinDir: bin }, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/pg_dump 14 cannot dump server 15.*PG_BIN_DIR/);
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.failureReason).toBe(r.failureReason);
  });

  it("fails with the storage's reason and lists nothing when storage is unreachable", async () => {
    const { S3Storage } = await import("../lib/backup/storage/s3");
    const dead = new S3Storage({
      bucket: "b",
      region: "us-east-1",
      endpoint: "http://127.0.0.1:9",
      accessKeyId: "x",
      secretAccessKey: "y",
      forcePathStyle: true,
      maxAttempts: 1,
    } as ConstructorParameters<typeof S3Storage>[0]);
    const job = await newJob({ kind: "FULL", trigger: "MANUAL" });
    const r = await runBackup({ ...env.ctx, storage: dead }, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/unreachable|ECONNREFUSED|Storage unavailable/i);
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("FAILED");
    expect(row.checksumSha256).toBeNull();
  });

  it("marks a RUNNING job whose heartbeat stopped FAILED on the next sweep, and removes its objects", async () => {
    const job = await env.db.backupJob.create({
      data: { kind: "FULL", trigger: "MANUAL", status: "RUNNING", startedAt: new Date(), heartbeatAt: new Date(), phase: "dumping" },
    });
    const keys = backupKeys("backups", "test", job.id, job.createdAt);
    await env.ctx.storage.putBytes(keys.archive, "partial");
    expect((await sweepStaleJobs(env.ctx)).failed).not.toContain(job.id);
    const later = new Date(Date.now() + 3 * 60_000);
    expect((await sweepStaleJobs(env.ctx, later)).failed).toContain(job.id);
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(row.status).toBe("FAILED");
    expect(row.failureReason).toMatch(/worker stopped responding/);
    expect(await env.ctx.storage.head(keys.archive)).toBeNull();
  });

  it("runs one backup of a target at a time; the second waits", async () => {
    const a = await newJob({ kind: "FULL", trigger: "MANUAL" });
    const b = await newJob({ kind: "FULL", trigger: "MANUAL" });
    await Promise.all([runBackup(env.ctx, a.id), runBackup(env.ctx, b.id)]);
    const [ra, rb] = await Promise.all([a, b].map((j) => env.db.backupJob.findUniqueOrThrow({ where: { id: j.id } })));
    expect([ra.status, rb.status]).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    const [first, second] = ra.startedAt! < rb.startedAt! ? [ra, rb] : [rb, ra];
    expect(second.startedAt!.getTime()).toBeGreaterThanOrEqual(first.completedAt!.getTime());
  });

  it("refuses to delete the only successful FULL backup, deletes others with their objects", async () => {
    const fresh = await makeEnv({ seed: true });
    try {
      const only = await fresh.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL" } });
      expect((await runBackup(fresh.ctx, only.id)).status).toBe("SUCCEEDED");
      await expect(deleteBackup(fresh.ctx, only.id, actor)).rejects.toMatchObject({ code: "CONFLICT" });
      const second = await fresh.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL" } });
      expect((await runBackup(fresh.ctx, second.id)).status).toBe("SUCCEEDED");
      await deleteBackup(fresh.ctx, only.id, actor);
      expect(await fresh.db.backupJob.findUnique({ where: { id: only.id } })).toBeNull();
      expect(await listKeys(fresh.ctx.storage, backupKeys("backups", "test", only.id, only.createdAt).dir)).toEqual([]);
      const audit = await fresh.db.auditEvent.findFirst({ where: { action: "backup.deleted", target: only.id } });
      expect(audit).not.toBeNull();
    } finally {
      await fresh.cleanup();
    }
  });

  it("never leaves a temp file behind in local storage after a failure", async () => {
    const job = await newJob({ kind: "FULL", trigger: "MANUAL" });
    const r = await runBackup({ ...env.ctx, targetUrl: env.targetUrl.replace(/\/[^/]+$/, "/does_not_exist") }, job.id);
    expect(r.status).toBe("FAILED");
    expect(r.failureReason).toMatch(/does_not_exist|does not exist/);
    const all = await listKeys(env.ctx.storage as LocalStorage);
    expect(all.filter((k) => k.includes(job.id))).toEqual([]);
  });
});
