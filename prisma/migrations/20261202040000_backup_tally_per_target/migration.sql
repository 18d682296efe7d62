-- Exact backup counts per target (DESIGN §8): the tally (20261201040000_catalogue_tally)
-- gains the target, so the list's total stays a few dozen rows read for every target,
-- not a count(*) over one target's share of the catalogue. Rows already in the tally are
-- the default target's (every backup was, before targets), which the column default says.

-- AlterTable
ALTER TABLE "BackupJobTally" ADD COLUMN     "targetId" TEXT NOT NULL DEFAULT 'default';

CREATE OR REPLACE FUNCTION "backup_job_tally"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM "BackupJobTally";
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n")
    SELECT "targetId", "kind", "trigger", "status", count(*) FROM new_rows GROUP BY 1, 2, 3, 4;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n")
    SELECT "targetId", "kind", "trigger", "status", -count(*) FROM old_rows GROUP BY 1, 2, 3, 4;
  ELSE
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n")
    SELECT "targetId", "kind", "trigger", "status", sum(d) FROM (
      SELECT "targetId", "kind", "trigger", "status", 1 AS d FROM new_rows
      UNION ALL
      SELECT "targetId", "kind", "trigger", "status", -1 AS d FROM old_rows
    ) x GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "backup_job_tally_fold"() RETURNS bigint LANGUAGE sql SET search_path FROM CURRENT AS $$
  WITH d AS (DELETE FROM "BackupJobTally" RETURNING "targetId", "kind", "trigger", "status", "n"),
       f AS (INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n")
             SELECT "targetId", "kind", "trigger", "status", sum("n") FROM d GROUP BY 1, 2, 3, 4 HAVING sum("n") <> 0 RETURNING 1)
  SELECT (SELECT count(*) FROM d) - (SELECT count(*) FROM f);
$$;

-- Recount with writers held off, in case a row was given another target before this ran.
LOCK TABLE "BackupJob" IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM "BackupJobTally";
INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n")
SELECT "targetId", "kind", "trigger", "status", count(*) FROM "BackupJob" GROUP BY 1, 2, 3, 4;
