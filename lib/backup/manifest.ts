// The manifest written beside every backup: plain JSON that describes the bundle well
// enough to restore it with stock tools, and from which the catalogue can be rebuilt
// (storage is the source of truth, DESIGN §3). Unknown fields from newer versions are
// kept on parse, so an older Vaultline can still read a newer backup.
import { createHash } from "node:crypto";
import { z } from "zod";
import { backupKindSchema, backupTriggerSchema } from "../validation/backups";
import { RESERVED_TARGET_SEGMENTS } from "../validation/target-selector";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase SHA-256 hex digest");
const isoTime = z.iso.datetime({ offset: true });
const nonNegativeInt = z.number().int().nonnegative();

export { backupKindSchema, backupTriggerSchema };

export const prismaMigrationRowSchema = z.object({
  id: z.string().optional(),
  migration_name: z.string(),
  checksum: z.string(),
  finished_at: isoTime.nullable(),
  rolled_back_at: isoTime.nullable(),
  applied_steps_count: nonNegativeInt,
});

/**
 * The codec between pg_dump and OpenPGP (lib/backup/compression.ts). Absent on parts
 * written before issue 14, which means codec "none": pg_dump compressed them itself.
 */
export const partCompressionSchema = z.looseObject({
  codec: z.enum(["zstd", "gzip", "none"]),
  level: z.number().int().nullable(),
  pgDump: z.enum(["-Z0", "default"]),
  inputBytes: nonNegativeInt,
});

export const manifestPartSchema = z.looseObject({
  name: z.enum(["database", "files"]),
  key: z.string().min(1),
  sizeBytes: nonNegativeInt,
  /** Of the bytes `gpg -d` gives back: after the codec, before encryption. */
  plainSizeBytes: nonNegativeInt,
  /** Of the stored (encrypted) object. */
  sha256: sha256Hex,
  /** Of the bytes `gpg -d` gives back (for a compressed part, the compressed archive). */
  plainSha256: sha256Hex,
  contentType: z.string().min(1),
  compression: partCompressionSchema.optional(),
  /** Files part: files the application changed while they were archived (decision 168); the first names, each with how. */
  changedWhileArchived: z.object({ count: nonNegativeInt, names: z.array(z.string()) }).optional(),
  /** Files part: how many files were removed while the files were archived (left out: decision 164). */
  removedWhileArchived: nonNegativeInt.optional(),
});

export const CHECKSUM_ALGORITHM = "md5-row-sum-v1";

/** One table's content checksum (lib/backup/table-checksums.ts), or why it was not taken (rows null). */
export const tableChecksumSchema = z.looseObject({
  rows: nonNegativeInt.nullable(),
  checksum: z.string().regex(/^[0-9a-f]{32}$/).nullable(),
  skipped: z.string().optional(),
});

export const tableChecksumsSchema = z.looseObject({
  algorithm: z.literal(CHECKSUM_ALGORITHM),
  /** True when taken in the snapshot pg_dump dumped (pg_dump --snapshot). */
  sameSnapshotAsDump: z.boolean(),
  tables: z.record(z.string(), tableChecksumSchema),
  /** Milliseconds spent computing them beside pg_dump. */
  elapsedMs: z.number().nonnegative(),
});

export type TableChecksum = z.infer<typeof tableChecksumSchema>;
export type TableChecksums = z.infer<typeof tableChecksumsSchema>;

export const manifestSchema = z
  .looseObject({
    formatVersion: z.literal(1),
    id: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only"),
    kind: backupKindSchema,
    trigger: backupTriggerSchema,
    createdAt: isoTime,
    startedAt: isoTime,
    completedAt: isoTime,
    durationSeconds: z.number().nonnegative(),
    database: z.looseObject({
      name: z.string().min(1),
      serverVersion: z.string().min(1),
      /** host[:port]; never credentials. */
      host: z.string().min(1).refine((h) => !h.includes("@"), "must not contain credentials"),
      /** For a URL naming several hosts (decision 183): the one the dump was taken from, host:port as the URL writes it. Absent for one host, and before decision 184. */
      dumpedFrom: z.string().min(1).refine((h) => !h.includes("@") && !h.includes(","), "one host:port, no credentials").optional(),
      /** Encoding and locale (lib/backup/db-locale.ts): a drill's scratch copy is made in them. Absent before decision 137. */
      locale: z
        .looseObject({ encoding: z.string().min(1), collate: z.string(), ctype: z.string(), provider: z.string().nullable(), iculocale: z.string().nullable() })
        .optional(),
      /** pg_database_size when it was backed up: what a restore's copy takes on the server's disk (server-disk.ts). Absent before decision 159. */
      sizeBytes: nonNegativeInt.optional(),
    }),
    pgDumpVersion: z.string().min(1),
    commitSha: z.string().regex(/^[0-9a-f]{7,40}$/i).nullable(),
    note: z.string().nullable(),
    initiatedBy: z.looseObject({ id: z.string(), email: z.string(), displayName: z.string() }).nullable(),
    schemaHash: sha256Hex.nullable(),
    prismaMigrations: z.array(prismaMigrationRowSchema).nullable(),
    tableRowEstimates: z.record(z.string(), z.number().nonnegative()).nullable(),
    /** Exact rows and content checksum per table, in the dump's snapshot; absent before issue 17. */
    tableChecksums: tableChecksumsSchema.nullable().optional(),
    encryption: z
      .looseObject({
        algorithm: z.literal("openpgp-aes256"),
        /** Random id of the key (lib/backup/key-id.ts); written since issue 12. */
        keyId: z.string().regex(/^[0-9a-f]{16}$/).optional(),
        /** Older manifests: derived from the passphrase; only compared, never shown or written. */
        keyFingerprint: z.string().regex(/^[0-9a-f]{16}$/).optional(),
        /** Write-only backups (issue 16 §3): fingerprint of the public key the parts are encrypted to. */
        recipient: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/).optional(),
      })
      .refine((e) => e.keyId !== undefined || e.keyFingerprint !== undefined, "needs keyId (or, in older manifests, keyFingerprint)"),
    /** FULL: the database part, and a files part when one was taken. QUICK: may be empty. */
    parts: z.array(manifestPartSchema),
    /** Sum of the stored parts. */
    sizeBytes: nonNegativeInt,
    /** The database part's stored SHA-256; null only when there is no database part. */
    checksumSha256: sha256Hex.nullable(),
    appVersion: z.string().min(1),
    /** Which target (DESIGN §8) the backup is of; absent (written before targets) = `default`. Never its URL. */
    target: z.looseObject({ id: z.string().min(1), name: z.string().min(1), environment: z.string().min(1) }).optional(),
    /** The target's tables and column types at backup time; restore previews diff against it. */
    schema: z
      .object({ tables: z.record(z.string(), z.object({ columns: z.record(z.string(), z.string()) })) })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const db = m.parts.filter((p) => p.name === "database");
    if (db.length > 1 || (m.kind === "FULL" && db.length !== 1)) {
      ctx.addIssue({
        code: "custom",
        path: ["parts"],
        message: m.kind === "FULL" ? "a FULL backup has exactly one database part" : "at most one database part",
      });
    } else if (db.length === 1 && db[0].sha256 !== m.checksumSha256) {
      ctx.addIssue({ code: "custom", path: ["checksumSha256"], message: "must equal the database part's sha256" });
    } else if (db.length === 0 && m.checksumSha256 !== null) {
      ctx.addIssue({ code: "custom", path: ["checksumSha256"], message: "must be null without a database part" });
    }
    if (m.parts.filter((p) => p.name === "files").length > 1) {
      ctx.addIssue({ code: "custom", path: ["parts"], message: "at most one files part" });
    }
    const total = m.parts.reduce((n, p) => n + p.sizeBytes, 0);
    if (total !== m.sizeBytes) {
      ctx.addIssue({ code: "custom", path: ["sizeBytes"], message: `must equal the sum of the parts (${total})` });
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestPart = z.infer<typeof manifestPartSchema>;
export type PrismaMigrationRow = z.infer<typeof prismaMigrationRowSchema>;

export class ManifestError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid manifest: ${problems.join("; ")}`);
    this.name = "ManifestError";
  }
}

function problems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

/** Validates, then renders stable, human-readable JSON. Throws ManifestError. */
/** SHA-256 of a manifest's bytes as stored: what the catalogue keeps in BackupJob.manifestSha256. */
export function manifestDigest(bytes: string | Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function serializeManifest(manifest: Manifest): string {
  const r = manifestSchema.safeParse(manifest);
  if (!r.success) throw new ManifestError(problems(r.error));
  return `${JSON.stringify(r.data, null, 2)}\n`;
}

/** Parses manifest.json content. Throws ManifestError naming every problem. */
export function parseManifest(text: string | Buffer): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof text === "string" ? text : text.toString("utf8"));
  } catch (e) {
    throw new ManifestError([`not JSON: ${(e as Error).message}`]);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) throw new ManifestError(problems(r.error));
  return r.data;
}

/**
 * A manifest as an API answer: the legacy keyFingerprint (computable from the passphrase)
 * is never shown, the key id only when `showKeyId` (callers who may download archives).
 */
export function manifestForCaller(m: Manifest, showKeyId: boolean): Manifest {
  const { keyFingerprint: _fingerprint, keyId, ...encryption } = m.encryption;
  return { ...withSettingValuesHidden(m, showKeyId), encryption: { ...encryption, ...(showKeyId && keyId ? { keyId } : {}) } };
}

/**
 * The settings a manifest records — the database's own (decision 194) and its roles' (decision
 * 171) — by name only, for callers who may not download the archive: a setting may hold the
 * application's configuration (PostgREST keeps its JWT secret in `app.settings.jwt_secret`, or
 * in `pgrst.jwt_secret` on its authenticator role), which is the archive's to keep, not every viewer's.
 */
function withSettingValuesHidden(m: Manifest, showValues: boolean): Manifest {
  type Recorded = { database?: { settings?: { role: string | null; config: string[] }[] }; roleDefinitions?: { settings?: string[] }[] };
  const catalog = (m as { catalog?: Recorded }).catalog;
  if (showValues || !catalog) return m;
  const hide = (entries: string[]) => entries.map((e) => `${e.slice(0, e.indexOf("="))}=(hidden)`);
  const database = catalog.database?.settings ? { ...catalog.database, settings: catalog.database.settings.map((s) => ({ ...s, config: hide(s.config) })) } : catalog.database;
  const roleDefinitions = catalog.roleDefinitions?.map((r) => (r.settings ? { ...r, settings: hide(r.settings) } : r));
  return { ...m, catalog: { ...catalog, ...(database ? { database } : {}), ...(roleDefinitions ? { roleDefinitions } : {}) } } as Manifest;
}

export interface BackupKeys {
  /** Folder of the bundle, without a trailing slash. */
  dir: string;
  archive: string;
  files: string;
  manifest: string;
}

const KEY_SEGMENT = /^[A-Za-z0-9._-]+$/;

export { RESERVED_TARGET_SEGMENTS };

function keysAt(dir: string): BackupKeys {
  return {
    dir,
    archive: `${dir}/archive.dump.gpg`,
    files: `${dir}/files.tar.gpg`,
    manifest: `${dir}/manifest.json`,
  };
}

/**
 * `<prefix>/<env>/<target>/YYYY/MM/<id>/…` in UTC (DESIGN §8), so listings sort by time
 * within a target and months prune easily. Backups written before targets live at
 * `<prefix>/<env>/YYYY/MM/<id>/…` and stay there: their rows keep the key (keysForJob).
 */
export function backupKeys(prefix: string, env: string, id: string, createdAt: Date, target = "default"): BackupKeys {
  const cleanPrefix = prefix.replace(/^\/+|\/+$/g, "");
  for (const segment of cleanPrefix ? cleanPrefix.split("/") : []) {
    if (!KEY_SEGMENT.test(segment) || segment === "." || segment === "..") {
      throw new Error(`invalid storage prefix: ${JSON.stringify(prefix)}`);
    }
  }
  if (!KEY_SEGMENT.test(env) || env === "." || env === "..") throw new Error(`invalid backup env: ${JSON.stringify(env)}`);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(target) || RESERVED_TARGET_SEGMENTS.includes(target)) {
    throw new Error(`invalid target name for a storage key: ${JSON.stringify(target)}`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`invalid backup id: ${JSON.stringify(id)}`);
  if (Number.isNaN(createdAt.getTime())) throw new Error("invalid backup creation time");
  const yyyy = String(createdAt.getUTCFullYear()).padStart(4, "0");
  const mm = String(createdAt.getUTCMonth() + 1).padStart(2, "0");
  return keysAt([cleanPrefix, env, target, yyyy, mm, id].filter(Boolean).join("/"));
}

/** Where backups written before targets are: `<prefix>/<env>/YYYY/MM/<id>/…`. */
export function legacyBackupKeys(prefix: string, env: string, id: string, createdAt: Date): BackupKeys {
  const k = backupKeys(prefix, env, id, createdAt);
  return keysAt(k.dir.replace(/\/default\/(\d{4}\/\d{2}\/[^/]+)$/, "/$1"));
}

/** Where a job's objects are: where its row says they were written, else the layout. */
export interface StoredJobRef {
  id: string;
  createdAt: Date;
  storageKey?: string | null;
  metadata?: unknown;
}

/**
 * A job's keys. A finished backup's row names its objects (storageKey, metadata.manifestKey),
 * and that is where they stay — the layout of the version that wrote them, old or new. A job
 * that wrote nothing yet gets the current layout under its target (`ctx.target`, absent =
 * `default`).
 */
export function keysForJob(
  ctx: { prefix: string; env: string; target?: { name: string } },
  job: StoredJobRef,
): BackupKeys {
  const recorded = (job.metadata as { manifestKey?: unknown } | null | undefined)?.manifestKey;
  for (const key of [typeof recorded === "string" ? recorded : null, job.storageKey ?? null]) {
    if (!key) continue;
    const dir = key.slice(0, key.lastIndexOf("/"));
    if (dir.endsWith(`/${job.id}`) || dir === job.id) return keysAt(dir);
  }
  return backupKeys(ctx.prefix, ctx.env, job.id, job.createdAt, ctx.target?.name ?? "default");
}
