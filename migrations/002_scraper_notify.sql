-- Wake-ups owned by the scraper stage.

-- birjob_jobs: the matcher LISTENs on it. One notification per statement that
-- actually wrote outbox rows (the transition table lets an empty INSERT ...
-- SELECT stay silent); Postgres delivers it at commit, never before, so the
-- matcher always finds the rows it was woken for.
CREATE FUNCTION job_changes_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows) THEN
        PERFORM pg_notify('birjob_jobs', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER job_changes_notify AFTER INSERT ON job_changes
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION job_changes_notify();

-- birjob_sources: every node's scheduler LISTENs on it and reloads its cron
-- entries. Inserts and deletes always notify; updates only when updated_at
-- moves, which the sources API does on every edit, while the scraper's own
-- bookkeeping (ETag / Last-Modified after a run) leaves it alone and so does
-- not make every node reload after every run.
CREATE FUNCTION sources_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('birjob_sources', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER sources_notify_insert_delete AFTER INSERT OR DELETE ON sources
    FOR EACH STATEMENT EXECUTE FUNCTION sources_notify();
CREATE TRIGGER sources_notify_update AFTER UPDATE ON sources
    FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION sources_notify();

-- The validThrough sweep looks only at live jobs that have a deadline.
CREATE INDEX jobs_valid_through_idx ON jobs (valid_through)
    WHERE expired_at IS NULL AND valid_through IS NOT NULL;
