// Response shapes of the keys routes (issue 16; lib/backup/keys-admin.ts).
import { z } from "zod";

const keyId = z.string().regex(/^[0-9a-f]{16}$/);

export const keysOverviewSchema = z
  .object({
    currentKeyId: keyId,
    recipient: z.string().nullable().meta({ description: "Fingerprint of the public key backups are encrypted to (write-only backups); null with a passphrase." }),
    rotatable: z.boolean().meta({ description: "Embedded mode: the keys live in $DATA_DIR/secrets.json and can be rotated here." }),
    keys: z.array(
      z.object({
        id: keyId,
        kind: z.enum(["passphrase", "public-key"]),
        current: z.boolean(),
        configured: z.boolean().meta({ description: "false: some backup needs this key and this server does not have it." }),
        backups: z.number().int(),
        backupIds: z.array(z.string()),
      }),
    ),
    notOnCurrentKey: z.number().int(),
    reencryptions: z.array(z.object({ backupId: z.string(), state: z.string(), bytesDone: z.number(), bytesTotal: z.number() })),
  })
  .meta({ id: "KeysOverview" });

export const reencryptQueuedSchema = z.object({ status: z.literal("QUEUED"), count: z.number().int() }).meta({ id: "ReencryptQueued" });

export const keyRotatedSchema = z
  .object({
    keyId,
    passphrase: z.string().meta({ description: "The new passphrase, shown this once: copy it somewhere safe." }),
    previousKeyId: keyId,
  })
  .meta({ id: "KeyRotated" });

export const keyRetiredSchema = z.object({ keyId, retired: z.literal(true) }).meta({ id: "KeyRetired" });
