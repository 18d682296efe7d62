// A BackupContext on real parts, described by plain JSON so that a child process can build
// the very same one (see engine-child.ts).
import { createDb } from "../../lib/db";
import { LocalStorage } from "../../lib/backup/storage/local";
import { DEFAULT_DISK_RESERVE_BYTES } from "../../lib/backup/server-disk";
import { S3Storage } from "../../lib/backup/storage/s3";
import type { Storage } from "../../lib/backup/storage/types";
import type { BackupContext } from "../../lib/backup/context";

/** The passphrase every test backup is encrypted with. */
export const PASSPHRASE = "vaultline-test-passphrase-1";

export type StorageSpec =
  | { kind: "local"; dir: string }
  | { kind: "s3"; endpoint: string; bucket: string; maxAttempts?: number; requestTimeoutMs?: number; partSize?: number; queueSize?: number };

export interface ContextSpec {
  appUrl: string;
  targetUrl: string;
  storage: StorageSpec;
  passphrase?: string;
  env?: string;
  heartbeatMs?: number;
  timeoutMs?: number;
  /** Restores: "auto" (swap when the role may), "swap" or "in-place". */
  restoreStrategy?: "auto" | "swap" | "in-place";
  /** FILES_DIR: the uploads folder bundled with FULL backups. */
  filesDir?: string;
}

export function makeStorage(s: StorageSpec): Storage {
  // With the production default's reserve (DISK_RESERVE_MB): tests and the bench write as users' backups do.
  if (s.kind === "local") return new LocalStorage(s.dir, { reserveBytes: DEFAULT_DISK_RESERVE_BYTES });
  return new S3Storage({
    bucket: s.bucket,
    region: "us-east-1",
    endpoint: s.endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    forcePathStyle: true,
    maxAttempts: s.maxAttempts,
    requestTimeoutMs: s.requestTimeoutMs,
    partSize: s.partSize,
    queueSize: s.queueSize,
  });
}

export function makeContext(spec: ContextSpec, storage: Storage = makeStorage(spec.storage)): BackupContext {
  return {
    db: createDb(spec.appUrl),
    storage,
    appDatabaseUrl: spec.appUrl,
    targetUrl: spec.targetUrl,
    passphrase: spec.passphrase ?? PASSPHRASE,
    prefix: "backups",
    env: spec.env ?? "test",
    timeoutMs: spec.timeoutMs ?? 30 * 60_000,
    heartbeatMs: spec.heartbeatMs ?? 500,
    restoreStrategy: spec.restoreStrategy,
    filesDir: spec.filesDir,
  };
}
