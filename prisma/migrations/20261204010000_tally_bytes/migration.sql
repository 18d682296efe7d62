-- The stored bytes per tally key (decision 116): `GET /api/health` (every 5 s per web
-- process), `/api/storage` and the metrics summed "sizeBytes" over every successful backup
-- row: a scan of the whole catalogue (with 1,000,000 rows the health p95 was 278 ms; 17 ms
-- reading the tally). The tally that keeps the list's exact counts now keeps the sum of "sizeBytes"
-- (NULL counts 0) beside each count, from the same statement triggers.

-- AlterTable
ALTER TABLE "BackupJobTally" ADD COLUMN     "bytes" BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION "backup_job_tally"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM "BackupJobTally";
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n", "bytes")
    SELECT "targetId", "kind", "trigger", "status", count(*), coalesce(sum("sizeBytes"), 0) FROM new_rows GROUP BY 1, 2, 3, 4;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n", "bytes")
    SELECT "targetId", "kind", "trigger", "status", -count(*), -coalesce(sum("sizeBytes"), 0) FROM old_rows GROUP BY 1, 2, 3, 4;
  ELSE
    -- An update that changes no key and no size (a heartbeat, progress) adds no row.
    INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n", "bytes")
    SELECT "targetId", "kind", "trigger", "status", sum(d), sum(b) FROM (
      SELECT "targetId", "kind", "trigger", "status", 1 AS d, coalesce("sizeBytes", 0) AS b FROM new_rows
      UNION ALL
      SELECT "targetId", "kind", "trigger", "status", -1 AS d, -coalesce("sizeBytes", 0) AS b FROM old_rows
    ) x GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0 OR sum(b) <> 0;
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "backup_job_tally_fold"() RETURNS bigint LANGUAGE sql SET search_path FROM CURRENT AS $$
  WITH d AS (DELETE FROM "BackupJobTally" RETURNING "targetId", "kind", "trigger", "status", "n", "bytes"),
       f AS (INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n", "bytes")
             SELECT "targetId", "kind", "trigger", "status", sum("n"), sum("bytes") FROM d GROUP BY 1, 2, 3, 4
             HAVING sum("n") <> 0 OR sum("bytes") <> 0 RETURNING 1)
  SELECT (SELECT count(*) FROM d) - (SELECT count(*) FROM f);
$$;

-- Recount with writers held off.
LOCK TABLE "BackupJob" IN SHARE ROW EXCLUSIVE MODE;
DELETE FROM "BackupJobTally";
INSERT INTO "BackupJobTally" ("targetId", "kind", "trigger", "status", "n", "bytes")
SELECT "targetId", "kind", "trigger", "status", count(*), coalesce(sum("sizeBytes"), 0) FROM "BackupJob" GROUP BY 1, 2, 3, 4;
