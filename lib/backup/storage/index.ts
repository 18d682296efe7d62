// Picks the storage backend the configuration asks for.
import type { Config } from "../../config";
import { LocalStorage } from "./local";
import { S3Storage, type S3StorageOptions } from "./s3";
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
>;

export function createStorage(
  cfg: StorageConfig,
  tuning: Omit<S3StorageOptions, "bucket" | "region" | "endpoint" | "accessKeyId" | "secretAccessKey" | "forcePathStyle"> = {},
): Storage {
  if (cfg.STORAGE === "local") return new LocalStorage(cfg.localStorageDir);
  if (!cfg.S3_BUCKET) throw new Error("S3_BUCKET is required when STORAGE=s3");
  return new S3Storage({
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
export { S3Storage, type S3StorageOptions } from "./s3";
export { assertSafeKey } from "./keys";
