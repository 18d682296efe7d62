// The streaming backup core against real parts: PostgreSQL 15 (pg_dump/pg_restore), an
// S3-protocol server (s3rver), the local filesystem and stock gpg.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { ListMultipartUploadsCommand } from "@aws-sdk/client-s3";
import * as tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyStoredObject, writeEncryptedObject } from "../lib/backup/archive";
import { decryptStream, encryptStream } from "../lib/backup/crypto";
import { legacyKeyFingerprint, newKeyId, verifierMatches } from "../lib/backup/key-id";
import {
  checkDumpCompatibility,
  compareDumpVersions,
  parseServerVersionNum,
  parseToolVersion,
  pgRestoreList,
  spawnPgDump,
  spawnPgRestore,
} from "../lib/backup/dump";
import { extractTarInto, tarDirectory, UnsafeTarEntryError } from "../lib/backup/files";
import { createHashingStream } from "../lib/backup/hashing";
import { prismaMigrationRows, schemaHash, schemaSnapshot, tableRowEstimates } from "../lib/backup/introspect";
import { backupKeys, manifestForCaller, ManifestError, parseManifest, serializeManifest, type Manifest } from "../lib/backup/manifest";
import { createStorage } from "../lib/backup/storage";
import { LocalStorage } from "../lib/backup/storage/local";
import { S3Storage } from "../lib/backup/storage/s3";
import { InvalidKeyError, StorageUnavailableError, type Storage } from "../lib/backup/storage/types";
import { createDatabase, dropDatabase, sql } from "./support/vitest-env";
import { startS3, type S3Server } from "./support/s3";
import { closedPort } from "./support/receivers";

const run = promisify(execFile);
const PASSPHRASE = "correct horse battery staple 42";

let dbUrl: string;
let s3: S3Server;
let s3Storage: S3Storage;
let workDir: string;
let local: LocalStorage;
let gnupgHome: string;
const databases: string[] = [];

function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

async function gpgDecrypt(input: string, output: string, passphrase = PASSPHRASE): Promise<void> {
  // From a file, as docs/recovery.md does (a passphrase starting with '-' is not an option then).
  const passFile = path.join(gnupgHome, `passphrase-${process.pid}-${Date.now()}`);
  await writeFile(passFile, passphrase, { mode: 0o600 });
  await run(
    "gpg",
    ["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase-file", passFile, "--output", output, "--decrypt", input],
    { env: { ...process.env, GNUPGHOME: gnupgHome } },
  );
}

/** `bytes` of deterministic, incompressible-looking data in 64 KiB chunks; optional pacing. */
function generated(bytes: number, opts: { delayEveryBytes?: number } = {}): Readable {
  const pool = randomBytes(1 << 20);
  let sent = 0;
  let sinceDelay = 0;
  return new Readable({
    highWaterMark: 1 << 16,
    read() {
      if (sent >= bytes) return void this.push(null);
      const n = Math.min(1 << 16, bytes - sent);
      const offset = (sent * 7) % (pool.length - n);
      const chunk = Buffer.from(pool.subarray(offset, offset + n));
      chunk.writeUInt32BE(sent >>> 0, 0);
      sent += n;
      sinceDelay += n;
      if (opts.delayEveryBytes && sinceDelay >= opts.delayEveryBytes) {
        sinceDelay = 0;
        setTimeout(() => this.push(chunk), 5);
      } else this.push(chunk);
    },
  });
}

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
  }
  return out.sort();
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "vaultline-core-"));
  gnupgHome = path.join(workDir, "gnupg");
  await mkdir(gnupgHome, { mode: 0o700 });
  local = new LocalStorage(path.join(workDir, "backups"));
  s3 = await startS3();
  s3Storage = new S3Storage({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: "us-east-1",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
    // Small parts so tests of tens of MB exercise real multipart uploads.
    partSize: 5 * 1024 * 1024,
  });

  dbUrl = await createDatabase("core");
  databases.push(dbUrl);
  await sql(
    dbUrl,
    `CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name varchar(80), created_at timestamptz DEFAULT now());
     CREATE TABLE documents (id serial PRIMARY KEY, user_id int REFERENCES users(id), title text, body bytea);
     CREATE SCHEMA reporting;
     CREATE TABLE reporting.events (id bigserial PRIMARY KEY, kind varchar(40), payload jsonb);
     INSERT INTO users (email, name) SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 2000) g;
     INSERT INTO documents (user_id, title, body)
       SELECT 1 + (g % 2000), 'Doc ' || g, decode(repeat(md5(g::text), 8), 'hex') FROM generate_series(1, 3000) g;
     INSERT INTO reporting.events (kind, payload) SELECT 'k' || (g % 5), jsonb_build_object('n', g) FROM generate_series(1, 1500) g;
     ANALYZE;`,
  );
});

afterAll(async () => {
  for (const url of databases) await dropDatabase(url).catch(() => undefined);
  await s3?.stop();
  if (gnupgHome) {
    await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: gnupgHome } }).catch(() => undefined);
  }
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe("memory and throughput", () => {
  it("streams 200 MB through hash → encrypt → hash → local put with flat memory", async () => {
    const total = 200 * 1024 * 1024;
    const storage = new LocalStorage(path.join(workDir, "memory"));
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const started = performance.now();
    const source = generated(total);
    const plainCheck = createHashingStream();
    source.pipe(plainCheck.stream);
    let progressCalls = 0;
    const res = await writeEncryptedObject({
      source: plainCheck.stream,
      storage,
      key: "big/archive.gpg",
      passphrase: PASSPHRASE,
      onProgress: () => progressCalls++,
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - baseline) / 1024 / 1024;
    console.log(
      `[bench] 200 MB encrypt+local put: ${(total / 1024 / 1024 / seconds).toFixed(1)} MiB/s, ` +
        `RSS baseline ${(baseline / 1048576).toFixed(0)} MB, peak ${(peak / 1048576).toFixed(0)} MB, growth ${growthMb.toFixed(0)} MB`,
    );
    expect(res.plainBytes).toBe(total);
    expect(res.plainSha256).toBe(plainCheck.digest());
    expect(res.storedBytes).toBeGreaterThan(total);
    expect(res.storedBytes).toBeLessThan(total + 64 * 1024);
    expect((await storage.head("big/archive.gpg"))?.size).toBe(res.storedBytes);
    expect(progressCalls).toBeGreaterThan(10);
    expect(growthMb).toBeLessThan(150);

    // Decryption must stream too (openpgp buffers everything unless told otherwise).
    const decryptBaseline = process.memoryUsage().rss;
    let decryptPeak = decryptBaseline;
    const decryptSampler = setInterval(() => {
      decryptPeak = Math.max(decryptPeak, process.memoryUsage().rss);
    }, 100);
    const back = createHashingStream();
    const decrypted = await decryptStream(await storage.get("big/archive.gpg"), PASSPHRASE);
    for await (const chunk of decrypted.pipe(back.stream)) void chunk;
    clearInterval(decryptSampler);
    decryptPeak = Math.max(decryptPeak, process.memoryUsage().rss);
    console.log(`[bench] 200 MB decrypt: RSS growth ${((decryptPeak - decryptBaseline) / 1048576).toFixed(0)} MB`);
    expect(back.digest()).toBe(res.plainSha256);
    expect((decryptPeak - decryptBaseline) / 1024 / 1024).toBeLessThan(150);
    await storage.delete("big/archive.gpg");
  }, 180_000);
});

describe("dump → encrypt → store → recover with stock tools", () => {
  async function backupTo(storage: Storage, key: string) {
    const dump = spawnPgDump(dbUrl);
    const written = await writeEncryptedObject({ source: dump.stdout, storage, key, passphrase: PASSPHRASE });
    await dump.done;
    return written;
  }

  async function expectRestorableWithGpg(file: string, written: { plainSha256: string }) {
    const plain = path.join(workDir, `${path.basename(file)}.dump`);
    await gpgDecrypt(file, plain);
    expect(sha256(await readFile(plain))).toBe(written.plainSha256);
    const { stdout } = await run("pg_restore", ["--list", plain]);
    expect(stdout).toMatch(/TABLE DATA public documents/);
    expect(stdout).toMatch(/TABLE DATA public users/);
    expect(stdout).toMatch(/TABLE DATA reporting events/);
    return stdout;
  }

  it("local: stored sha = sha256sum of the file, gpg decrypts it, pg_restore restores it", async () => {
    const key = "backups/test/2026/01/local1/archive.dump.gpg";
    const written = await backupTo(local, key);
    const file = path.join(local.root, key);
    const { stdout: sum } = await run("sha256sum", [file]);
    expect(sum.split(" ")[0]).toBe(written.storedSha256);
    expect((await readFile(file)).length).toBe(written.storedBytes);
    const list = await expectRestorableWithGpg(file, written);

    const verified = await verifyStoredObject({
      storage: local,
      key,
      passphrase: PASSPHRASE,
      expectedSha256: written.storedSha256,
      expectedPlainSha256: written.plainSha256,
      kind: "pgdump",
    });
    expect(verified).toMatchObject({ ok: true, storedSha256: written.storedSha256, storedBytes: written.storedBytes });
    expect(verified.tocEntries).toBe(list.split("\n").filter((l) => l && !l.startsWith(";")).length);

    // And the data comes back: restore into a fresh database through decrypt → pg_restore.
    const target = await createDatabase("restored");
    databases.push(target);
    await spawnPgRestore(await decryptStream(await local.get(key), PASSPHRASE), target, {
      singleTransaction: true,
      noOwner: true,
    });
    const q = `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM reporting.events)::int AS events,
                      (SELECT md5(string_agg(encode(body, 'hex'), '' ORDER BY id)) FROM documents) AS docs`;
    expect(await sql(target, q)).toEqual(await sql(dbUrl, q));
  });

  it("s3: downloaded bytes match the stored sha (no aws-chunked framing), gpg decrypts them", async () => {
    const key = "backups/test/2026/01/s3one/archive.dump.gpg";
    const written = await backupTo(s3Storage, key);
    const url = await s3Storage.downloadUrl(key, 60);
    expect(url).toMatch(/X-Amz-Signature=/);
    const res = await fetch(url!);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.length).toBe(written.storedBytes);
    expect(sha256(body)).toBe(written.storedSha256);
    const file = path.join(workDir, "from-s3.gpg");
    await writeFile(file, body);
    const { stdout: sum } = await run("sha256sum", [file]);
    expect(sum.split(" ")[0]).toBe(written.storedSha256);
    await expectRestorableWithGpg(file, written);

    const verified = await verifyStoredObject({
      storage: s3Storage,
      key,
      passphrase: PASSPHRASE,
      expectedSha256: written.storedSha256,
      kind: "pgdump",
    });
    expect(verified.ok).toBe(true);
    expect(verified.tocEntries).toBeGreaterThan(5);
  });

  it("s3: a multipart upload round-trips byte for byte and leaves no open upload", async () => {
    const key = "multi/archive.gpg";
    const source = generated(23 * 1024 * 1024);
    const plainCheck = createHashingStream();
    source.pipe(plainCheck.stream);
    const written = await writeEncryptedObject({ source: plainCheck.stream, storage: s3Storage, key, passphrase: PASSPHRASE });
    expect(written.plainSha256).toBe(plainCheck.digest());
    expect((await s3Storage.head(key))?.size).toBe(written.storedBytes);
    const back = createHashingStream();
    const decrypted = await decryptStream(await s3Storage.get(key), PASSPHRASE);
    for await (const chunk of decrypted.pipe(back.stream)) void chunk;
    expect(back.digest()).toBe(written.plainSha256);
    expect(await s3.openUploads()).toEqual([]);
    const listed: string[] = [];
    for await (const o of s3Storage.list("multi/")) listed.push(o.key);
    expect(listed).toEqual([key]);
  });

  it("a failing pg_dump fails the write with pg_dump's reason, leaves no object and leaks no password", async () => {
    const u = new URL(dbUrl);
    u.pathname = "/no_such_database_here";
    const dump = spawnPgDump(u.toString());
    const key = "backups/test/failed/archive.dump.gpg";
    const err = await writeEncryptedObject({ source: dump.stdout, storage: local, key, passphrase: PASSPHRASE }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/pg_dump failed: .*no_such_database_here.*does not exist/);
    await expect(dump.done).rejects.toThrow(/does not exist/);
    expect((err as Error).message).not.toContain(decodeURIComponent(u.password));
    expect(await local.head(key)).toBeNull();
    const folder = path.join(local.root, "backups/test/failed");
    expect(existsSync(folder) ? await readdir(folder) : []).toEqual([]);
  });

  it("pg_restore never commits a broken input: the source error wins and the target stays empty", async () => {
    const key = "backups/test/2026/01/local1/archive.dump.gpg";
    const plain = await decryptStream(await local.get(key), PASSPHRASE);
    let sent = 0;
    const broken = Readable.from(
      (async function* () {
        for await (const chunk of plain) {
          sent += (chunk as Uint8Array).length;
          yield chunk;
          if (sent > 64 * 1024) throw new Error("source broke mid-stream");
        }
      })(),
    );
    const target = await createDatabase("broken");
    databases.push(target);
    await expect(spawnPgRestore(broken, target, { singleTransaction: true, noOwner: true })).rejects.toThrow(
      "source broke mid-stream",
    );
    expect(await sql(target, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname IN ('public', 'reporting')")).toEqual([
      { n: 0 },
    ]);
  });

  it("pg_dump honours schemaOnly and excludeSchemas", async () => {
    const schemaOnly = spawnPgDump(dbUrl, { schemaOnly: true });
    const [list] = await Promise.all([pgRestoreList(schemaOnly.stdout), schemaOnly.done]);
    expect(list).toMatch(/TABLE public documents/);
    expect(list).not.toMatch(/TABLE DATA/);
    const withoutReporting = spawnPgDump(dbUrl, { excludeSchemas: ["reporting"] });
    const [list2] = await Promise.all([pgRestoreList(withoutReporting.stdout), withoutReporting.done]);
    expect(list2).toMatch(/TABLE DATA public users/);
    expect(list2).not.toMatch(/reporting/);
  });

  it("pg_restore failures carry pg_restore's own reason", async () => {
    const target = await createDatabase("garbage");
    databases.push(target);
    await expect(spawnPgRestore(Readable.from([randomBytes(4096)]), target, {})).rejects.toThrow(
      /pg_restore failed: .*(valid archive|not appear)/,
    );
    await expect(pgRestoreList(Readable.from([Buffer.from("PGDMP garbage")]))).rejects.toThrow(/pg_restore failed/);
  });

  it("aborting pg_dump by signal errors its stream instead of ending it", async () => {
    const ac = new AbortController();
    const dump = spawnPgDump(dbUrl, { signal: ac.signal });
    ac.abort();
    const consumed = (async () => {
      for await (const _chunk of dump.stdout);
    })();
    await expect(consumed).rejects.toThrow(/cancelled/);
    await expect(dump.done).rejects.toMatchObject({ name: "AbortError" });
  });
});

describe("verifyStoredObject rejects damaged objects and wrong keys without throwing", () => {
  let good: { key: string; storedSha256: string; plainSha256: string; bytes: Buffer };

  beforeAll(async () => {
    const key = "verify/good.dump.gpg";
    const dump = spawnPgDump(dbUrl);
    const w = await writeEncryptedObject({ source: dump.stdout, storage: local, key, passphrase: PASSPHRASE });
    await dump.done;
    good = { key, storedSha256: w.storedSha256, plainSha256: w.plainSha256, bytes: await local.getBytes(key) };
  });

  async function verifyBytes(storage: Storage, bytes: Buffer, passphrase = PASSPHRASE) {
    const key = `verify/case-${randomBytes(4).toString("hex")}.gpg`;
    await storage.putBytes(key, bytes);
    return verifyStoredObject({ storage, key, passphrase, expectedSha256: good.storedSha256, kind: "pgdump" });
  }

  it("accepts the intact object", async () => {
    expect((await verifyBytes(local, good.bytes)).ok).toBe(true);
  });

  it("flipped byte (local and s3) → checksum mismatch", async () => {
    const flipped = Buffer.from(good.bytes);
    flipped[Math.floor(flipped.length / 2)] ^= 0x01;
    for (const storage of [local, s3Storage] as Storage[]) {
      const r = await verifyBytes(storage, flipped);
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/checksum mismatch/);
      expect(r.storedSha256).toBe(sha256(flipped));
      expect(r.storedBytes).toBe(flipped.length);
    }
  });

  it("truncated object → checksum mismatch naming the stored size", async () => {
    const truncated = good.bytes.subarray(0, good.bytes.length - 1000);
    const r = await verifyBytes(local, truncated);
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/checksum mismatch.*altered or truncated/);
    expect(r.storedBytes).toBe(truncated.length);
  });

  it("wrong passphrase on an intact object → wrong passphrase reason, checksum still matches", async () => {
    const r = await verifyBytes(local, good.bytes, "not the passphrase at all");
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/wrong passphrase or corrupt archive/);
    expect(r.storedSha256).toBe(good.storedSha256);
  });

  it("a correctly encrypted object that is not a pg_dump archive → pg_restore's reason", async () => {
    const key = "verify/not-a-dump.gpg";
    const w = await writeEncryptedObject({ source: generated(300_000), storage: local, key, passphrase: PASSPHRASE });
    const r = await verifyStoredObject({ storage: local, key, passphrase: PASSPHRASE, expectedSha256: w.storedSha256, kind: "pgdump" });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/pg_restore.*(valid archive|not appear)/i);
  });

  it("a stale expected checksum fails even when the object decrypts", async () => {
    const key = "verify/stale.gpg";
    await local.putBytes(key, good.bytes);
    const r = await verifyStoredObject({ storage: local, key, passphrase: PASSPHRASE, expectedSha256: "0".repeat(64), kind: "pgdump" });
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/checksum mismatch/);
  });

  it("missing object → ok:false", async () => {
    const r = await verifyStoredObject({ storage: local, key: "verify/nope.gpg", passphrase: PASSPHRASE, expectedSha256: good.storedSha256, kind: "pgdump" });
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/missing/) });
  });
});

describe("cancellation and failure leave nothing behind", () => {
  it("local: abort mid-put removes the temp file and stores nothing", async () => {
    const storage = new LocalStorage(path.join(workDir, "abort-local"));
    const ac = new AbortController();
    let seen = 0;
    const p = writeEncryptedObject({
      source: generated(500 * 1024 * 1024, { delayEveryBytes: 1 << 20 }),
      storage,
      key: "a/b/archive.gpg",
      passphrase: PASSPHRASE,
      signal: ac.signal,
      onProgress: (_plain, stored) => {
        seen = stored;
        if (stored > 3 * 1024 * 1024) ac.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    expect(seen).toBeGreaterThan(3 * 1024 * 1024);
    expect(await storage.head("a/b/archive.gpg")).toBeNull();
    // Not even a temp file: only the (now empty) folders may remain.
    const left = await listAll(storage.root);
    expect(left.filter((f) => !["a", "a/b"].includes(f))).toEqual([]);
  });

  it("s3: abort mid-multipart aborts the upload (ListMultipartUploads shows none) and stores nothing", async () => {
    const ac = new AbortController();
    let sawOpenUpload = false;
    let checking = false;
    const key = "abort/archive.gpg";
    const p = writeEncryptedObject({
      source: generated(500 * 1024 * 1024, { delayEveryBytes: 1 << 20 }),
      storage: s3Storage,
      key,
      passphrase: PASSPHRASE,
      signal: ac.signal,
      onProgress: (_plain, stored) => {
        if (stored > 16 * 1024 * 1024 && !checking) {
          checking = true;
          // Abort only once the store really has an open multipart upload for this key.
          void (async () => {
            for (let i = 0; i < 100 && !sawOpenUpload; i++) {
              sawOpenUpload = (await s3.openUploads()).some((u) => u.key === key);
              if (!sawOpenUpload) await new Promise((r) => setTimeout(r, 20));
            }
            ac.abort();
          })();
        }
      },
    });
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    expect(sawOpenUpload).toBe(true);
    const listed = await s3Storage.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }));
    expect(listed.Uploads ?? []).toEqual([]);
    expect(await s3.openUploads()).toEqual([]);
    expect(await s3Storage.head(key)).toBeNull();
  });

  it("s3: a body that errors mid-upload aborts the multipart upload and rejects with the body's error", async () => {
    const key = "abort/body-error.gpg";
    const source = generated(40 * 1024 * 1024);
    let sent = 0;
    source.on("data", (c: Buffer) => {
      sent += c.length;
      if (sent > 15 * 1024 * 1024) source.destroy(new Error("dump process died"));
    });
    source.pause();
    const err = await s3Storage.put(key, source).catch((e: Error) => e);
    expect((err as Error).message).toBe("dump process died");
    expect(await s3.openUploads()).toEqual([]);
    expect(await s3Storage.head(key)).toBeNull();
  });

  it("unreachable S3 endpoint: put and ping reject StorageUnavailableError quickly, without secrets", async () => {
    const port = await closedPort();
    const storage = createStorage(
      {
        STORAGE: "s3",
        localStorageDir: "/unused",
        S3_ENDPOINT: `http://127.0.0.1:${port}`,
        S3_REGION: "us-east-1",
        S3_BUCKET: "nowhere",
        S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
        S3_SECRET_ACCESS_KEY: "super-secret-key-value",
        S3_FORCE_PATH_STYLE: true,
      },
      { maxAttempts: 1, connectionTimeoutMs: 1000 },
    );
    expect(storage.description).toBe(`s3://nowhere (http://127.0.0.1:${port})`);
    const started = Date.now();
    const err = await storage.put("x/archive.gpg", generated(64 * 1024)).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(StorageUnavailableError);
    expect((err as Error).message).toBe(`S3 endpoint http://127.0.0.1:${port} unreachable: ECONNREFUSED`);
    const pingErr = await storage.ping().catch((e: unknown) => e);
    expect(pingErr).toBeInstanceOf(StorageUnavailableError);
    expect((pingErr as Error).message).not.toContain("super-secret-key-value");
  });

  it("s3 client never sends aws-chunked trailing checksums (s3rver and some S3 clones store the framing)", async () => {
    expect(await s3Storage.client.config.requestChecksumCalculation()).toBe("WHEN_REQUIRED");
    expect(await s3Storage.client.config.responseChecksumValidation()).toBe("WHEN_REQUIRED");
  });

  it("s3 ping succeeds against the live bucket and names a missing one", async () => {
    await expect(s3Storage.ping()).resolves.toBeUndefined();
    const missing = new S3Storage({ ...s3StorageOptions(), bucket: "no-such-bucket" });
    await expect(missing.ping()).rejects.toThrow(/no-such-bucket does not exist/);
  });
});

function s3StorageOptions() {
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: "us-east-1",
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    forcePathStyle: true,
  };
}

describe("storage contract", () => {
  for (const name of ["local", "s3"] as const) {
    it(`${name}: putBytes/getBytes/head/list/delete`, async () => {
      const storage: Storage = name === "local" ? local : s3Storage;
      const prefix = `contract-${name}/2026/`;
      await storage.putBytes(`${prefix}a/manifest.json`, '{"a":1}', "application/json");
      await storage.putBytes(`${prefix}b/manifest.json`, Buffer.from("bb"));
      await storage.putBytes(`contract-${name}/other.txt`, "x");
      expect((await storage.getBytes(`${prefix}a/manifest.json`)).toString()).toBe('{"a":1}');
      expect(await storage.head(`${prefix}b/manifest.json`)).toMatchObject({ size: 2 });
      expect(await storage.head(`${prefix}c/manifest.json`)).toBeNull();
      const keys: string[] = [];
      for await (const o of storage.list(prefix)) keys.push(o.key);
      expect(keys.sort()).toEqual([`${prefix}a/manifest.json`, `${prefix}b/manifest.json`]);
      const partial: string[] = [];
      for await (const o of storage.list(`contract-${name}/2026/a`)) partial.push(o.key);
      expect(partial).toEqual([`${prefix}a/manifest.json`]);
      await storage.delete(`${prefix}a/manifest.json`);
      await storage.delete(`${prefix}a/manifest.json`);
      expect(await storage.head(`${prefix}a/manifest.json`)).toBeNull();
      await expect(storage.get(`${prefix}a/manifest.json`)).rejects.toMatchObject({ name: "ObjectNotFoundError" });
      await expect(storage.getBytes(`${prefix}zzz`)).rejects.toMatchObject({ name: "ObjectNotFoundError" });
    });
  }

  it("local: refuses keys that could escape the root, and writes nothing outside it", async () => {
    const root = path.join(workDir, "jail", "root");
    const storage = new LocalStorage(root);
    const bad = ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "a\0b", "", "a//b", "./a", "a\\..\\..\\b"];
    for (const key of bad) {
      await expect(storage.putBytes(key, "x")).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.put(key, Readable.from([Buffer.from("x")]))).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.get(key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidKeyError);
    }
    expect(existsSync(path.join(workDir, "jail", "escape.txt"))).toBe(false);
    expect(existsSync(path.join(workDir, "escape.txt"))).toBe(false);
    await storage.putBytes("fine/key.json", "{}");
    expect(existsSync(path.join(root, "fine", "key.json"))).toBe(true);
  });

  it("local: downloadUrl is null (the caller streams)", async () => {
    expect(await local.downloadUrl("x/y", 60)).toBeNull();
  });
});

describe("pg_dump / server version rule", () => {
  it("explains a server newer than pg_dump", () => {
    expect(compareDumpVersions({ major: 15, full: "15.18" }, parseServerVersionNum(170002))).toEqual({
      ok: false,
      reason: "pg_dump 15 cannot dump server 17: install PostgreSQL 17 client tools or set PG_BIN_DIR",
    });
    expect(compareDumpVersions({ major: 17, full: "17.2" }, { major: 15, full: "15.18" })).toEqual({ ok: true });
    expect(compareDumpVersions({ major: 15, full: "15.18" }, { major: 15, full: "15.3" })).toEqual({ ok: true });
    expect(compareDumpVersions({ major: 15, full: "15.18" }, parseServerVersionNum(90124))).toMatchObject({ ok: false });
  });

  it("parses tool and server version strings", () => {
    expect(parseToolVersion("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n")).toEqual({ major: 15, full: "15.18" });
    expect(parseToolVersion("pg_dump (PostgreSQL) 9.6.24")).toEqual({ major: 9.6, full: "9.6.24" });
    expect(parseServerVersionNum(150018)).toEqual({ major: 15, full: "15.18" });
    expect(parseServerVersionNum(90624)).toEqual({ major: 9.6, full: "9.6.24" });
  });

  it("checks the real pair, and names a missing pg_dump", async () => {
    const real = await checkDumpCompatibility(dbUrl);
    expect(real).toMatchObject({ ok: true, pgDump: { major: 15 }, server: { major: 15 } });
    const missing = await checkDumpCompatibility(dbUrl, path.join(workDir, "no-bin"));
    expect(missing).toMatchObject({ ok: false, reason: expect.stringMatching(/pg_dump not found .*PG_BIN_DIR/) });
  });
});

describe("files part", () => {
  it("tar round trip of a directory, encrypted and verified as kind tar", async () => {
    const src = path.join(workDir, "files-src");
    const outside = path.join(workDir, "outside-secret.txt");
    await writeFile(outside, "do not archive me");
    await mkdir(path.join(src, "avatars", "2026"), { recursive: true });
    await mkdir(path.join(src, "empty-dir"));
    const binary = randomBytes(300_000);
    await writeFile(path.join(src, "avatars", "2026", "a.png"), binary);
    await writeFile(path.join(src, "readme.txt"), "hello files\n");
    await writeFile(path.join(src, "zero.bin"), "");
    await symlink(outside, path.join(src, "escape-link"));
    await symlink(path.join(src, "readme.txt"), path.join(src, "inside-link"));

    const key = "files/files.tar.gpg";
    const w = await writeEncryptedObject({ source: tarDirectory(src), storage: local, key, passphrase: PASSPHRASE });
    const verified = await verifyStoredObject({ storage: local, key, passphrase: PASSPHRASE, expectedSha256: w.storedSha256, kind: "tar" });
    expect(verified).toMatchObject({ ok: true, tocEntries: 7 });

    const dest = path.join(workDir, "files-dest");
    const counts = await extractTarInto(await decryptStream(await local.get(key), PASSPHRASE), dest);
    expect(counts).toEqual({ files: 4, directories: 3 });
    expect(await listAll(dest)).toEqual(
      ["avatars", "avatars/2026", "avatars/2026/a.png", "empty-dir", "inside-link", "readme.txt", "zero.bin"].sort(),
    );
    expect((await readFile(path.join(dest, "avatars", "2026", "a.png"))).equals(binary)).toBe(true);
    expect(await readFile(path.join(dest, "inside-link"), "utf8")).toBe("hello files\n");
    expect(existsSync(path.join(dest, "escape-link"))).toBe(false);
  });

  for (const name of ["../evil.txt", "ok/../../evil.txt", "/tmp/vaultline-evil.txt"]) {
    it(`extractTarInto refuses ${name}`, async () => {
      const pack = tar.pack();
      pack.entry({ name: "fine.txt" }, "fine");
      pack.entry({ name }, "evil");
      pack.finalize();
      const dest = path.join(workDir, `evil-${randomBytes(3).toString("hex")}`, "inner");
      await expect(extractTarInto(Readable.from(pack as AsyncIterable<Buffer>), dest)).rejects.toBeInstanceOf(UnsafeTarEntryError);
      expect(existsSync(path.join(dest, "..", "evil.txt"))).toBe(false);
      expect(existsSync(path.join(dest, "..", "..", "evil.txt"))).toBe(false);
      expect(existsSync("/tmp/vaultline-evil.txt")).toBe(false);
    });
  }
});

describe("crypto", () => {
  it("key ids are random, not derived from the passphrase; the old fingerprint is only kept to compare", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newKeyId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(legacyKeyFingerprint(PASSPHRASE)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("the key verifier recognises its passphrase only", async () => {
    const verifier = "scrypt$16384$8$1$" + Buffer.from("0123456789abcdef").toString("base64") + "$";
    expect(await verifierMatches(PASSPHRASE, verifier)).toBe(false);
  });

  it("openpgp output is decrypted by stock gpg, and gpg refuses a wrong passphrase", async () => {
    const data = randomBytes(100_000);
    const enc = await encryptStream(Readable.from([data]), PASSPHRASE);
    const chunks: Buffer[] = [];
    for await (const c of enc) chunks.push(Buffer.from(c as Uint8Array));
    const file = path.join(workDir, "gpg-compat.gpg");
    await writeFile(file, Buffer.concat(chunks));
    const out = path.join(workDir, "gpg-compat.out");
    await gpgDecrypt(file, out);
    expect((await readFile(out)).equals(data)).toBe(true);
    await expect(gpgDecrypt(file, out + "2", "wrong")).rejects.toThrow();
  });

  it("a source that fails midway surfaces its own error, not 'wrong passphrase'", async () => {
    const enc = await encryptStream(Readable.from([randomBytes(500_000)]), PASSPHRASE);
    const chunks: Buffer[] = [];
    for await (const c of enc) chunks.push(Buffer.from(c as Uint8Array));
    const whole = Buffer.concat(chunks);
    const failing = Readable.from(
      (async function* () {
        yield whole.subarray(0, 200_000);
        throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
      })(),
    );
    const err = await (async () => {
      const plain = await decryptStream(failing, PASSPHRASE);
      for await (const c of plain) void c;
    })().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("read ECONNRESET");
  });

  it("decryptStream rejects a wrong passphrase with a readable error", async () => {
    const enc = await encryptStream(Readable.from([Buffer.from("secret data")]), PASSPHRASE);
    await expect(decryptStream(enc, "nope")).rejects.toThrow(/wrong passphrase or corrupt archive/);
  });
});

describe("manifest", () => {
  const sha = (c: string) => c.repeat(64);
  function manifest(): Manifest {
    return {
      formatVersion: 1,
      id: "cm1abc2def",
      kind: "FULL",
      trigger: "MANUAL",
      createdAt: "2026-11-03T10:00:00.000Z",
      startedAt: "2026-11-03T10:00:01.000Z",
      completedAt: "2026-11-03T10:00:31.000Z",
      durationSeconds: 30,
      database: { name: "app", serverVersion: "15.18", host: "db.internal:5432" },
      pgDumpVersion: "15.18",
      commitSha: "abc1234",
      note: null,
      initiatedBy: { id: "u1", email: "ops@example.com", displayName: "Ops" },
      schemaHash: sha("c"),
      prismaMigrations: [
        {
          id: "m1",
          migration_name: "20260101000000_init",
          checksum: sha("d"),
          finished_at: "2026-01-01T00:00:00.000Z",
          rolled_back_at: null,
          applied_steps_count: 1,
        },
      ],
      tableRowEstimates: { "public.users": 2000 },
      encryption: { algorithm: "openpgp-aes256", keyId: "0123456789abcdef" },
      parts: [
        {
          name: "database",
          key: "backups/prod/2026/11/cm1abc2def/archive.dump.gpg",
          sizeBytes: 1000,
          plainSizeBytes: 990,
          sha256: sha("a"),
          plainSha256: sha("b"),
          contentType: "application/pgp-encrypted",
        },
        {
          name: "files",
          key: "backups/prod/2026/11/cm1abc2def/files.tar.gpg",
          sizeBytes: 500,
          plainSizeBytes: 480,
          sha256: sha("e"),
          plainSha256: sha("f"),
          contentType: "application/pgp-encrypted",
        },
      ],
      sizeBytes: 1500,
      checksumSha256: sha("a"),
      appVersion: "0.1.0",
    };
  }

  it("round-trips, and keeps fields from newer versions", () => {
    const m = manifest();
    expect(parseManifest(serializeManifest(m))).toEqual(m);
    const future = { ...m, retentionClass: "monthly", database: { ...m.database, extensions: ["pgcrypto"] } };
    const parsed = parseManifest(JSON.stringify(future)) as Record<string, unknown>;
    expect(parsed.retentionClass).toBe("monthly");
    expect((parsed.database as Record<string, unknown>).extensions).toEqual(["pgcrypto"]);
  });

  it("still parses manifests written before key ids (keyFingerprint only)", () => {
    const old = { ...manifest(), encryption: { algorithm: "openpgp-aes256" as const, keyFingerprint: legacyKeyFingerprint(PASSPHRASE) } };
    expect(parseManifest(JSON.stringify(old)).encryption).toEqual(old.encryption);
  });

  it("shows the key id only to callers who may download, and an old fingerprint to nobody", () => {
    const m = manifest();
    expect(manifestForCaller(m, true).encryption).toEqual({ algorithm: "openpgp-aes256", keyId: "0123456789abcdef" });
    expect(manifestForCaller(m, false).encryption).toEqual({ algorithm: "openpgp-aes256" });
    const old = { ...m, encryption: { algorithm: "openpgp-aes256" as const, keyFingerprint: legacyKeyFingerprint(PASSPHRASE) } };
    expect(JSON.stringify(manifestForCaller(old, true))).not.toContain(legacyKeyFingerprint(PASSPHRASE));
  });

  it("shows the database's and its roles' setting values only to callers who may download (decision 194)", () => {
    const database = { owner: "app", connectionLimit: -1, grants: [], comment: null, settings: [{ role: null, config: ["app.settings.jwt_secret=s3cr3t-value", "statement_timeout=42s"] }] };
    const roleDefinitions = [{ name: "authenticator", settings: ["pgrst.jwt_secret=role-s3cr3t"] }, { name: "plain" }];
    const m = { ...manifest(), catalog: { database, roleDefinitions } } as unknown as Manifest;
    expect(JSON.stringify(manifestForCaller(m, true))).toContain("role-s3cr3t");
    expect(JSON.stringify(manifestForCaller(m, false))).not.toContain("role-s3cr3t");
    expect(JSON.stringify(manifestForCaller(m, false))).toContain('"pgrst.jwt_secret=(hidden)"');
    expect((manifestForCaller(m, false) as unknown as { catalog: { roleDefinitions: unknown[] } }).catalog.roleDefinitions[1]).toEqual({ name: "plain" });
    expect(JSON.stringify(manifestForCaller(m, true))).toContain("s3cr3t-value");
    const hidden = JSON.stringify(manifestForCaller(m, false));
    expect(hidden).not.toContain("s3cr3t-value");
    expect(hidden).not.toContain("42s");
    expect(hidden).toContain("app.settings.jwt_secret=(hidden)");
    // The stored manifest is not changed by it.
    expect(JSON.stringify(m)).toContain("s3cr3t-value");
  });

  it("accepts a QUICK manifest without parts (commit and schema state only)", () => {
    const quick = { ...manifest(), kind: "QUICK" as const, parts: [], sizeBytes: 0, checksumSha256: null, tableRowEstimates: null };
    expect(parseManifest(serializeManifest(quick))).toEqual(quick);
  });

  it("rejects bad manifests naming the problem", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...manifest(), checksumSha256: undefined }, /checksumSha256/],
      [{ ...manifest(), encryption: { algorithm: "none", keyFingerprint: "x" } }, /encryption\.algorithm/],
      [{ ...manifest(), encryption: { algorithm: "openpgp-aes256" } }, /needs keyId/],
      [{ ...manifest(), encryption: { algorithm: "openpgp-aes256", keyId: "not-hex" } }, /encryption\.keyId/],
      [{ ...manifest(), checksumSha256: sha("9") }, /database part's sha256/],
      [{ ...manifest(), sizeBytes: 1 }, /sum of the parts/],
      [{ ...manifest(), parts: [manifest().parts[1]], checksumSha256: null, sizeBytes: 500 }, /FULL backup has exactly one database part/],
      [{ ...manifest(), kind: "QUICK", parts: [], sizeBytes: 0 }, /must be null without a database part/],
      [{ ...manifest(), formatVersion: 2 }, /formatVersion/],
      [{ ...manifest(), database: { name: "app", serverVersion: "15", host: "u:pw@db" } }, /credentials/],
      // Regression (fault suite, manifest bit flip): a damaged schema snapshot used to pass
      // parsing and crash the restore preview with a TypeError instead of a refusal.
      [{ ...manifest(), schema: { tablds: {} } }, /schema\.tables/],
    ];
    for (const [bad, problem] of cases) {
      expect(() => parseManifest(JSON.stringify(bad))).toThrow(problem);
      expect(() => parseManifest(JSON.stringify(bad))).toThrow(ManifestError);
    }
    expect(() => parseManifest("{not json")).toThrow(/not JSON/);
    expect(() => serializeManifest({ ...manifest(), kind: "HUGE" } as unknown as Manifest)).toThrow(ManifestError);
  });

  it("lays keys out by environment, target, UTC year and month", () => {
    // 23:30 on 31 Jan in New York is already February in UTC.
    expect(backupKeys("backups", "prod", "cm1abc", new Date("2026-01-31T23:30:00-05:00"))).toEqual({
      dir: "backups/prod/default/2026/02/cm1abc",
      archive: "backups/prod/default/2026/02/cm1abc/archive.dump.gpg",
      files: "backups/prod/default/2026/02/cm1abc/files.tar.gpg",
      manifest: "backups/prod/default/2026/02/cm1abc/manifest.json",
    });
    expect(backupKeys("a/b/", "staging", "x1", new Date("2026-12-01T00:00:00Z"), "shop").dir).toBe("a/b/staging/shop/2026/12/x1");
    expect(() => backupKeys("backups", "prod", "../x", new Date())).toThrow(/invalid backup id/);
    expect(() => backupKeys("../up", "prod", "x", new Date())).toThrow(/invalid storage prefix/);
  });
});

describe("introspection", () => {
  it("snapshots tables and column types across schemas, with a hash that tracks changes", async () => {
    const url = await createDatabase("intro");
    databases.push(url);
    await sql(url, `CREATE TABLE users (id serial PRIMARY KEY, email varchar(120) NOT NULL);
                    CREATE SCHEMA billing; CREATE TABLE billing.invoices (id bigint, total numeric(10,2), issued timestamptz);
                    CREATE TABLE nothing ();`);
    const snap = await schemaSnapshot(url);
    expect(snap.tables).toEqual({
      "public.users": { columns: { id: "integer", email: "character varying(120)" } },
      "billing.invoices": { columns: { id: "bigint", total: "numeric(10,2)", issued: "timestamp with time zone" } },
      "public.nothing": { columns: {} },
    });
    const h1 = schemaHash(snap);
    expect(h1).toMatch(/^[0-9a-f]{64}$/);
    // Key order must not matter.
    const reordered = { tables: Object.fromEntries(Object.entries(snap.tables).reverse()) };
    expect(schemaHash(reordered)).toBe(h1);
    await sql(url, "ALTER TABLE users ADD COLUMN name text");
    expect(schemaHash(await schemaSnapshot(url))).not.toBe(h1);
  });

  it("reads _prisma_migrations rows, or null without the table", async () => {
    const url = await createDatabase("prisma");
    databases.push(url);
    expect(await prismaMigrationRows(url)).toBeNull();
    await sql(url, `CREATE TABLE "_prisma_migrations" (
      id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
      logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    await sql(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
       ('b', 'c2', NULL, '20260201_second', '2026-02-01T00:00:00Z', 0),
       ('a', 'c1', '2026-01-01T00:00:05Z', '20260101_first', '2026-01-01T00:00:00Z', 1)`,
    );
    expect(await prismaMigrationRows(url)).toEqual([
      { id: "a", migration_name: "20260101_first", checksum: "c1", finished_at: "2026-01-01T00:00:05.000Z", rolled_back_at: null, applied_steps_count: 1 },
      { id: "b", migration_name: "20260201_second", checksum: "c2", finished_at: null, rolled_back_at: null, applied_steps_count: 0 },
    ]);
  });

  it("counts rows per table", async () => {
    expect(await tableRowEstimates(dbUrl)).toEqual({
      "public.users": 2000,
      "public.documents": 3000,
      "reporting.events": 1500,
    });
  });

  it("estimates a never-analysed table's rows from the statistics collector, not as 0 (a restore's record of what it replaced)", async () => {
    // Each statement its own session: the collector has the counts once it ends.
    await sql(dbUrl, "CREATE TABLE public.fresh (id int); ALTER TABLE public.fresh SET (autovacuum_enabled = false)");
    await sql(dbUrl, "INSERT INTO public.fresh SELECT generate_series(1, 1234)");
    try {
      const [{ reltuples }] = await sql<{ reltuples: number }>(dbUrl, "SELECT reltuples::float8 AS reltuples FROM pg_class WHERE oid = 'public.fresh'::regclass");
      expect(reltuples, "never analysed").toBe(-1);
      let planner: Record<string, number> = {};
      for (let i = 0; i < 50 && planner["public.fresh"] !== 1234; i++) {
        planner = await tableRowEstimates(dbUrl, { exact: false });
        if (planner["public.fresh"] !== 1234) await new Promise((r) => setTimeout(r, 100));
      }
      expect(planner["public.fresh"]).toBe(1234);
      expect((await tableRowEstimates(dbUrl))["public.fresh"]).toBe(1234);
    } finally {
      await sql(dbUrl, "DROP TABLE public.fresh");
    }
  });
});
