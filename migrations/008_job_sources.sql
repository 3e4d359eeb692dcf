-- One job per posting, however many sources list it (issue 12).
--
-- A job is now the posting; job_sources holds its listings: one row per
-- source that lists (or listed) it, with that source's dedupe key, URL and
-- content hash. Dedupe within a source moves here (the primary key), and the
-- scraper attaches a listing of a new source to an existing job when the
-- canonical URL matches, or the folded title + company + place
-- (jobs.fingerprint) does, within a time window; see scraper/doc.go. A job
-- expires when its last live listing ends.
CREATE TABLE job_sources (
    source_id     bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    -- 'id:' || external id when the board gives one, else 'url:' || canonical URL.
    dedupe_key    text NOT NULL,
    job_id        bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    url           text NOT NULL,
    -- Hash of the posting as this source shows it: tells a changed listing.
    content_hash  bytea NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    -- Healthy runs of the source in a row that did not list it.
    missing_runs  integer NOT NULL DEFAULT 0,
    -- When the source stopped listing it ('missing', 'gone': its page
    -- answered 404/410, 'source': the source was disabled or deleted).
    ended_at      timestamptz,
    ended_reason  text NOT NULL DEFAULT '',
    -- When the scraper last asked the listing's URL whether it still exists
    -- (sources without detail pages; NULL: never, checked first).
    checked_at    timestamptz,
    PRIMARY KEY (source_id, dedupe_key)
);
-- A job has at most one listing per source: two postings of one source are
-- two jobs, whatever they share.
CREATE UNIQUE INDEX job_sources_job_source_key ON job_sources (job_id, source_id);
CREATE INDEX job_sources_live_idx ON job_sources (source_id) WHERE ended_at IS NULL;

-- Every job today has exactly one listing: its own row.
INSERT INTO job_sources (source_id, dedupe_key, job_id, url, content_hash, first_seen_at, last_seen_at,
    missing_runs, ended_at, ended_reason)
SELECT source_id, dedupe_key, id, url, content_hash, first_seen_at, last_seen_at, missing_runs,
    expired_at, CASE WHEN expired_at IS NULL THEN '' ELSE expired_reason END
FROM jobs;

-- jobs.source_id is now the primary (first) listing's source, kept for the
-- job's "source" field. A job outlives the deletion of a source another
-- source still lists, and an expired job outlives it long enough for its
-- job-expired events: the reference is cleared, not cascaded, and the name
-- is kept in source_name.
ALTER TABLE jobs DROP CONSTRAINT jobs_source_id_fkey;
ALTER TABLE jobs ALTER COLUMN source_id DROP NOT NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_source_id_fkey
    FOREIGN KEY (source_id) REFERENCES sources (id) ON DELETE SET NULL;
ALTER TABLE jobs ADD COLUMN source_name text NOT NULL DEFAULT '';
-- Dedupe is the listings' now; jobs.dedupe_key is the primary listing's key.
ALTER TABLE jobs DROP CONSTRAINT jobs_source_id_dedupe_key_key;
-- Folded title, company and place ('' when the company is unknown): the
-- second identity of a posting after its URL. Written by the scraper on each
-- upsert, so the jobs of today get theirs on their source's next run.
ALTER TABLE jobs ADD COLUMN fingerprint text NOT NULL DEFAULT '';
CREATE INDEX jobs_url_idx ON jobs (url);
CREATE INDEX jobs_fingerprint_idx ON jobs (fingerprint) WHERE fingerprint <> '';

-- Backlog is not news: a 'new' change marked backlog is listed (the public
-- jobs channel) but not announced to personal channels or feeds.
ALTER TABLE job_changes ADD COLUMN backlog boolean NOT NULL DEFAULT false;

-- A source's next run is a backlog run: its first, and its first after being
-- re-enabled or pointed at another URL. The scraper clears the flag after a
-- healthy run. Sources that have had a healthy run are past their backlog.
ALTER TABLE sources ADD COLUMN backlog boolean NOT NULL DEFAULT true;
UPDATE sources s SET backlog = false
WHERE s.kind = 'manual' OR EXISTS (SELECT 1 FROM scrape_runs r WHERE r.source_id = s.id AND r.status = 'ok');

CREATE FUNCTION sources_backlog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.backlog := true;
    RETURN NEW;
END
$$;
CREATE TRIGGER sources_backlog BEFORE UPDATE ON sources
    FOR EACH ROW WHEN ((NOT OLD.enabled AND NEW.enabled) OR OLD.url IS DISTINCT FROM NEW.url)
    EXECUTE FUNCTION sources_backlog();
