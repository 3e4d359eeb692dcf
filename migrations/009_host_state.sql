-- Scraper back-off and source health, shared by every node (scraper stage).

-- host_state: one row per host the scrapers fetch from (URL host[:port], lower
-- case). Every node reads it before each request and writes it after a
-- failure, so a Retry-After or an exponential back-off learnt by one node
-- holds on all of them, and the per-host spacing of requests is cluster-wide.
CREATE TABLE host_state (
    host         text PRIMARY KEY,
    -- The earliest start of the next request to the host: each request
    -- reserves its turn by moving it on by the spacing.
    next_at      timestamptz NOT NULL DEFAULT '-infinity',
    -- Back-off: no request to the host before this time.
    paused_until timestamptz,
    -- Failed responses (429, 5xx, connection errors) in a row.
    failures     integer NOT NULL DEFAULT 0,
    -- Why the host is backing off, for the run's errors and the source's
    -- health ("HTTP 429, Retry-After: 3600").
    reason       text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- source_health: the health of a source across its runs, and the lease that
-- lets one run of it at a time in the whole cluster.
CREATE TABLE source_health (
    source_id       bigint PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    -- Failed runs in a row (runs that did not reach the board because its
    -- host was backing off neither count nor break the row).
    failure_streak  integer NOT NULL DEFAULT 0,
    -- Runs in a row that fetched the board and found nothing.
    empty_streak    integer NOT NULL DEFAULT 0,
    last_run_at     timestamptz,
    last_status     text NOT NULL DEFAULT '',
    last_success_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    -- Set when the scraper disabled the source after too many failures in a
    -- row; cleared when it is enabled again (trigger below).
    paused_at       timestamptz,
    paused_reason   text NOT NULL DEFAULT '',
    -- The run in progress: who holds the source, and until when unless the
    -- holder renews the lease (a crashed node's lease simply runs out).
    run_holder      text NOT NULL DEFAULT '',
    run_lease_until timestamptz
);

-- Enabling a source resumes it: whatever way it is enabled (the API, SQL by
-- hand), an automatic pause and its failure streak are forgotten, so the
-- source gets a fresh count of failures before it is paused again.
CREATE FUNCTION source_health_resume() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE source_health SET paused_at = NULL, paused_reason = '', failure_streak = 0
    WHERE source_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER sources_resume AFTER UPDATE OF enabled ON sources
    FOR EACH ROW WHEN (NOT OLD.enabled AND NEW.enabled)
    EXECUTE FUNCTION source_health_resume();

-- Two more run statuses: 'empty' (the board answered but nothing was found,
-- e.g. the item selector matched nothing) and 'backoff' (no request was
-- made: the board's host asked us to wait, or keeps failing).
ALTER TABLE scrape_runs DROP CONSTRAINT scrape_runs_status_check;
ALTER TABLE scrape_runs ADD CONSTRAINT scrape_runs_status_check
    CHECK (status IN ('running', 'ok', 'failed', 'suspect', 'not-modified', 'empty', 'backoff'));
