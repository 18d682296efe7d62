// After a restore of Vaultline's own database the catalogue is rebuilt from storage, the
// source of truth (DESIGN §3): backups, restores and audit events that exist in storage but
// not in the restored tables are re-inserted, so no history and no audit trail is lost.
import type { BackupContext } from "./context";
import type { JobStatus } from "../validation/backups";
import { manifestDigest, parseManifest, type Manifest } from "./manifest";
import { ObjectNotFoundError } from "./storage/types";
import { auditPrefix, parseAuditCopy, restoresPrefix, restoreKey, targetsPrefix, type AuditCopy } from "./mirror";
import { componentLogger } from "../log";
import { DEFAULT_TARGET_ID } from "./targets";


const log = componentLogger("reconcile");

export interface RestoreRecord {
  id: string;
  /** Absent in records written before targets: `default`. */
  targetId?: string;
  backupId: string;
  safetyBackupId: string | null;
  status: JobStatus;
  phase: string | null;
  initiatedById: string | null;
  startedAt: string | null;
  completedAt: string | null;
  durationSeconds: number | null;
  failureReason: string | null;
  preview: unknown;
  checks: unknown;
  createdAt: string;
  strategy?: string | null;
  ownership?: string | null;
  /** Absent in records written before decision 171: false. */
  createRoles?: boolean;
  /** Absent in records written before decision 173: false. */
  defaultTablespace?: boolean;
  /** Absent in records written before decision 185: false. */
  endBlockingSessions?: boolean;
  previousDatabase?: string | null;
  /** Absent in records written before decision 192: null. */
  copyFilesPath?: string | null;
  keepUntil?: string | null;
  previousDroppedAt?: string | null;
  undoneAt?: string | null;
  swapSeconds?: number | null;
  warnings?: string[];
}

export async function writeRestoreRecord(ctx: BackupContext, r: RestoreRecord): Promise<void> {
  await ctx.storage.putBytes(restoreKey(ctx, r.id), JSON.stringify(r), "application/json");
}

const d = (s: string | null | undefined) => (s ? new Date(s) : null);

async function existingUsers(ctx: BackupContext, ids: (string | null | undefined)[]): Promise<Set<string>> {
  const want = [...new Set(ids.filter((x): x is string => !!x))];
  if (!want.length) return new Set();
  const rows = await ctx.db.user.findMany({ where: { id: { in: want } }, select: { id: true } });
  return new Set(rows.map((r) => r.id));
}

export async function restoreRowData(ctx: BackupContext, r: RestoreRecord, users?: Set<string>) {
  const known = users ?? (await existingUsers(ctx, [r.initiatedById]));
  return {
    id: r.id,
    targetId: r.targetId ?? DEFAULT_TARGET_ID,
    backupId: r.backupId,
    safetyBackupId: r.safetyBackupId,
    status: r.status,
    phase: r.phase,
    initiatedById: r.initiatedById && known.has(r.initiatedById) ? r.initiatedById : null,
    startedAt: d(r.startedAt),
    completedAt: d(r.completedAt),
    durationSeconds: r.durationSeconds,
    failureReason: r.failureReason,
    preview: (r.preview ?? undefined) as object | undefined,
    checks: (r.checks ?? undefined) as object | undefined,
    createdAt: new Date(r.createdAt),
    strategy: r.strategy ?? null,
    ownership: r.ownership ?? null,
    createRoles: r.createRoles ?? false,
    defaultTablespace: r.defaultTablespace ?? false,
    endBlockingSessions: r.endBlockingSessions ?? false,
    previousDatabase: r.previousDatabase ?? null,
    copyFilesPath: r.copyFilesPath ?? null,
    keepUntil: d(r.keepUntil),
    previousDroppedAt: d(r.previousDroppedAt),
    undoneAt: d(r.undoneAt),
    swapSeconds: r.swapSeconds ?? null,
    warnings: r.warnings ?? [],
  };
}

/**
 * The target a manifest names, as a catalogue row's targetId: by id, else by name; none =
 * `default` (written before targets). A target that no longer exists is re-created with its
 * id, name and environment and no URL, so its backups stay listed and restorable once an
 * administrator gives it a URL again.
 */
export async function targetIdForManifest(ctx: BackupContext, m: Pick<Manifest, "target">): Promise<string> {
  const t = m.target;
  if (!t) return DEFAULT_TARGET_ID;
  const byId = await ctx.db.target.findUnique({ where: { id: t.id }, select: { id: true } });
  if (byId) return byId.id;
  const byName = await ctx.db.target.findUnique({ where: { name: t.name }, select: { id: true } });
  if (byName) return byName.id;
  await ctx.db.target.createMany({
    data: [{ id: t.id, name: t.name, environment: t.environment, isDefault: false, databaseUrlEncrypted: null }],
    skipDuplicates: true,
  });
  log.warn({ target: t.name }, "a backup in storage names a target the catalogue did not have: re-created without a URL");
  return (await ctx.db.target.findFirst({ where: { OR: [{ id: t.id }, { name: t.name }] }, select: { id: true } }))?.id ?? DEFAULT_TARGET_ID;
}

/** The catalogue row a manifest describes: the backup succeeded (a manifest is written last). */
async function upsertFromManifest(ctx: BackupContext, key: string, m: Manifest, manifestSha256: string, exists: boolean): Promise<void> {
  const users = await existingUsers(ctx, [m.initiatedBy?.id]);
  const db = m.parts.find((p) => p.name === "database");
  const data = {
    id: m.id,
    targetId: await targetIdForManifest(ctx, m),
    kind: m.kind,
    trigger: m.trigger,
    status: "SUCCEEDED" as const,
    initiatedById: m.initiatedBy && users.has(m.initiatedBy.id) ? m.initiatedBy.id : null,
    storageKey: db ? db.key : key,
    sizeBytes: BigInt(db ? m.sizeBytes : 0),
    checksumSha256: m.checksumSha256,
    manifestSha256,
    encryptionKeyId: m.parts.length ? (m.encryption.keyId ?? null) : null,
    encrypted: true,
    durationSeconds: m.durationSeconds,
    startedAt: new Date(m.startedAt),
    completedAt: new Date(m.completedAt),
    createdAt: new Date(m.createdAt),
    phase: "done",
    progressBytes: BigInt(m.parts.reduce((n, p) => n + p.plainSizeBytes, 0)),
    commitSha: m.commitSha,
    note: m.note,
    metadata: { reconciledFromStorage: true, manifestKey: key, parts: m.parts.map((p) => ({ name: p.name, key: p.key, sizeBytes: p.sizeBytes, sha256: p.sha256 })) },
    failureReason: null,
    heartbeatAt: new Date(m.completedAt),
  };
  if (exists) await ctx.db.backupJob.update({ where: { id: m.id }, data: { ...data, id: undefined } });
  else await ctx.db.backupJob.create({ data });
}

/**
 * A row whose manifest exists in storage is recorded from it and answers true; false when
 * there is no (readable) manifest at key.
 */
export async function adoptFromManifest(ctx: BackupContext, key: string): Promise<boolean> {
  let bytes: Buffer;
  try {
    bytes = await ctx.storage.getBytes(key);
  } catch (e) {
    // Storage down is not "no manifest": the caller must not act on a guess.
    if (e instanceof ObjectNotFoundError) return false;
    throw e;
  }
  let m: Manifest;
  try {
    m = parseManifest(bytes);
  } catch {
    return false;
  }
  const row = await ctx.db.backupJob.findUnique({ where: { id: m.id }, select: { id: true } });
  await upsertFromManifest(ctx, key, m, manifestDigest(bytes), !!row);
  return true;
}

/**
 * Storage environments that may hold this Vaultline's backups: BACKUP_ENV (the catalogue's,
 * also the default target's), every target's, and every target's recorded in storage
 * (mirror.ts targetsPrefix) — a catalogue restored from before a target existed does not
 * list it. Never the whole prefix: another Vaultline may share the bucket.
 */
async function backupEnvironments(ctx: BackupContext): Promise<string[]> {
  const envs = new Set<string>([ctx.catalogueEnv ?? ctx.env, ctx.env]);
  for (const t of await ctx.db.target.findMany({ select: { environment: true } })) envs.add(t.environment);
  for await (const o of ctx.storage.list(targetsPrefix(ctx))) {
    try {
      const t = JSON.parse((await ctx.storage.getBytes(o.key)).toString("utf8")) as { environment?: unknown };
      if (typeof t.environment === "string" && /^[A-Za-z0-9._-]+$/.test(t.environment) && t.environment !== "." && t.environment !== "..") envs.add(t.environment);
    } catch (e) {
      log.error({ key: o.key, err: (e as Error).message }, "unreadable target record");
    }
  }
  return [...envs];
}

export async function reconcileFromStorage(ctx: BackupContext): Promise<{ backups: number; restores: number; audit: number }> {
  // The audit trail first: it names the environments of targets the restored catalogue lacks.
  const audit = await reconcileAudit(ctx);
  const manifests: string[] = [];
  for (const env of await backupEnvironments(ctx)) {
    // Both layouts at once: <env>/YYYY/MM/<id>/ (before targets) and <env>/<target>/YYYY/MM/<id>/.
    for await (const o of ctx.storage.list(`${ctx.prefix}/${env}/`)) if (o.key.endsWith("/manifest.json")) manifests.push(o.key);
  }

  let backups = 0;
  // A backup's own row is captured mid-run (RUNNING) in its dump: the manifest, written
  // after the run, is what tells how it ended.
  const known = new Map((await ctx.db.backupJob.findMany({ select: { id: true, status: true } })).map((r) => [r.id, r.status]));
  for (const key of manifests) {
    try {
      const bytes = await ctx.storage.getBytes(key);
      const m = parseManifest(bytes);
      if (known.get(m.id) === "SUCCEEDED") continue;
      await upsertFromManifest(ctx, key, m, manifestDigest(bytes), known.has(m.id));
      backups++;
    } catch (e) {
      log.error({ key, err: (e as Error).message }, "could not re-insert a backup from its manifest");
    }
  }

  let restores = 0;
  const knownRestores = new Map((await ctx.db.restoreJob.findMany({ select: { id: true, status: true } })).map((r) => [r.id, r.status]));
  for await (const o of ctx.storage.list(restoresPrefix(ctx))) {
    try {
      const r = JSON.parse((await ctx.storage.getBytes(o.key)).toString("utf8")) as RestoreRecord;
      if (knownRestores.get(r.id) === r.status) continue;
      const data = await restoreRowData(ctx, r);
      if (knownRestores.has(r.id)) await ctx.db.restoreJob.update({ where: { id: r.id }, data: { ...data, id: undefined } });
      else await ctx.db.restoreJob.create({ data });
      restores++;
    } catch (e) {
      log.error({ key: o.key, err: (e as Error).message }, "could not re-insert a restore record");
    }
  }

  log.info({ backups, restores, audit }, "catalogue reconciled from storage");
  return { backups, restores, audit };
}

async function reconcileAudit(ctx: BackupContext): Promise<number> {
  const events: AuditCopy[] = [];
  for await (const o of ctx.storage.list(auditPrefix(ctx))) {
    try {
      events.push(parseAuditCopy(await ctx.storage.getBytes(o.key)));
    } catch (err) {
      log.error({ key: o.key, err: (err as Error).message }, "unreadable audit object");
    }
  }
  let audit = 0;
  for (let i = 0; i < events.length; i += 500) {
    // Read back from storage, so already there: not pending for the mirror.
    const mirroredAt = new Date();
    const r = await ctx.db.auditEvent.createMany({ data: events.slice(i, i + 500).map((e) => ({ ...e, mirroredAt })), skipDuplicates: true });
    audit += r.count;
  }
  return audit;
}
