-- jobs.missing_runs has been unused since migration 008 moved the count of
-- runs a posting was missing from to each listing (job_sources.missing_runs):
-- a job ends when its last listing does. Nothing reads or writes the jobs
-- column, so it goes; a node of any version since 008 runs unchanged
-- during the upgrade.
ALTER TABLE jobs DROP COLUMN missing_runs;
