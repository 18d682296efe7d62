// Advisory-lock namespace for deploy and rollback records (beside lib/backup/locks.ts's).
export const LOCK_DEPLOY = 0x7661_0003; // one deploy or rollback RUNNING at a time
