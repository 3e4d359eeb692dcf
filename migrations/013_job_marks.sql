-- A user's marks on jobs (issue 15): saved (a list to come back to) and
-- hidden (left out of that user's job list). One row per user and job that
-- has a mark; a row whose marks are both cleared is deleted.
CREATE TABLE job_marks (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    job_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    saved_at   timestamptz,
    hidden_at  timestamptz,
    PRIMARY KEY (user_id, job_id)
);
-- The job list filters by job id within one user's marks (the primary
-- key); deleting a job finds its marks through this one.
CREATE INDEX job_marks_job ON job_marks (job_id);
