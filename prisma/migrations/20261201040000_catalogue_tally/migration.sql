-- CreateIndex
CREATE INDEX "BackupJob_status_kind_completedAt_idx" ON "BackupJob"("status", "kind", "completedAt" DESC);

-- CreateIndex
CREATE INDEX "BackupJob_completedAt_idx" ON "BackupJob"("completedAt");

-- CreateIndex
CREATE INDEX "BackupJob_updatedAt_idx" ON "BackupJob"("updatedAt");

-- CreateTable
CREATE TABLE "BackupJobTally" (
    "id" BIGSERIAL NOT NULL,
    "kind" "BackupKind" NOT NULL,
    "trigger" "BackupTrigger" NOT NULL,
    "status" "JobStatus" NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "BackupJobTally_pkey" PRIMARY KEY ("id")
);

-- Exact counts per (kind, trigger, status) as signed deltas, appended in the same
-- transaction as the rows they count (statement triggers with transition tables: one
-- insert per statement, not per row). Only appends: concurrent writers never wait on a
-- counter row. An UPDATE that changes none of the three columns appends nothing.
-- The function keeps the migration's search_path: a restore runs with an empty one.
CREATE FUNCTION "backup_job_tally"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM "BackupJobTally";
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "BackupJobTally" ("kind", "trigger", "status", "n")
    SELECT "kind", "trigger", "status", count(*) FROM new_rows GROUP BY 1, 2, 3;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "BackupJobTally" ("kind", "trigger", "status", "n")
    SELECT "kind", "trigger", "status", -count(*) FROM old_rows GROUP BY 1, 2, 3;
  ELSE
    INSERT INTO "BackupJobTally" ("kind", "trigger", "status", "n")
    SELECT "kind", "trigger", "status", sum(d) FROM (
      SELECT "kind", "trigger", "status", 1 AS d FROM new_rows
      UNION ALL
      SELECT "kind", "trigger", "status", -1 AS d FROM old_rows
    ) x GROUP BY 1, 2, 3 HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "BackupJob_tally_insert" AFTER INSERT ON "BackupJob"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "backup_job_tally"();
CREATE TRIGGER "BackupJob_tally_update" AFTER UPDATE ON "BackupJob"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "backup_job_tally"();
CREATE TRIGGER "BackupJob_tally_delete" AFTER DELETE ON "BackupJob"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "backup_job_tally"();
CREATE TRIGGER "BackupJob_tally_truncate" AFTER TRUNCATE ON "BackupJob"
  FOR EACH STATEMENT EXECUTE FUNCTION "backup_job_tally"();

-- Folds the deltas into one row per key. Deltas appended meanwhile by transactions this
-- one cannot see are not deleted, so they still count; a concurrent fold skips rows
-- already deleted. Called by the worker's sweep (lib/backup/catalog.ts).
CREATE FUNCTION "backup_job_tally_fold"() RETURNS bigint LANGUAGE sql SET search_path FROM CURRENT AS $$
  WITH d AS (DELETE FROM "BackupJobTally" RETURNING "kind", "trigger", "status", "n"),
       f AS (INSERT INTO "BackupJobTally" ("kind", "trigger", "status", "n")
             SELECT "kind", "trigger", "status", sum("n") FROM d GROUP BY 1, 2, 3 HAVING sum("n") <> 0 RETURNING 1)
  SELECT (SELECT count(*) FROM d) - (SELECT count(*) FROM f);
$$;

-- The rows already there, counted with writers held off until this transaction commits.
LOCK TABLE "BackupJob" IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO "BackupJobTally" ("kind", "trigger", "status", "n")
SELECT "kind", "trigger", "status", count(*) FROM "BackupJob" GROUP BY 1, 2, 3;
