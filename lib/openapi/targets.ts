// Response schemas of /api/targets (lib/backup/targets-admin.ts TargetView, lib/backup/
// target-test.ts TargetTestResult): a connection URL is never part of an answer.
import { z } from "zod";
import { targetSettingsSchema } from "../validation/targets";

const isoTime = z.string().meta({ format: "date-time" });

export const targetTestSchema = z
  .object({
    ok: z.boolean().meta({ description: "Connected, the local pg_dump can dump the server, and the role can back it up." }),
    serverVersion: z.string().nullable(),
    pgDump: z.object({ version: z.string().nullable(), compatible: z.boolean(), message: z.string() }),
    canBackup: z.boolean(),
    canRestoreInPlace: z.boolean(),
    canSwap: z.boolean(),
    restorable: z.boolean().meta({
      description: "No expression a restore evaluates (an index, a CHECK constraint, a generated column, a domain, a materialized view) names something its function cannot find under a restore's empty search_path: its backups would restore.",
    }),
    reasons: z.array(
      z.object({
        check: z.string().meta({ description: "connect, session, pg_dump, backup.*, in_place.*, swap.*, restore.*" }),
        ok: z.boolean(),
        message: z.string(),
        grant: z.string().optional().meta({ description: "The SQL that grants what is missing (identifiers quoted)." }),
      }),
    ),
  })
  .meta({ id: "TargetTest" });

export const targetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    environment: z.string(),
    host: z.string().meta({ description: "Host (and port) of its connection URL; never the user or password." }),
    database: z.string(),
    isDefault: z.boolean(),
    hasUrl: z.boolean().meta({ description: "A connection URL is stored (encrypted). False for the default target, whose URL is TARGET_DATABASE_URL." }),
    settings: targetSettingsSchema,
    backupCount: z.number().int().meta({ description: "Its backups of any status: what `DELETE ?force=true` removes." }),
    createdAt: isoTime,
    updatedAt: isoTime,
    today: z.object({
      state: z.enum(["ok", "missing", "failed", "running"]),
      lastSuccess: z.object({ id: z.string(), kind: z.string(), completedAt: isoTime.nullable(), sizeBytes: z.number().nullable() }).nullable(),
      nextRunAt: isoTime.nullable(),
      sizes: z.array(z.number()).meta({ description: "The last 14 successful FULL backups' sizes in bytes, oldest first." }),
      locks: z
        .object({
          backupId: z.string(),
          blocking: z
            .object({ sessions: z.number().int(), behind: z.number().int(), seconds: z.number(), application: z.string().nullable(), table: z.string().nullable() })
            .nullable()
            .meta({ description: "Sessions held up by the backup's table locks now: how many, those queued behind them, the longest wait, and the longest-waiting one's application and table." }),
          waiting: z
            .object({ table: z.string().nullable(), seconds: z.number(), application: z.string().nullable(), pid: z.number().int().nullable() })
            .nullable()
            .meta({ description: "The backup's own wait for another session's lock: the table, how long, the holder's application and pid." }),
        })
        .nullable()
        .meta({ description: "A running FULL backup and other sessions waiting for each other's table locks now (decision 175); the backup's page has every session. Null when none." }),
    }),
  })
  .meta({ id: "Target" });

export const targetListSchema = z.object({ targets: z.array(targetSchema) }).meta({ id: "TargetList" });

export const targetCreatedSchema = targetSchema.extend({ test: targetTestSchema }).meta({ id: "TargetCreated" });
export const targetUpdatedSchema = targetSchema.extend({ test: targetTestSchema.optional().meta({ description: "When the URL was replaced: the test of the new one." }) }).meta({ id: "TargetUpdated" });
