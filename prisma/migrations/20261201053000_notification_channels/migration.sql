-- CreateEnum
CREATE TYPE "NotificationChannelKind" AS ENUM ('SLACK', 'DISCORD', 'TEAMS', 'NTFY', 'WEBHOOK', 'EMAIL');

-- CreateEnum
CREATE TYPE "NotificationEvent" AS ENUM ('BACKUP_FAILED', 'BACKUP_SUCCEEDED', 'BACKUP_MISSED', 'DRILL_FAILED', 'RESTORE_STARTED', 'RESTORE_FINISHED', 'RETENTION_PRUNED', 'DEPLOY_BLOCKED');

-- CreateTable
CREATE TABLE "NotificationChannel" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "NotificationChannelKind" NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "events" "NotificationEvent"[],
    "options" JSONB NOT NULL DEFAULT '{}',
    "secrets" JSONB NOT NULL DEFAULT '{}',
    "lastSuccessAt" TIMESTAMP(3),
    "lastFailureAt" TIMESTAMP(3),
    "lastError" TEXT,
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "lastTestAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NotificationChannel_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "NotificationChannel_name_key" ON "NotificationChannel"("name");

-- The single webhook and email list of the "notifications" setting become channels that
-- receive exactly what they received before: failures when onFailure (default on),
-- successes when onSuccess (default off), and always the missed-backup alert, restores
-- and pruning. The webhook stays the generic signed JSON (WEBHOOK_SECRET still signs it);
-- email still goes through SMTP_URL. Then the moved fields leave the setting.
WITH legacy AS (
    SELECT value,
           COALESCE((value->>'onFailure')::boolean, true) AS on_failure,
           COALESCE((value->>'onSuccess')::boolean, false) AS on_success
    FROM "Setting" WHERE key = 'notifications'
), routed AS (
    SELECT value,
           ARRAY(
               SELECT e::"NotificationEvent" FROM unnest(ARRAY[
                   CASE WHEN on_failure THEN 'BACKUP_FAILED' END,
                   CASE WHEN on_success THEN 'BACKUP_SUCCEEDED' END,
                   'BACKUP_MISSED', 'RESTORE_STARTED', 'RESTORE_FINISHED', 'RETENTION_PRUNED'
               ]) AS e WHERE e IS NOT NULL
           ) AS events
    FROM legacy
)
INSERT INTO "NotificationChannel" ("id", "name", "kind", "events", "options", "secrets", "createdAt", "updatedAt")
SELECT substr(md5(random()::text || clock_timestamp()::text || 'webhook'), 1, 25), 'Webhook', 'WEBHOOK'::"NotificationChannelKind", events, '{}'::jsonb,
       jsonb_build_object('url', value->>'webhookUrl'), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM routed WHERE COALESCE(value->>'webhookUrl', '') <> ''
UNION ALL
SELECT substr(md5(random()::text || clock_timestamp()::text || 'email'), 1, 25), 'Email', 'EMAIL'::"NotificationChannelKind", events,
       -- A millisecond later: listed after the webhook, as the old form showed them.
       jsonb_build_object('recipients', value->'emails'), '{}'::jsonb, CURRENT_TIMESTAMP + interval '1 millisecond', CURRENT_TIMESTAMP
FROM routed WHERE jsonb_typeof(value->'emails') = 'array' AND jsonb_array_length(value->'emails') > 0;

UPDATE "Setting" SET value = value - 'webhookUrl' - 'emails' - 'onSuccess' - 'onFailure' WHERE key = 'notifications';
