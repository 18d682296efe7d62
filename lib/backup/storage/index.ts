// Picks the storage backend the configuration asks for.
import type { Config } from "../../config";
import { LocalStorage } from "./local";
import type { S3StorageOptions } from "./s3";
import { LazyS3Storage } from "./lazy-s3";
import type { Storage } from "./types";

export type StorageConfig = Pick<
  Config,
  | "STORAGE"
  | "localStorageDir"
  | "S3_ENDPOINT"
  | "S3_REGION"
  | "S3_BUCKET"
  | "S3_ACCESS_KEY_ID"
  | "S3_SECRET_ACCESS_KEY"
  | "S3_FORCE_PATH_STYLE"
> &
  // Left out (tests' configs): no reserve kept.
  Partial<Pick<Config, "DISK_RESERVE_MB">>;

export function createStorage(
  cfg: StorageConfig,
  tuning: Omit<S3StorageOptions, "bucket" | "region" | "endpoint" | "accessKeyId" | "secretAccessKey" | "forcePathStyle"> = {},
): Storage {
  if (cfg.STORAGE === "local") return new LocalStorage(cfg.localStorageDir, { reserveBytes: (cfg.DISK_RESERVE_MB ?? 0) * 1024 * 1024 });
  if (!cfg.S3_BUCKET) throw new Error("S3_BUCKET is required when STORAGE=s3");
  // Loaded on first use: local-storage processes never pay for the AWS SDK (lazy-s3.ts).
  return new LazyS3Storage({
    bucket: cfg.S3_BUCKET,
    region: cfg.S3_REGION,
    endpoint: cfg.S3_ENDPOINT,
    accessKeyId: cfg.S3_ACCESS_KEY_ID,
    secretAccessKey: cfg.S3_SECRET_ACCESS_KEY,
    forcePathStyle: cfg.S3_FORCE_PATH_STYLE,
    ...tuning,
  });
}

export * from "./types";
export { LocalStorage } from "./local";
export type { S3StorageOptions } from "./s3";
export { LazyS3Storage } from "./lazy-s3";
export { assertSafeKey } from "./keys";
