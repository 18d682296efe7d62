// The key part of a BackupContext built from the configuration (keyring.ts).
import type { Config } from "../config";

export function keyConfig(cfg: Config) {
  return {
    oldPassphrases: cfg.BACKUP_ENCRYPTION_OLD_PASSPHRASES,
    publicKey: cfg.BACKUP_ENCRYPTION_PUBLIC_KEY,
    privateKey: cfg.BACKUP_ENCRYPTION_PRIVATE_KEY,
    keysFile: cfg.BACKUP_ENCRYPTION_KEYS_FILE,
  };
}
