-- A job's third kind of change (issue 12): 'listed', written when a source
-- starts listing a live job another source listed first. The matcher tells
-- the users and feeds that match the job now (with its new source) and were
-- not told about it yet, on their own channels only, and adds them to the
-- job's audience, so that its expiry reaches them too. The claim rule of
-- migration 004 (a change waits while an earlier change of its job is
-- pending) covers every kind: a 'listed' waits for the job's 'new', and an
-- 'expired' for its 'listed'.
ALTER TABLE job_changes DROP CONSTRAINT job_changes_kind_check;
ALTER TABLE job_changes ADD CONSTRAINT job_changes_kind_check CHECK (kind IN ('new', 'expired', 'listed'));
