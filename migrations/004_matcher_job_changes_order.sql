-- The matcher claims a job's change only when no earlier change of the
-- same job is still pending (see matcher.Worker): a job's 'expired' must
-- not be processed on one node while its 'new' is still being matched on
-- another, or the expiry would miss the users told about it. This index
-- serves that check.
CREATE INDEX job_changes_job_idx ON job_changes (job_id, id);
