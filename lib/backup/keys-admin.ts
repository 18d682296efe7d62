// The keys as the Settings page and its API see them (issue 16): which key encrypts,
// which keys still decrypt, which backups still need which key (so an old key can be
// retired once nothing needs it), the re-encryption under way, and the embedded-mode
// rotation. Never a passphrase, except the new one a rotation answers once.
import type { BackupContext } from "./context";
import { currentKey, passphraseKeys } from "./keyring";
import { readEmbeddedKeys, retireEmbeddedKey, rotateEmbeddedKey } from "./embedded-keys";
import { readManifest } from "./verify";
import { recoverReencryptions, reencryptBackups, backupsToReencrypt } from "./reencrypt";
import { audit, type Actor } from "../audit";
import { ApiError } from "../errors";
import { plural } from "../format";
import { getBoss, QUEUES } from "../queue";
import { componentLogger } from "../log";

const log = componentLogger("keys");

export const ROTATE_WORD = "ROTATE";
export const RETIRE_WORD = "RETIRE";

export interface KeyUsage {
  id: string;
  kind: "passphrase" | "public-key";
  /** Encrypts new backups. */
  current: boolean;
  /** Configured here: false for a key some backup needs that this server does not have. */
  configured: boolean;
  backups: number;
  /** The newest few backups that need it. */
  backupIds: string[];
}

export interface KeysOverview {
  currentKeyId: string;
  /** Fingerprint of the public key backups are encrypted to; null with a passphrase. */
  recipient: string | null;
  /** Embedded mode: the keys live in $DATA_DIR and can be rotated from here. */
  rotatable: boolean;
  keys: KeyUsage[];
  /** Successful backups not yet on the current key. */
  notOnCurrentKey: number;
  reencryptions: { backupId: string; state: string; bytesDone: number; bytesTotal: number }[];
}

/** Fills encryptionKeyId of rows made before it was recorded, from their manifests (a few per call). */
async function learnKeyIds(ctx: BackupContext, limit = 50): Promise<void> {
  const rows = await ctx.db.backupJob.findMany({ where: { status: "SUCCEEDED", kind: "FULL", encryptionKeyId: null }, take: limit, orderBy: { createdAt: "desc" } });
  for (const row of rows) {
    try {
      const m = await readManifest(ctx, row);
      if (m.parts.length && m.encryption.keyId) await ctx.db.backupJob.update({ where: { id: row.id }, data: { encryptionKeyId: m.encryption.keyId } });
    } catch (e) {
      log.warn({ backupId: row.id, err: (e as Error).message }, "manifest unreadable; its key id stays unknown");
    }
  }
}

export async function keysOverview(ctx: BackupContext): Promise<KeysOverview> {
  await learnKeyIds(ctx);
  const current = await currentKey(ctx);
  const configured = await passphraseKeys(ctx);
  const groups = await ctx.db.backupJob.groupBy({
    by: ["encryptionKeyId"],
    where: { status: "SUCCEEDED", kind: "FULL" },
    _count: { _all: true },
  });
  const ids = new Set<string>([current.id, ...configured.map((k) => k.id), ...groups.flatMap((g) => (g.encryptionKeyId ? [g.encryptionKeyId] : []))]);
  const keys: KeyUsage[] = [];
  for (const id of ids) {
    const count = groups.find((g) => g.encryptionKeyId === id)?._count._all ?? 0;
    const newest = await ctx.db.backupJob.findMany({
      where: { status: "SUCCEEDED", kind: "FULL", encryptionKeyId: id },
      orderBy: { createdAt: "desc" },
      take: 5,
      select: { id: true },
    });
    keys.push({
      id,
      kind: id === current.id && current.recipient ? "public-key" : "passphrase",
      current: id === current.id,
      configured: id === current.id || configured.some((k) => k.id === id) || (!!ctx.privateKey && id === current.id),
      backups: count,
      backupIds: newest.map((r) => r.id),
    });
  }
  keys.sort((a, b) => Number(b.current) - Number(a.current) || b.backups - a.backups);
  const rows = await ctx.db.keyReencryption.findMany({ orderBy: { startedAt: "asc" } });
  return {
    currentKeyId: current.id,
    recipient: current.recipient ?? null,
    rotatable: !!ctx.keysFile && !ctx.publicKey,
    keys,
    notOnCurrentKey: (await backupsToReencrypt(ctx)).length,
    reencryptions: rows.map((r) => ({ backupId: r.backupId, state: r.state, bytesDone: Number(r.bytesDone), bytesTotal: Number(r.bytesTotal) })),
  };
}

/** Queues the move of `ids` (or every backup not on the current key) to the current key. */
export async function requestReencrypt(ctx: BackupContext, target: { all: true } | { ids: string[] }, actor: Actor) {
  const count = "all" in target ? (await backupsToReencrypt(ctx)).length : target.ids.length;
  await audit(ctx.db, { actor, action: "keys.reencrypt_requested", details: "all" in target ? { all: true, count } : { ids: target.ids } });
  const boss = await getBoss(ctx.appDatabaseUrl);
  await boss.send(QUEUES.reencrypt, { ...target, actor });
  return { status: "QUEUED" as const, count };
}

/** The worker's handler for QUEUES.reencrypt. */
export async function runReencryptJob(ctx: BackupContext, data: { all?: boolean; ids?: string[]; actor: Actor }) {
  return reencryptBackups(ctx, data.all ? "all" : (data.ids ?? []), data.actor);
}

/** Embedded mode: a new current passphrase (answered once); the old one keeps decrypting. */
export async function rotateKey(ctx: BackupContext, confirm: unknown, actor: Actor) {
  if (confirm !== ROTATE_WORD) throw new ApiError("CONFIRMATION_REQUIRED", `Type ${ROTATE_WORD} (exactly) to confirm the rotation`, { expected: ROTATE_WORD });
  if (!ctx.keysFile || ctx.publicKey) {
    throw new ApiError(
      "CONFLICT",
      "The keys come from the environment: set BACKUP_ENCRYPTION_PASSPHRASE to a new passphrase, add the old one to BACKUP_ENCRYPTION_OLD_PASSPHRASES, and restart",
    );
  }
  const previous = readEmbeddedKeys(ctx.keysFile).current.id;
  const next = rotateEmbeddedKey(ctx.keysFile);
  await audit(ctx.db, { actor, action: "keys.rotated", details: { previousKeyId: previous, keyId: next.id } });
  return { keyId: next.id, passphrase: next.passphrase, previousKeyId: previous };
}

/** Embedded mode: forgets an old key that no backup needs any more. */
export async function retireKey(ctx: BackupContext, body: { keyId: string; confirm: string }, actor: Actor) {
  if (body.confirm !== RETIRE_WORD) throw new ApiError("CONFIRMATION_REQUIRED", `Type ${RETIRE_WORD} (exactly) to confirm`, { expected: RETIRE_WORD });
  if (!ctx.keysFile) throw new ApiError("CONFLICT", "The keys come from the environment: remove the passphrase from BACKUP_ENCRYPTION_OLD_PASSPHRASES and restart");
  await recoverReencryptions(ctx);
  const overview = await keysOverview(ctx);
  if (overview.currentKeyId === body.keyId) throw new ApiError("CONFLICT", "The current key cannot be retired; rotate first");
  const usage = overview.keys.find((k) => k.id === body.keyId);
  if (usage && usage.backups > 0) throw new ApiError("CONFLICT", `${plural(usage.backups, "backup")} still need${usage.backups === 1 ? "s" : ""} key ${body.keyId}; re-encrypt ${usage.backups === 1 ? "it" : "them"} first`);
  if (await ctx.db.backupJob.count({ where: { status: "SUCCEEDED", kind: "FULL", encryptionKeyId: null } })) {
    throw new ApiError("CONFLICT", "Some backups' keys are not known yet (their manifests are unreadable); nothing was retired");
  }
  if (overview.reencryptions.length) throw new ApiError("OPERATION_IN_PROGRESS", "A re-encryption is under way; retire the key when it has finished");
  if (!retireEmbeddedKey(ctx.keysFile, body.keyId)) throw new ApiError("NOT_FOUND", `No old key ${body.keyId} is configured here`);
  await audit(ctx.db, { actor, action: "keys.retired", details: { keyId: body.keyId } });
  return { keyId: body.keyId, retired: true };
}
