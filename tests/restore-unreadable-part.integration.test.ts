// A restore whose database part decrypts to bytes that are not the archive the backup
// recorded (what a wrong session key gives: OpenPGP streams it unauthenticated until its
// final check, and zstd refuses it first with "Unknown frame descriptor"). On both
// strategies the restore fails before touching anything, and says which part, which key id,
// and that the plain checksum did not match — never a bare codec error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { makeEnv, PASSPHRASE, sql, adminUrl, type TestEnv } from "./support/vitest-env";
import { catalogFingerprint } from "./support/catalog-fingerprint";
import { runBackup } from "../lib/backup/run-backup";
import { startRestore, runRestore } from "../lib/backup/restore";
import { writeEncryptedObject } from "../lib/backup/archive";
import { backupKeys, manifestDigest, type Manifest } from "../lib/backup/manifest";
import { swapNames, databaseOf } from "../lib/backup/swap";
import { SYSTEM } from "../lib/audit";
import { stopBosses } from "../lib/queue";

afterAll(async () => {
  await stopBosses();
});

/** A backup whose database part is replaced by `plain` encrypted under the same key; the manifest's plainSha256 is left as the backup recorded it. */
async function backupDecryptingTo(env: TestEnv, plain: Buffer): Promise<{ id: string; keyId: string }> {
  const job = await env.db.backupJob.create({ data: { kind: "FULL", trigger: "MANUAL", metadata: { phases: [] } } });
  expect((await runBackup(env.ctx, job.id)).failureReason).toBeUndefined();
  const row = await env.db.backupJob.findUniqueOrThrow({ where: { id: job.id } });
  const manifestKey = backupKeys(env.ctx.prefix, env.ctx.env, job.id, row.createdAt).manifest;
  const m = JSON.parse((await env.ctx.storage.getBytes(manifestKey)).toString("utf8")) as Manifest;
  const part = m.parts.find((p) => p.name === "database")!;
  const w = await writeEncryptedObject({ source: Readable.from([plain]), storage: env.ctx.storage, key: part.key, passphrase: PASSPHRASE });
  Object.assign(part, { sha256: w.storedSha256, sizeBytes: w.storedBytes, plainSizeBytes: w.plainBytes });
  Object.assign(m, { checksumSha256: w.storedSha256, sizeBytes: m.parts.reduce((n, p) => n + p.sizeBytes, 0) });
  // A consistent (if doctored) backup: the catalogue's digests follow the manifest.
  const text = `${JSON.stringify(m, null, 2)}\n`;
  await env.ctx.storage.putBytes(manifestKey, text, "application/json");
  await env.db.backupJob.update({ where: { id: job.id }, data: { manifestSha256: manifestDigest(text), checksumSha256: m.checksumSha256, sizeBytes: BigInt(m.sizeBytes) } });
  return { id: job.id, keyId: m.encryption.keyId! };
}

describe.each(["swap", "in-place"] as const)("a database part that decrypts to the wrong bytes (%s)", (strategy) => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await makeEnv({ overrides: { restoreStrategy: strategy, restoreJobs: 2 } });
  });
  afterAll(async () => env.cleanup());

  it("fails before anything is touched, naming the part, the key id and the plain checksum", async () => {
    const { id, keyId } = await backupDecryptingTo(env, randomBytes(256 * 1024));
    await sql(env.targetUrl, "UPDATE customers SET name = 'live' WHERE id <= 3");
    const before = await catalogFingerprint(sql, env.targetUrl);

    const { restoreId } = await startRestore(env.ctx, id, SYSTEM, { confirm: "RESTORE" });
    expect(await runRestore(env.ctx, restoreId)).toBe("FAILED");
    const row = await env.db.restoreJob.findUniqueOrThrow({ where: { id: restoreId } });
    expect(row.strategy).toBe(strategy);
    const head = strategy === "swap" ? "The restore failed before the swap: " : "The restore failed: ";
    expect(row.failureReason).toContain(`${head}the database part decrypted with key ${keyId} does not match the plain checksum recorded at backup time`);
    expect(row.failureReason).toContain("wrong key for this key id, or an archive damaged before encryption; the zstd decompressor refused the decrypted bytes (Unknown frame descriptor)");
    expect(await catalogFingerprint(sql, env.targetUrl)).toEqual(before);
    const fresh = swapNames(databaseOf(env.targetUrl), restoreId).fresh;
    expect(await sql(adminUrl(), "SELECT 1 FROM pg_database WHERE datname = $1", [fresh])).toEqual([]);
  }, 180_000);
});
