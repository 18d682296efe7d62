// Verification: re-read every stored part, recompute its checksum, decrypt it and read it
// to the end (pg_restore --list for the database, the tar index for files).
import type { BackupContext } from "./context";
import { createHash } from "node:crypto";
import { verifyStoredObject } from "./archive";
import { decryptionKeyFor, KeyUnavailableError, recipientOf, type PrivateKey } from "./keyring";
import { ObjectNotFoundError } from "./storage/types";
import { ManifestError, manifestDigest, parseManifest, type Manifest } from "./manifest";
import { storedKeys, type JobKeyRef } from "./job-keys";
import { audit, type Actor } from "../audit";
import { ApiError, notFound } from "../errors";
import { getBoss, QUEUES } from "../queue";
import { componentLogger } from "../log";

const log = componentLogger("admin-backups");

export const CHECKSUM_ONLY_NOTE =
  "stored checksums match; this backup is encrypted to a public key and a full decrypt check needs the private key (BACKUP_ENCRYPTION_PRIVATE_KEY on a recovery instance)";

export interface PartCheck {
  name: string;
  ok: boolean;
  reason?: string;
  storedSha256?: string;
  entries?: number;
}
export interface VerifyOutcome {
  ok: boolean;
  reason?: string;
  /** What was not checked, e.g. the decryption of a write-only backup. */
  note?: string;
  parts: PartCheck[];
  manifest?: Manifest;
}

/** What a check needs of a catalogue row. `manifestSha256` is null for rows older than it. */
export interface StoredBackupRef extends JobKeyRef {
  id: string;
  createdAt: Date;
  checksumSha256: string | null;
  manifestSha256?: string | null;
}

/**
 * Reads a backup's manifest. With the digest the catalogue recorded when the backup
 * finished, any change to the manifest's bytes is refused here, before anything trusts it.
 */
export async function readManifest(ctx: BackupContext, job: JobKeyRef & { manifestSha256?: string | null }): Promise<Manifest> {
  const key = (await storedKeys(ctx, job)).manifest;
  const bytes = await ctx.storage.getBytes(key);
  if (job.manifestSha256 && manifestDigest(bytes) !== job.manifestSha256 && !(await switchingTo(ctx, job.id, manifestDigest(bytes)))) {
    throw new ManifestError(["the manifest was altered after the backup finished (its SHA-256 differs from the catalogue's)"]);
  }
  const m = parseManifest(bytes);
  if (m.id !== job.id) throw new Error(`the manifest at ${key} belongs to backup ${m.id}, not ${job.id}`);
  return m;
}

/**
 * Whether `digest` is the manifest a re-encryption of the backup is switching to, in the
 * moment between writing it and recording its digest (reencrypt.ts).
 */
async function switchingTo(ctx: BackupContext, backupId: string, digest: string): Promise<boolean> {
  const row = await ctx.db.keyReencryption.findUnique({ where: { backupId }, select: { state: true, newManifestSha256: true } });
  return row?.state === "SWITCHING" && row.newManifestSha256 === digest;
}

/** The catalogue's checksum is not the manifest's (except mid-switch of a re-encryption, whose manifest is ahead). */
async function checksumDiffers(ctx: BackupContext, job: StoredBackupRef, manifest: Manifest): Promise<boolean> {
  if (!job.checksumSha256 || !manifest.checksumSha256 || manifest.checksumSha256 === job.checksumSha256) return false;
  const key = (await storedKeys(ctx, job)).manifest;
  return !(await switchingTo(ctx, job.id, manifestDigest(await ctx.storage.getBytes(key))));
}

/** Checks every part of a stored backup against its manifest; never throws for bad data. */
export async function verifyBackupObjects(ctx: BackupContext, job: StoredBackupRef): Promise<VerifyOutcome> {
  let manifest: Manifest;
  try {
    manifest = await readManifest(ctx, job);
  } catch (e) {
    return { ok: false, reason: `manifest unreadable: ${(e as Error).message}`, parts: [] };
  }
  if (await checksumDiffers(ctx, job, manifest)) {
    return { ok: false, reason: "the manifest's checksum differs from the catalogue's", parts: [], manifest };
  }
  let key;
  try {
    key = await decryptionKeyFor(ctx, manifest.encryption);
  } catch (e) {
    if (!(e instanceof KeyUnavailableError)) throw e;
    // Write-only backups: this server cannot decrypt; the stored checksums are still checked.
    if (e.needsPrivateKey && !ctx.privateKey && recipientOf(manifest.encryption)) {
      const sums = await checkStoredParts(ctx, job, { checksumsOnly: true });
      return { ...sums, note: sums.ok ? CHECKSUM_ONLY_NOTE : undefined };
    }
    return { ok: false, reason: e.message, parts: [], manifest };
  }
  const parts: PartCheck[] = [];
  for (const p of manifest.parts) {
    const r = await verifyStoredObject({
      storage: ctx.storage,
      key: p.key,
      passphrase: key,
      expectedSha256: p.sha256,
      expectedPlainSha256: p.plainSha256,
      binDir: ctx.pgBinDir,
      kind: p.name === "files" ? "tar" : "pgdump",
      compression: p.compression,
      keyId: manifest.encryption.keyId ?? null,
    });
    parts.push({ name: p.name, ok: r.ok, reason: r.reason, storedSha256: r.storedSha256, entries: r.tocEntries });
  }
  const bad = parts.find((p) => !p.ok);
  return { ok: !bad, reason: bad ? `${bad.name} part: ${bad.reason}` : undefined, parts, manifest };
}

/** Queues a verification; the result lands in verifiedAt / verifyStatus. */
export async function requestVerify(ctx: BackupContext, id: string, actor: Actor) {
  const job = await ctx.db.backupJob.findUnique({ where: { id } });
  if (!job) throw notFound("Backup");
  if (job.status !== "SUCCEEDED") throw new ApiError("CONFLICT", "Only a successful backup can be verified");
  await audit(ctx.db, { actor, action: "backup.verify_requested", target: id, targetId: job.targetId });
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.verify, { jobId: id });
}

export async function runVerify(ctx: BackupContext, id: string): Promise<VerifyOutcome> {
  const job = await ctx.db.backupJob.findUniqueOrThrow({ where: { id } });
  const outcome = job.kind === "QUICK" ? await verifyQuick(ctx, job) : await verifyBackupObjects(ctx, job);
  await ctx.db.$executeRaw`
    UPDATE "BackupJob" SET "verifiedAt" = now(), "verifyStatus" = ${outcome.ok ? "PASSED" : "FAILED"}::"VerifyStatus", "updatedAt" = now(),
           metadata = metadata || jsonb_build_object('verify', ${JSON.stringify({ at: new Date().toISOString(), ok: outcome.ok, reason: outcome.reason ?? null, ...(outcome.note ? { note: outcome.note } : {}), parts: outcome.parts })}::jsonb)
     WHERE id = ${id}`;
  await audit(ctx.db, {
    actor: { type: "system", label: "worker" },
    action: outcome.ok ? "backup.verified" : "backup.verify_failed",
    target: id,
    targetId: job.targetId,
    details: { reason: outcome.reason ?? null, ...(outcome.note ? { note: outcome.note } : {}) },
  });
  log.info({ jobId: id, ok: outcome.ok, reason: outcome.reason, note: outcome.note }, "verification finished");
  return outcome;
}

async function verifyQuick(ctx: BackupContext, job: { id: string; createdAt: Date }): Promise<VerifyOutcome> {
  try {
    await readManifest(ctx, job);
    return { ok: true, parts: [] };
  } catch (e) {
    return { ok: false, reason: `manifest unreadable: ${(e as Error).message}`, parts: [] };
  }
}

/**
 * The check before a restore touches anything: the manifest, every part present with its
 * recorded size and SHA-256, and the configured key being the one the backup was made with
 * (its key id). Decryption itself is proven during the restore, whose COMMIT waits for
 * it (apply-archive.ts) — so the archive is read twice, not three times.
 */
export async function checkStoredParts(
  ctx: BackupContext,
  job: StoredBackupRef,
  /** `manifest`: the caller's own read of it (a restore reads it once for this and its preview). */
  opts: { checksumsOnly?: boolean; privateKey?: PrivateKey; manifest?: Promise<Manifest> } = {},
): Promise<VerifyOutcome> {
  let manifest: Manifest;
  try {
    manifest = await (opts.manifest ?? readManifest(ctx, job));
  } catch (e) {
    return { ok: false, reason: `manifest unreadable: ${(e as Error).message}`, parts: [] };
  }
  if (await checksumDiffers(ctx, job, manifest)) {
    return { ok: false, reason: "the manifest's checksum differs from the catalogue's", parts: [], manifest };
  }
  // The key is chosen by the manifest's key id; one that is not configured is refused here.
  // Its check (a scrypt on libuv's pool, ~0.2 s) runs while the parts are read and hashed;
  // a refused key stops the reading (a large backup is not read through to say so).
  const stop = new AbortController();
  const keyChecked: Promise<KeyUnavailableError | null> = opts.checksumsOnly
    ? Promise.resolve(null)
    : decryptionKeyFor(ctx, manifest.encryption, opts.privateKey).then(
        () => null,
        (e: unknown) => {
          stop.abort();
          if (e instanceof KeyUnavailableError) return e;
          throw e;
        },
      );
  keyChecked.catch(() => undefined);
  const parts = await hashParts(ctx, manifest, stop.signal);
  const keyProblem = await keyChecked;
  if (keyProblem) return { ok: false, reason: keyProblem.message, parts: [], manifest };
  const bad = parts.find((p) => !p.ok);
  return { ok: !bad, reason: bad ? `${bad.name} part: ${bad.reason}` : undefined, parts, manifest };
}

async function hashParts(ctx: BackupContext, manifest: Manifest, signal: AbortSignal): Promise<PartCheck[]> {
  const parts: PartCheck[] = [];
  for (const p of manifest.parts) {
    if (signal.aborted) break;
    const hash = createHash("sha256");
    let size = 0;
    try {
      for await (const chunk of await ctx.storage.get(p.key)) {
        // Leaving the loop destroys the storage stream.
        if (signal.aborted) break;
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } catch (e) {
      parts.push({ name: p.name, ok: false, reason: e instanceof ObjectNotFoundError ? `the ${p.name} part is missing from storage` : (e as Error).message });
      continue;
    }
    const sha = hash.digest("hex");
    const ok = sha === p.sha256 && size === p.sizeBytes;
    parts.push({
      name: p.name,
      ok,
      storedSha256: sha,
      reason: ok ? undefined : `checksum mismatch: the stored object (${size} bytes, sha256 ${sha.slice(0, 12)}…) was altered or truncated`,
    });
  }
  return parts;
}
