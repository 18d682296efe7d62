-- Decision 175: "a backup holds up a session" (a migration waiting for the dump's lock, the
-- application's queries queued behind it). New channels are routed for it by default;
-- existing ones choose it on Settings -> Notifications (a value added here cannot be used in
-- the same transaction, and the migrations run in one).
ALTER TYPE "NotificationEvent" ADD VALUE 'BACKUP_BLOCKING';
