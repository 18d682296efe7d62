// Re-encryption (DESIGN §9, issue 16 §2): moves a backup's parts to the current key.
// One streamed pass per part — stored object → decrypt (old key) → encrypt (current key)
// → storage, with no full copy in memory or on disk — written BESIDE the old object under
// a name carrying the new key's id, then read back and checked (checksum; decrypted to the
// end and listed when this server can decrypt it). Only then is the manifest switched
// and its digest, checksum and key id recorded in the catalogue, in one transaction with
// the journal; the old objects go last.
//
// The journal (KeyReencryption, one row per backup) makes every step restartable after a
// kill -9: WRITING → the new objects are removed (the old ones were never touched);
// SWITCHING → the switch is finished (the new objects were verified); CLEANUP → the old
// objects are removed. A per-backup advisory lock keeps a second process from "recovering"
// a row that is still being worked on.
import { PassThrough } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { BackupContext } from "./context";
import { hashObject, verifyStoredObject, writeEncryptedObject } from "./archive";
import { createDecryptStream } from "./crypto";
import { createHashingStream } from "./hashing";
import { currentKey, decryptionKeyFor, manifestEncryption, type CurrentKey } from "./keyring";
import { tryLock } from "./locks";
import { manifestDigest, parseManifest, serializeManifest, type Manifest, type ManifestPart } from "./manifest";
import { storedKeys } from "./job-keys";
import { contextForTargetKeys } from "./targets";
import { readManifest } from "./verify";
import { withDestructiveSlot } from "./delete";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { componentLogger } from "../log";
import type { KeyReencryption } from "../generated/prisma/client";

const log = componentLogger("reencrypt");

/** Advisory-lock namespace: one re-encryption of a given backup at a time (locks.ts). */
export const LOCK_REENCRYPT = 0x7661_0016;

export interface ReencryptProgress {
  backupId: string;
  bytesDone: number;
  bytesTotal: number;
}

export type ReencryptResult = { id: string; outcome: "reencrypted"; fromKeyId: string; toKeyId: string } | { id: string; outcome: "current" };

/** `…/archive.dump.gpg` → `…/archive-<keyId>.dump.gpg` (also from an earlier `archive-<id>…`). */
export function reencryptedKey(partKey: string, toKeyId: string): string {
  const slash = partKey.lastIndexOf("/");
  const dir = partKey.slice(0, slash + 1);
  const m = /^([A-Za-z]+)(?:-[0-9a-f]{16})?(\..+)$/.exec(partKey.slice(slash + 1));
  return m ? `${dir}${m[1]}-${toKeyId}${m[2]}` : `${partKey}-${toKeyId}.gpg`;
}

/** Streams one part to the new key beside the old, and checks the copy before anyone uses it. */
async function rewritePart(
  ctx: BackupContext,
  part: ManifestPart,
  newKey: string,
  from: Awaited<ReturnType<typeof decryptionKeyFor>>,
  to: CurrentKey,
  onBytes: (storedOld: number) => void,
): Promise<ManifestPart> {
  const oldStored = createHashingStream();
  const plain = new PassThrough();
  const body = await ctx.storage.get(part.key);
  const reading = pipeline(body, oldStored.stream, createDecryptStream(from), plain);
  const writing = writeEncryptedObject({
    source: plain,
    storage: ctx.storage,
    key: newKey,
    passphrase: to.key,
    contentType: part.contentType,
    // An OpenPGP envelope differs by a few hundred bytes between keys.
    expectedBytes: part.sizeBytes + 64 * 1024,
    onProgress: () => onBytes(oldStored.bytes()),
  });
  const [r, w] = await Promise.allSettled([reading, writing]);
  if (r.status === "rejected" || w.status === "rejected") {
    await ctx.storage.delete(newKey).catch(() => undefined);
    throw r.status === "rejected" ? r.reason : (w as PromiseRejectedResult).reason;
  }
  const written = w.value;
  if (oldStored.digest() !== part.sha256) throw new Error(`the ${part.name} part ${part.key} does not match its checksum; it was left as it is`);
  if (written.plainSha256 !== part.plainSha256) throw new Error(`the ${part.name} part decrypted to different content than its manifest records; it was left as it is`);

  // Read back what was stored: decrypted to the end and listed when this server can read
  // the new key; a public key the server cannot read is checked by its checksum.
  if (typeof to.key === "string" || ctx.privateKey) {
    const check = await verifyStoredObject({
      storage: ctx.storage,
      key: newKey,
      passphrase: typeof to.key === "string" ? to.key : { privateKey: ctx.privateKey! },
      expectedSha256: written.storedSha256,
      expectedPlainSha256: part.plainSha256,
      binDir: ctx.pgBinDir,
      kind: part.name === "files" ? "tar" : "pgdump",
      compression: part.compression,
    });
    if (!check.ok) throw new Error(`the re-encrypted ${part.name} part failed its check: ${check.reason}`);
  } else {
    const back = await hashObject(ctx.storage, newKey);
    if (back.sha256 !== written.storedSha256) throw new Error(`the re-encrypted ${part.name} part reads back with a different checksum`);
  }
  return { ...part, key: newKey, sizeBytes: written.storedBytes, sha256: written.storedSha256 };
}

/** Points the manifest and the catalogue at the new objects (idempotent: a restart repeats it). */
async function switchOver(ctx: BackupContext, row: KeyReencryption, manifestKey: string): Promise<void> {
  const m = parseManifest(row.newManifest!);
  await ctx.storage.putBytes(manifestKey, row.newManifest!, "application/json");
  const db = m.parts.find((p) => p.name === "database");
  const parts = m.parts.map((p) => ({ name: p.name, key: p.key, sizeBytes: p.sizeBytes, sha256: p.sha256 }));
  await ctx.db.$transaction(async (tx) => {
    const n = await tx.$executeRaw`
      UPDATE "BackupJob" SET "manifestSha256" = ${row.newManifestSha256}, "checksumSha256" = ${m.checksumSha256},
             "sizeBytes" = ${BigInt(m.sizeBytes)}, "storageKey" = ${db?.key ?? null}, "encryptionKeyId" = ${row.toKeyId}, "updatedAt" = now(),
             metadata = metadata || jsonb_build_object('parts', ${JSON.stringify(parts)}::jsonb)
       WHERE id = ${row.backupId}`;
    if (n !== 1) throw new Error(`backup ${row.backupId} is no longer in the catalogue`);
    await tx.keyReencryption.update({ where: { backupId: row.backupId }, data: { state: "CLEANUP" } });
  });
}

/**
 * Removes the old objects — holding the destructive slot, so that no restore is reading
 * them. When one is running, the row stays in CLEANUP and a later run finishes it.
 */
async function cleanUp(appCtx: BackupContext, row: Pick<KeyReencryption, "backupId" | "oldObjects" | "newObjects">): Promise<boolean> {
  // The slot of the backup's own target: a restore of another target reads none of these.
  const owner = await appCtx.db.backupJob.findUnique({ where: { id: row.backupId }, select: { target: { select: { id: true, name: true, environment: true, isDefault: true } } } });
  const ctx = owner ? contextForTargetKeys(appCtx, owner.target) : appCtx;
  try {
    await withDestructiveSlot(ctx, "removing the old objects", async () => {
      for (const key of row.oldObjects) if (!row.newObjects.includes(key)) await ctx.storage.delete(key);
      await ctx.db.keyReencryption.delete({ where: { backupId: row.backupId } });
    });
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.code === "OPERATION_IN_PROGRESS") {
      log.info({ backupId: row.backupId }, "old objects kept until the running operation ends");
      return false;
    }
    throw e;
  }
}

/** Finishes (SWITCHING, CLEANUP) or rolls back (WRITING) a journal row; the caller holds the backup's lock. */
async function settle(ctx: BackupContext, row: KeyReencryption, createdAt: Date | null): Promise<void> {
  if (row.state === "WRITING") {
    for (const key of row.newObjects) if (!row.oldObjects.includes(key)) await ctx.storage.delete(key);
    await ctx.db.keyReencryption.delete({ where: { backupId: row.backupId } });
    log.warn({ backupId: row.backupId }, "unfinished re-encryption rolled back (the old objects were never touched)");
    return;
  }
  if (row.state === "SWITCHING") {
    if (!createdAt) throw new Error(`backup ${row.backupId} is no longer in the catalogue; its re-encryption journal is left for an operator`);
    const key = (await storedKeys(ctx, { id: row.backupId, createdAt })).manifest;
    const digest = manifestDigest(await ctx.storage.getBytes(key));
    if (digest !== row.newManifestSha256 && digest !== row.oldManifestSha256) {
      throw new Error(`the manifest of backup ${row.backupId} changed during its re-encryption; left as it is`);
    }
    for (const k of row.newObjects) if (!(await ctx.storage.head(k))) throw new Error(`re-encrypted object ${k} is missing; backup ${row.backupId} left on its old key`);
    await switchOver(ctx, row, key);
    log.warn({ backupId: row.backupId }, "unfinished re-encryption switched over");
  }
  await cleanUp(ctx, row);
}

/** Finishes or rolls back what a killed re-encryption left (the worker's start, the CLI's). */
export async function recoverReencryptions(ctx: BackupContext): Promise<number> {
  let n = 0;
  for (const row of await ctx.db.keyReencryption.findMany()) {
    const lock = await tryLock(ctx.appDatabaseUrl, LOCK_REENCRYPT, row.backupId);
    if (!lock) continue; // being worked on right now
    try {
      const fresh = await ctx.db.keyReencryption.findUnique({ where: { backupId: row.backupId } });
      if (!fresh) continue;
      const job = await ctx.db.backupJob.findUnique({ where: { id: row.backupId }, select: { createdAt: true } });
      await settle(ctx, fresh, job?.createdAt ?? null);
      n++;
    } catch (e) {
      log.error({ backupId: row.backupId, err: (e as Error).message }, "re-encryption recovery failed");
    } finally {
      await lock.release();
    }
  }
  return n;
}

/** Moves one backup to the current key. `onProgress` sees stored bytes read so far. */
export async function reencryptBackup(
  ctx: BackupContext,
  id: string,
  actor: Actor,
  onProgress?: (p: ReencryptProgress) => void,
): Promise<ReencryptResult> {
  const lock = await tryLock(ctx.appDatabaseUrl, LOCK_REENCRYPT, id);
  if (!lock) throw new ApiError("OPERATION_IN_PROGRESS", `Backup ${id} is being re-encrypted by another process`);
  try {
    const job = await ctx.db.backupJob.findUnique({ where: { id } });
    if (!job) throw notFound("Backup");
    const pending = await ctx.db.keyReencryption.findUnique({ where: { backupId: id } });
    if (pending) await settle(ctx, pending, job.createdAt);
    if (job.status !== "SUCCEEDED") throw new ApiError("CONFLICT", `Backup ${id} did not succeed; there is nothing to re-encrypt`);
    const fresh = await ctx.db.backupJob.findUniqueOrThrow({ where: { id } });
    const manifestKey = (await storedKeys(ctx, fresh)).manifest;
    const manifest = await readManifest(ctx, fresh);
    const oldDigest = manifestDigest(await ctx.storage.getBytes(manifestKey));
    const to = await currentKey(ctx);
    const fromKeyId = manifest.encryption.keyId ?? null;
    if (manifest.parts.length === 0 || fromKeyId === to.id) {
      const keyId = manifest.parts.length ? fromKeyId : null;
      if (fresh.encryptionKeyId !== keyId) await ctx.db.backupJob.update({ where: { id }, data: { encryptionKeyId: keyId } });
      return { id, outcome: "current" };
    }
    const from = await decryptionKeyFor(ctx, manifest.encryption);
    const moves = manifest.parts.map((part) => ({ part, newKey: reencryptedKey(part.key, to.id) }));
    const bytesTotal = manifest.parts.reduce((n, p) => n + p.sizeBytes, 0);
    await ctx.db.keyReencryption.create({
      data: {
        backupId: id,
        state: "WRITING",
        fromKeyId: fromKeyId ?? "legacy",
        toKeyId: to.id,
        oldManifestSha256: oldDigest,
        oldObjects: moves.map((m) => m.part.key),
        newObjects: moves.map((m) => m.newKey),
        bytesTotal: BigInt(bytesTotal),
      },
    });

    let before = 0;
    let lastWrite = 0;
    const report = (done: number) => {
      onProgress?.({ backupId: id, bytesDone: done, bytesTotal });
      if (Date.now() - lastWrite < 1000) return;
      lastWrite = Date.now();
      ctx.db.keyReencryption.updateMany({ where: { backupId: id }, data: { bytesDone: BigInt(done) } }).catch(() => undefined);
    };
    const parts: ManifestPart[] = [];
    try {
      for (const { part, newKey } of moves) {
        parts.push(await rewritePart(ctx, part, newKey, from, to, (n) => report(before + n)));
        before += part.sizeBytes;
      }
    } catch (e) {
      const row = await ctx.db.keyReencryption.findUniqueOrThrow({ where: { backupId: id } });
      await settle(ctx, row, fresh.createdAt);
      throw e;
    }
    const next: Manifest = {
      ...manifest,
      encryption: manifestEncryption(to),
      parts,
      sizeBytes: parts.reduce((n, p) => n + p.sizeBytes, 0),
      checksumSha256: parts.find((p) => p.name === "database")?.sha256 ?? null,
    };
    const text = serializeManifest(next);
    // Whoever took a lost lock now settles this backup's re-encryption (recoverReencryptions):
    // nothing more is switched from here.
    lock.lost.throwIfAborted();
    const row = await ctx.db.keyReencryption.update({
      where: { backupId: id },
      data: { state: "SWITCHING", newManifest: text, newManifestSha256: manifestDigest(text), bytesDone: BigInt(bytesTotal) },
    });
    await switchOver(ctx, row, manifestKey);
    await cleanUp(ctx, row);
    await audit(ctx.db, { actor, action: "backup.reencrypted", target: id, targetId: job.targetId, details: { fromKeyId: fromKeyId ?? "legacy", toKeyId: to.id } });
    log.info({ backupId: id, fromKeyId, toKeyId: to.id }, "backup re-encrypted");
    return { id, outcome: "reencrypted", fromKeyId: fromKeyId ?? "legacy", toKeyId: to.id };
  } finally {
    await lock.release();
  }
}

export interface ReencryptSummary {
  reencrypted: string[];
  current: string[];
  failed: { id: string; reason: string }[];
}

/** The successful backups with encrypted parts that may not be on the current key. */
export async function backupsToReencrypt(ctx: BackupContext): Promise<string[]> {
  const to = await currentKey(ctx);
  const rows = await ctx.db.backupJob.findMany({
    where: { status: "SUCCEEDED", kind: "FULL", OR: [{ encryptionKeyId: null }, { encryptionKeyId: { not: to.id } }] },
    select: { id: true },
    orderBy: { createdAt: "asc" },
  });
  return rows.map((r) => r.id);
}

/** Re-encrypts each backup in turn; one that fails is reported and the others go on. */
export async function reencryptBackups(
  ctx: BackupContext,
  ids: string[] | "all",
  actor: Actor,
  onProgress?: (p: ReencryptProgress & { index: number; count: number }) => void,
): Promise<ReencryptSummary> {
  await recoverReencryptions(ctx);
  const list = ids === "all" ? await backupsToReencrypt(ctx) : ids;
  const summary: ReencryptSummary = { reencrypted: [], current: [], failed: [] };
  for (const [index, id] of list.entries()) {
    try {
      const r = await reencryptBackup(ctx, id, actor, (p) => onProgress?.({ ...p, index, count: list.length }));
      summary[r.outcome === "current" ? "current" : "reencrypted"].push(id);
    } catch (e) {
      summary.failed.push({ id, reason: (e as Error).message });
      await audit(ctx.db, { actor, action: "backup.reencrypt_failed", target: id, targetId: (await ctx.db.backupJob.findUnique({ where: { id }, select: { targetId: true } }).catch(() => null))?.targetId ?? null, details: { reason: (e as Error).message } });
      log.error({ backupId: id, err: (e as Error).message }, "re-encryption failed");
    }
  }
  return summary;
}
