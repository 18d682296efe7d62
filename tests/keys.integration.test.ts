// Issue 16 (DESIGN §9): several keys chosen by id, re-encryption to the current key
// (streamed, verified beside the old object, crash-safe), and write-only backups
// encrypted to an OpenPGP public key. Real parts: PostgreSQL, pg_dump/pg_restore, stock gpg.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import * as openpgp from "openpgp";
import { makeEnv, PASSPHRASE, cliEnv, waitFor, sql, type TestEnv } from "./support/vitest-env";
import { dbState } from "./support/db-state";
import { gpgDecryptFile, sha256sum, pgRestoreListFile, zstdDecompressFile } from "./support/gpg";
import { runBackup } from "../lib/backup/run-backup";
import { removeOrphanedUploads } from "../lib/backup/jobs";
import { tryDestructiveLock } from "../lib/backup/locks";
import { runVerify, verifyBackupObjects, readManifest, checkStoredParts } from "../lib/backup/verify";
import { startRestore, runRestore } from "../lib/backup/restore";
import { reencryptBackups, recoverReencryptions } from "../lib/backup/reencrypt";
import { backupKeys, manifestDigest, type Manifest } from "../lib/backup/manifest";
import { heldPrivateKey } from "../lib/backup/held-keys";
import type { BackupContext } from "../lib/backup/context";
import type { Storage } from "../lib/backup/storage/types";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

const run = promisify(execFile);
const KEY2 = "the-second-passphrase-22";

async function fullBackup(ctx: BackupContext) {
  const job = await ctx.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { includeFiles: false, phases: [] } } });
  const r = await runBackup(ctx, job.id);
  expect(r.failureReason).toBeUndefined();
  return ctx.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
}

async function manifestOf(ctx: BackupContext, id: string): Promise<Manifest> {
  return readManifest(ctx, await ctx.db.backupJob.findUniqueOrThrow({ where: { id } }));
}

/** gpg -d of the database part, then its codec, then pg_restore --list: what docs/recovery.md does. */
async function gpgList(env: TestEnv, m: Manifest, key: { passphrase: string } | { gnupgHome: string }, work: string): Promise<string> {
  const part = m.parts.find((p) => p.name === "database")!;
  const input = path.join(env.storageDir!, part.key);
  const out = path.join(work, `${m.id}-${Date.now()}.dump`);
  if ("passphrase" in key) await gpgDecryptFile(input, out, key.passphrase);
  else await run("gpg", ["--batch", "--yes", "--quiet", "--output", out, "--decrypt", input], { env: { ...process.env, GNUPGHOME: key.gnupgHome } });
  expect(await sha256sum(out)).toBe(part.plainSha256);
  const plain = part.compression?.codec === "zstd" ? `${out}.plain` : out;
  if (plain !== out) await zstdDecompressFile(out, plain);
  return pgRestoreListFile(plain);
}

afterAll(async () => {
  await stopBosses();
});

describe("several passphrase keys and re-encryption", () => {
  let env: TestEnv;
  let work: string;
  let key2: BackupContext;
  let first: string;
  let second: string;
  let original: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "vaultline-keys-"));
    env = await makeEnv({ seed: { rows: 3000 } });
    original = await dbState(env.targetUrl);
    first = (await fullBackup(env.ctx)).id;
    // "Restart" with key 2 current and key 1 old.
    key2 = { ...env.ctx, passphrase: KEY2, oldPassphrases: [{ passphrase: PASSPHRASE }] };
    second = (await fullBackup(key2)).id;
  }, 180_000);
  afterAll(async () => {
    await env.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  it("each backup records its own key id; both verify under key 2 with key 1 old; gpg opens each with its own passphrase", async () => {
    const [m1, m2] = [await manifestOf(key2, first), await manifestOf(key2, second)];
    expect(m1.encryption.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(m2.encryption.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(m1.encryption.keyId).not.toBe(m2.encryption.keyId);
    const rows = await env.db.backupJob.findMany({ where: { id: { in: [first, second] } }, orderBy: { createdAt: "asc" } });
    expect(rows.map((r) => r.encryptionKeyId)).toEqual([m1.encryption.keyId, m2.encryption.keyId]);
    for (const id of [first, second]) expect((await runVerify(key2, id)).ok).toBe(true);
    expect(await gpgList(env, m1, { passphrase: PASSPHRASE }, work)).toMatch(/TABLE DATA public customers/);
    expect(await gpgList(env, m2, { passphrase: KEY2 }, work)).toMatch(/TABLE DATA public customers/);
    await expect(gpgDecryptFile(path.join(env.storageDir!, m1.parts[0].key), path.join(work, "wrong"), KEY2)).rejects.toThrow();
  });

  it("a backup whose key is not configured is refused, naming the key id (no trial decryption)", async () => {
    const m1 = await manifestOf(key2, first);
    const onlyKey2 = { ...env.ctx, passphrase: KEY2 };
    const v = await verifyBackupObjects(onlyKey2, await env.db.backupJob.findUniqueOrThrow({ where: { id: first } }));
    expect(v.ok).toBe(false);
    expect(v.reason).toContain(m1.encryption.keyId!);
    expect(v.reason).toMatch(/not configured.*BACKUP_ENCRYPTION_OLD_PASSPHRASES/);
  });

  it("a restore's check refuses a key that is not configured without reading the backup through", async () => {
    // The key's check runs beside the parts' checksums (it takes a scrypt): its refusal
    // must stop the reading, or a large backup would be read whole just to be refused.
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: first } });
    const m1 = await manifestOf(key2, first);
    const part = m1.parts.find((p) => p.name === "database")!;
    /** The target's storage, but the database part's object reads as `body`. */
    const withPart = (storage: Storage, body: () => Readable): Storage =>
      Object.assign(Object.create(storage) as Storage, { get: async (key: string) => (key === part.key ? body() : storage.get(key)) });
    let served = 0;
    const endless = () =>
      Readable.from(
        (async function* () {
          for (;;) {
            served++;
            yield Buffer.alloc(64 * 1024);
            await new Promise((r) => setTimeout(r, 1));
          }
        })(),
      );
    const v = await checkStoredParts({ ...env.ctx, passphrase: KEY2, storage: withPart(env.ctx.storage, endless) }, job);
    expect(v.ok).toBe(false);
    expect(v.reason).toContain(m1.encryption.keyId!);
    // Reading stopped: at most the chunk the source was making when it was left.
    const after = served;
    await new Promise((r) => setTimeout(r, 200));
    expect(served).toBeLessThanOrEqual(after + 1);
    // The same check with the key configured reads the part and finds it altered.
    const w = await checkStoredParts({ ...key2, storage: withPart(key2.storage, () => Readable.from([Buffer.from("not the archive")])) }, job);
    expect(w.ok).toBe(false);
    expect(w.reason).toMatch(/checksum mismatch/);
  });

  it("restores the backup made under key 1 with key 2 current", async () => {
    const { restoreId } = await startRestore(key2, first, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(key2, restoreId)).toBe("SUCCEEDED");
    expect(await dbState(env.targetUrl)).toEqual(original);
  }, 180_000);

  it("reencrypt moves the first backup to key 2: gpg opens it with key 2, the old object is gone, key 1 can be removed", async () => {
    const before = await manifestOf(key2, first);
    const progress: number[] = [];
    const summary = await reencryptBackups(key2, "all", SYSTEM, (p) => progress.push(p.bytesDone));
    // The restore above took safety backups under key 2: those are current already.
    expect(summary.failed).toEqual([]);
    expect(summary.reencrypted).toEqual([first]);
    expect(progress.length).toBeGreaterThan(0);
    const after = await manifestOf(key2, first);
    const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: first } });
    expect(after.encryption.keyId).toBe((await manifestOf(key2, second)).encryption.keyId);
    expect(row.encryptionKeyId).toBe(after.encryption.keyId);
    expect(row.checksumSha256).toBe(after.checksumSha256);
    expect(row.storageKey).toBe(after.parts[0].key);
    expect(after.parts[0].key).not.toBe(before.parts[0].key);
    expect(after.parts[0].plainSha256).toBe(before.parts[0].plainSha256);
    const keys = backupKeys(env.ctx.prefix, env.ctx.env, first, row.createdAt);
    expect(row.manifestSha256).toBe(manifestDigest(await env.ctx.storage.getBytes(keys.manifest)));
    expect(await env.ctx.storage.head(before.parts[0].key)).toBeNull();
    expect(await gpgList(env, after, { passphrase: KEY2 }, work)).toMatch(/TABLE DATA public customers/);
    expect(await env.db.keyReencryption.count()).toBe(0);
    expect(await env.db.auditEvent.count({ where: { action: "backup.reencrypted", target: first } })).toBe(1);
    // Key 1 retired: everything still verifies and restores with key 2 alone.
    const onlyKey2 = { ...env.ctx, passphrase: KEY2 };
    for (const r of await env.db.backupJob.findMany({ where: { status: "SUCCEEDED", kind: "FULL" } })) {
      expect((await runVerify(onlyKey2, r.id)).ok, r.id).toBe(true);
    }
    const { restoreId } = await startRestore(onlyKey2, first, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(onlyKey2, restoreId)).toBe("SUCCEEDED");
    expect(await dbState(env.targetUrl)).toEqual(original);
    // A second run finds nothing to do.
    expect((await reencryptBackups(onlyKey2, "all", SYSTEM)).reencrypted).toEqual([]);
  }, 240_000);
});

describe("re-encryption survives being killed", () => {
  let env: TestEnv;
  let ids: string[];

  beforeAll(async () => {
    env = await makeEnv({ seed: { rows: 2000, blobMb: 24 } });
    ids = [(await fullBackup(env.ctx)).id, (await fullBackup(env.ctx)).id];
  }, 240_000);
  afterAll(async () => {
    await env.cleanup();
  });

  const key2 = (): BackupContext => ({ ...env.ctx, passphrase: KEY2, oldPassphrases: [{ passphrase: PASSPHRASE }] });

  async function allReadable(ctx: BackupContext) {
    for (const id of ids) {
      const v = await verifyBackupObjects(ctx, await env.db.backupJob.findUniqueOrThrow({ where: { id } }));
      expect(v.ok, `${id}: ${v.reason}`).toBe(true);
    }
  }

  it("kill -9 of `cli reencrypt --all` while writing leaves every backup readable; a rerun finishes", async () => {
    const cli = spawn(process.execPath, ["--import", "tsx", "scripts/cli.ts", "reencrypt", "--all"], {
      env: { ...cliEnv(env), BACKUP_ENCRYPTION_PASSPHRASE: KEY2, BACKUP_ENCRYPTION_OLD_PASSPHRASES: JSON.stringify([PASSPHRASE]) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    cli.stdout.on("data", (c: Buffer) => (out += c.toString()));
    cli.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => cli.once("exit", r));
    await waitFor(
      async () => {
        const row = await env.db.keyReencryption.findFirst();
        return row?.state === "WRITING" && row.bytesDone > 0n;
      },
      240_000,
      20,
      "a re-encryption in progress",
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the CLI said: ${out}`);
    });
    cli.kill("SIGKILL");
    await exited;
    expect(await env.db.keyReencryption.count()).toBe(1);
    await allReadable(key2());
    // The old key alone still reads everything: the old objects were never touched.
    await allReadable(env.ctx);
    // Restart: the half-written copy is removed, nothing else changes.
    expect(await recoverReencryptions(key2())).toBe(1);
    expect(await env.db.keyReencryption.count()).toBe(0);
    await allReadable(env.ctx);
    const summary = await reencryptBackups(key2(), "all", SYSTEM);
    expect(summary.failed).toEqual([]);
    expect(summary.reencrypted.sort()).toEqual([...ids].sort());
    await allReadable({ ...env.ctx, passphrase: KEY2 });
    // Nothing left over beside each backup: one archive and the manifest.
    for (const id of ids) {
      const row = await env.db.backupJob.findUniqueOrThrow({ where: { id } });
      const dir = backupKeys(env.ctx.prefix, env.ctx.env, id, row.createdAt).dir;
      const left: string[] = [];
      for await (const o of env.ctx.storage.list(`${dir}/`)) left.push(o.key.slice(dir.length + 1));
      expect(left.sort()).toEqual([`archive-${row.encryptionKeyId}.dump.gpg`, "manifest.json"]);
    }
  }, 420_000);

  it("the stale-upload sweep leaves a re-encryption's upload alone", async () => {
    const key4 = "the-fourth-passphrase-4444";
    const ctx4: BackupContext = { ...env.ctx, passphrase: key4, oldPassphrases: [{ passphrase: KEY2 }, { passphrase: PASSPHRASE }] };
    const running = reencryptBackups(ctx4, [ids[1]], SYSTEM);
    await waitFor(async () => (await env.db.keyReencryption.findFirst({ where: { backupId: ids[1] } }))?.bytesDone, 120_000, 10, "the upload under way");
    // What the worker's sweep does every minute: abort uploads no RUNNING job owns.
    await removeOrphanedUploads(env.ctx);
    const summary = await running;
    expect(summary.failed).toEqual([]);
    expect(summary.reencrypted).toEqual([ids[1]]);
    expect((await verifyBackupObjects({ ...env.ctx, passphrase: key4 }, await env.db.backupJob.findUniqueOrThrow({ where: { id: ids[1] } }))).ok).toBe(true);
  }, 240_000);

  it("a crash between writing the manifest and recording it is finished at restart; readers accept the new manifest meanwhile", async () => {
    const key3 = "the-third-passphrase-333";
    const ctx3 = (storage: Storage): BackupContext => ({ ...env.ctx, storage, passphrase: key3, oldPassphrases: [{ passphrase: KEY2 }, { passphrase: PASSPHRASE }] });
    // The "crash": the catalogue transaction never happens after the manifest is written.
    const crashing: Storage = Object.create(env.ctx.storage, {
      putBytes: {
        value: async (key: string, data: Buffer | string, type?: string) => {
          await env.ctx.storage.putBytes(key, data, type);
          if (key.endsWith("/manifest.json")) throw new Error("killed after the manifest was written");
        },
      },
    });
    const summary = await reencryptBackups(ctx3(crashing), [ids[0]], SYSTEM);
    expect(summary.failed[0]?.reason).toMatch(/killed after the manifest/);
    const row = await env.db.keyReencryption.findUniqueOrThrow({ where: { backupId: ids[0] } });
    expect(row.state).toBe("SWITCHING");
    // The manifest in storage is the new one, the catalogue's digest still the old one: still readable.
    const v = await verifyBackupObjects(ctx3(env.ctx.storage), await env.db.backupJob.findUniqueOrThrow({ where: { id: ids[0] } }));
    expect(v.ok, v.reason).toBe(true);
    expect(await recoverReencryptions(ctx3(env.ctx.storage))).toBe(1);
    expect(await env.db.keyReencryption.count()).toBe(0);
    const job = await env.db.backupJob.findUniqueOrThrow({ where: { id: ids[0] } });
    expect((await verifyBackupObjects({ ...env.ctx, passphrase: key3 }, job)).ok).toBe(true);
    expect(job.manifestSha256).toBe(manifestDigest(await env.ctx.storage.getBytes(backupKeys(env.ctx.prefix, env.ctx.env, ids[0], job.createdAt).manifest)));
  }, 240_000);
});

describe("write-only backups (public key)", () => {
  let env: TestEnv;
  let gnupgHome: string;
  let publicKey: string;
  let privateKey: string;
  let id: string;
  let original: Record<string, string>;

  beforeAll(async () => {
    // An RSA (v4) key, as `gpg --full-generate-key` makes by default on many servers.
    const k = await openpgp.generateKey({ type: "rsa", rsaBits: 2048, userIDs: [{ name: "Vaultline recovery", email: "recovery@example.com" }], format: "armored" });
    publicKey = k.publicKey;
    privateKey = k.privateKey;
    gnupgHome = await mkdtemp(path.join(tmpdir(), "vaultline-gnupg-"));
    await writeFile(path.join(gnupgHome, "private.asc"), privateKey);
    await run("gpg", ["--batch", "--import", path.join(gnupgHome, "private.asc")], { env: { ...process.env, GNUPGHOME: gnupgHome } });
    // The server holds the public key only: no passphrase, no private key.
    env = await makeEnv({ seed: { rows: 1500 }, overrides: { passphrase: "", publicKey } });
    original = await dbState(env.targetUrl);
    id = (await fullBackup(env.ctx)).id;
  }, 180_000);
  afterAll(async () => {
    await env.cleanup();
    await run("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: gnupgHome } }).catch(() => {});
    await rm(gnupgHome, { recursive: true, force: true });
  });

  it("stock gpg with the private key decrypts the archive the server cannot read", async () => {
    const m = await manifestOf(env.ctx, id);
    expect((m.encryption as { recipient?: string }).recipient).toBe((await openpgp.readKey({ armoredKey: publicKey })).getFingerprint());
    expect(await gpgList(env, m, { gnupgHome }, gnupgHome)).toMatch(/TABLE DATA public customers/);
  });

  it("verify checks the stored checksums and says a full decrypt check needs the private key", async () => {
    const v = await runVerify(env.ctx, id);
    expect(v.ok).toBe(true);
    expect(v.note).toMatch(/full decrypt check needs the private key/);
  });

  it("restore without the private key is refused with a clear reason before anything is touched", async () => {
    const { restoreId, preRestoreBackupId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    const r = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(r.failureReason).toMatch(/public key .* no private key/);
    if (preRestoreBackupId) expect((await env.db.backupJob.findUniqueOrThrow({ where: { id: preRestoreBackupId } })).status).toBe("CANCELLED");
    expect(await dbState(env.targetUrl)).toEqual(original);
  }, 120_000);

  it("restore with the private key supplied for that operation succeeds; the key is never persisted", async () => {
    const { restoreId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE", privateKey: { privateKey } });
    // Queued: nothing in the catalogue, the queue's job data or the audit trail holds it.
    const everything = await sql(
      env.appUrl,
      `SELECT (SELECT coalesce(string_agg(data::text, ''), '') FROM pgboss.job) || (SELECT string_agg(details::text, '') FROM "AuditEvent") || (SELECT string_agg(r::text, '') FROM "RestoreJob" r) AS t`,
    );
    expect(JSON.stringify(everything)).not.toContain("PRIVATE KEY");
    expect(await runRestore(env.ctx, restoreId)).toBe("SUCCEEDED");
    expect(await dbState(env.targetUrl)).toEqual(original);
    // Held for that restore only: gone once it ended.
    expect(heldPrivateKey(restoreId)).toBeUndefined();
  }, 180_000);

  it("passphrase and public-key backups coexist; a passphrase backup moves to the public key and gpg then needs the private key", async () => {
    const { keysOverview } = await import("../lib/backup/keys-admin");
    // A backup from before the switch to a public key, under a passphrase.
    const older = (await fullBackup({ ...env.ctx, passphrase: PASSPHRASE, publicKey: undefined })).id;
    const ctx: BackupContext = { ...env.ctx, oldPassphrases: [{ passphrase: PASSPHRASE }] };
    const full = await runVerify(ctx, older);
    expect(full.ok).toBe(true);
    expect(full.note).toBeUndefined();
    const overview = await keysOverview(ctx);
    expect(overview.recipient).toMatch(/^[0-9a-f]{40}$/);
    expect(overview.keys.map((k) => k.kind).sort()).toEqual(["passphrase", "public-key"]);

    expect((await reencryptBackups(ctx, [older], SYSTEM)).reencrypted).toEqual([older]);
    const m = await manifestOf(ctx, older);
    expect((m.encryption as { recipient?: string }).recipient).toBe(overview.recipient);
    expect((await runVerify(ctx, older)).note).toMatch(/needs the private key/);
    expect(await gpgList(env, m, { gnupgHome }, gnupgHome)).toMatch(/TABLE DATA public customers/);
    await expect(gpgDecryptFile(path.join(env.storageDir!, m.parts[0].key), path.join(gnupgHome, "x"), PASSPHRASE)).rejects.toThrow();
  }, 180_000);

  it("a private key that is not the backup's is refused, naming both fingerprints", async () => {
    const other = await openpgp.generateKey({ type: "ecc", curve: "curve25519Legacy", userIDs: [{ name: "Someone else" }], format: "armored" });
    const { restoreId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE", privateKey: { privateKey: other.privateKey } });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    expect((await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } })).failureReason).toMatch(/private key given \([0-9a-f]+\) is not the one this backup is encrypted to/);
  }, 120_000);
});

describe("embedded mode: rotation from the Settings page", () => {
  let env: TestEnv;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "vaultline-data-"));
    env = await makeEnv({ seed: { rows: 500 } });
  }, 120_000);
  afterAll(async () => {
    await env.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("rotates (the new passphrase answered once), shows which backups need which key, re-encrypts, then retires the old key", async () => {
    const { loadOrCreateSecrets } = await import("../lib/bootstrap");
    const { keysOverview, rotateKey, retireKey } = await import("../lib/backup/keys-admin");
    const { secrets } = loadOrCreateSecrets(dataDir);
    const file = path.join(dataDir, "secrets.json");
    // As `npm start` configures it: the passphrase and its id from the file, and the file itself.
    const ctx: BackupContext = { ...env.ctx, passphrase: secrets.encryptionPassphrase, keyId: secrets.encryptionKeyId, keysFile: file };
    const first = (await fullBackup(ctx)).id;
    await expect(rotateKey(ctx, "rotate", SYSTEM)).rejects.toMatchObject({ code: "CONFIRMATION_REQUIRED" });
    const rotated = await rotateKey(ctx, "ROTATE", SYSTEM);
    expect(rotated.previousKeyId).toBe(secrets.encryptionKeyId);
    expect(rotated.passphrase.length).toBeGreaterThanOrEqual(32);
    // The same context (no restart) now encrypts with the new key and still reads the old.
    const second = (await fullBackup(ctx)).id;
    expect((await manifestOf(ctx, second)).encryption.keyId).toBe(rotated.keyId);
    for (const id of [first, second]) expect((await runVerify(ctx, id)).ok).toBe(true);
    const m2 = await manifestOf(ctx, second);
    const work = await mkdtemp(path.join(tmpdir(), "vaultline-keys-"));
    expect(await gpgList(env, m2, { passphrase: rotated.passphrase }, work)).toMatch(/TABLE DATA/);
    await rm(work, { recursive: true, force: true });

    let overview = await keysOverview(ctx);
    expect(overview.rotatable).toBe(true);
    expect(overview.currentKeyId).toBe(rotated.keyId);
    expect(overview.keys.map((k) => ({ id: k.id, current: k.current, backups: k.backupIds }))).toEqual([
      { id: rotated.keyId, current: true, backups: [second] },
      { id: secrets.encryptionKeyId, current: false, backups: [first] },
    ]);
    expect(JSON.stringify(overview)).not.toContain(rotated.passphrase);
    await expect(retireKey(ctx, { keyId: secrets.encryptionKeyId, confirm: "RETIRE" }, SYSTEM)).rejects.toThrow(/1 backup still needs key .*; re-encrypt it first/);

    expect((await reencryptBackups(ctx, "all", SYSTEM)).reencrypted).toEqual([first]);
    overview = await keysOverview(ctx);
    expect(overview.notOnCurrentKey).toBe(0);
    expect(overview.keys.find((k) => k.id === secrets.encryptionKeyId)?.backups ?? 0).toBe(0);
    await retireKey(ctx, { keyId: secrets.encryptionKeyId, confirm: "RETIRE" }, SYSTEM);
    const { readEmbeddedKeys } = await import("../lib/backup/embedded-keys");
    expect(readEmbeddedKeys(file).old).toEqual([]);
    for (const id of [first, second]) expect((await runVerify(ctx, id)).ok).toBe(true);
    const actions = (await env.db.auditEvent.findMany({ where: { action: { startsWith: "keys." } } })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["keys.rotated", "keys.retired"]));
    expect(JSON.stringify(await env.db.auditEvent.findMany())).not.toContain(rotated.passphrase);
  }, 240_000);
});

describe("re-encryption on S3 storage", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ storage: "s3", seed: { rows: 1000 } });
  }, 120_000);
  afterAll(async () => {
    await env.cleanup();
  });

  it("writes the new object beside the old, switches, then removes the old; a half-written copy is rolled back", async () => {
    const id = (await fullBackup(env.ctx)).id;
    const before = await manifestOf(env.ctx, id);
    const ctx2: BackupContext = { ...env.ctx, passphrase: KEY2, oldPassphrases: [{ passphrase: PASSPHRASE }] };
    // A store that dies during the first upload of the new object: the journal rolls it back.
    const failing: Storage = Object.create(env.ctx.storage, {
      put: { value: async () => Promise.reject(new Error("connection reset during upload")) },
    });
    const failed = await reencryptBackups({ ...ctx2, storage: failing }, [id], SYSTEM);
    expect(failed.failed[0]?.reason).toMatch(/connection reset/);
    expect(await env.db.keyReencryption.count()).toBe(0);
    expect((await verifyBackupObjects(env.ctx, await env.db.backupJob.findUniqueOrThrow({ where: { id } }))).ok).toBe(true);

    expect((await reencryptBackups(ctx2, [id], SYSTEM)).reencrypted).toEqual([id]);
    const after = await manifestOf(ctx2, id);
    expect(after.parts[0].key).not.toBe(before.parts[0].key);
    expect(await env.ctx.storage.head(before.parts[0].key)).toBeNull();
    expect((await verifyBackupObjects({ ...env.ctx, passphrase: KEY2 }, await env.db.backupJob.findUniqueOrThrow({ where: { id } }))).ok).toBe(true);
  }, 180_000);

  it("keeps the old object while a restore (the destructive slot) runs, and removes it once that ends", async () => {
    const id = (await fullBackup(env.ctx)).id;
    const before = await manifestOf(env.ctx, id);
    const key3 = "the-third-passphrase-333";
    const ctx3: BackupContext = { ...env.ctx, passphrase: key3, oldPassphrases: [{ passphrase: PASSPHRASE }] };
    const slot = (await tryDestructiveLock(env.appUrl))!;
    try {
      expect((await reencryptBackups(ctx3, [id], SYSTEM)).reencrypted).toEqual([id]);
      // Switched, but the old object stays for whoever is reading it.
      expect((await env.db.keyReencryption.findUniqueOrThrow({ where: { backupId: id } })).state).toBe("CLEANUP");
      expect(await env.ctx.storage.head(before.parts[0].key)).not.toBeNull();
      expect((await verifyBackupObjects({ ...env.ctx, passphrase: key3 }, await env.db.backupJob.findUniqueOrThrow({ where: { id } }))).ok).toBe(true);
      expect(await recoverReencryptions(ctx3)).toBe(1);
      expect(await env.db.keyReencryption.count()).toBe(1);
    } finally {
      await slot.release();
    }
    await recoverReencryptions(ctx3);
    expect(await env.db.keyReencryption.count()).toBe(0);
    expect(await env.ctx.storage.head(before.parts[0].key)).toBeNull();
  }, 180_000);
});
