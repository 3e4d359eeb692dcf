-- birjob's first schema. Each stage of the pipeline owns its table:
-- scraper → jobs (+ job_changes outbox), matcher → events, notify reads events.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails are compared case-insensitively.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Session cookies and API tokens. Only a SHA-256 of the token is stored, so a
-- leaked table does not leak working credentials.
CREATE TABLE auth_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('session', 'api')),
    name       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX auth_tokens_user_idx ON auth_tokens (user_id);

CREATE TABLE sources (
    id             bigserial PRIMARY KEY,
    name           text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('html', 'jsonld', 'rss', 'json', 'manual')),
    url            text NOT NULL DEFAULT '',
    schedule       text NOT NULL DEFAULT '',
    enabled        boolean NOT NULL DEFAULT true,
    selectors      jsonb NOT NULL DEFAULT '{}',
    respect_robots boolean NOT NULL DEFAULT true,
    settings       jsonb NOT NULL DEFAULT '{}',
    -- Validators of the last successful fetch of the source's first page,
    -- sent back as If-None-Match / If-Modified-Since.
    etag           text NOT NULL DEFAULT '',
    last_modified  text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sources_name_key ON sources (name);

CREATE TABLE jobs (
    id              bigserial PRIMARY KEY,
    source_id       bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    -- 'id:' || external id when the board gives one, else 'url:' || canonical URL.
    dedupe_key      text NOT NULL,
    external_id     text NOT NULL DEFAULT '',
    url             text NOT NULL,
    title           text NOT NULL,
    company         text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    remote          boolean NOT NULL DEFAULT false,
    salary_min      double precision,
    salary_max      double precision,
    salary_currency text NOT NULL DEFAULT '',
    salary_period   text NOT NULL DEFAULT '',
    employment_type text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    posted_at       timestamptz,
    valid_through   timestamptz,
    -- Hash of the fields above, so an unchanged re-scrape writes nothing.
    content_hash    bytea NOT NULL,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Healthy runs in a row that did not see this job.
    missing_runs    integer NOT NULL DEFAULT 0,
    expired_at      timestamptz,
    expired_reason  text NOT NULL DEFAULT '',
    UNIQUE (source_id, dedupe_key)
);
CREATE INDEX jobs_source_active_idx ON jobs (source_id) WHERE expired_at IS NULL;

-- Outbox from the scraper to the matcher, written in the same transaction as
-- the job itself. The matcher claims rows with FOR UPDATE SKIP LOCKED and
-- deletes them in the transaction that writes the events, so each change is
-- matched exactly once across all nodes, and a crash in between loses nothing.
CREATE TABLE job_changes (
    id         bigserial PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('new', 'expired')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts (
    id         bigserial PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '',
    criteria   jsonb NOT NULL DEFAULT '{}',
    paused     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_user_idx ON alerts (user_id);

-- Public feeds: channels defined by an admin with criteria.
CREATE TABLE feeds (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    title      text NOT NULL DEFAULT '',
    criteria   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Who was told about a job (a user's channel with the matching alerts, or a
-- feed), so that its expiry reaches exactly them.
CREATE TABLE job_deliveries (
    job_id    bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    channel   text NOT NULL,
    alert_ids bigint[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, channel)
);

-- The event log. Ids are assigned by the trigger below while holding a
-- transaction-scoped advisory lock, so ids are handed out in commit order:
-- a transaction can only take ids after every earlier event writer has
-- committed (and become visible) or rolled back. A reader therefore always
-- sees a prefix of the log, and a client resuming after id N never skips an
-- event written concurrently. Ids of rolled-back writers leave gaps, which
-- is harmless: readers ask for "id > N".
CREATE SEQUENCE events_id_seq;
CREATE TABLE events (
    id         bigint PRIMARY KEY,
    channel    text NOT NULL,
    type       text NOT NULL,
    -- json (not jsonb) keeps the payload's bytes as written.
    data       json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_channel_id_idx ON events (channel, id);
CREATE INDEX events_created_at_idx ON events (created_at);

CREATE FUNCTION events_assign_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- 0x6269726a ('birj'): the one lock all event writers serialise on.
    PERFORM pg_advisory_xact_lock(1651076714);
    NEW.id := nextval('events_id_seq');
    RETURN NEW;
END
$$;
CREATE TRIGGER events_assign_id BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_assign_id();

-- One wake-up per writing statement; delivered at commit, never before.
CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('birjob_events', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- The highest event id removed by retention; a resume from below it gets a
-- reset event.
CREATE TABLE event_retention (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    purged_upto  bigint NOT NULL DEFAULT 0
);
INSERT INTO event_retention DEFAULT VALUES;

CREATE TABLE scrape_runs (
    id          bigserial PRIMARY KEY,
    source_id   bigint NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    -- The scheduled tick this run serves; unique per source, so that of all
    -- nodes whose cron fired for the same tick only one runs it. NULL for
    -- runs started by hand.
    tick        timestamptz,
    node        text NOT NULL DEFAULT '',
    trigger     text NOT NULL DEFAULT 'schedule',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'ok', 'failed', 'suspect', 'not-modified')),
    pages       integer NOT NULL DEFAULT 0,
    found       integer NOT NULL DEFAULT 0,
    new         integer NOT NULL DEFAULT 0,
    updated     integer NOT NULL DEFAULT 0,
    expired     integer NOT NULL DEFAULT 0,
    error_count integer NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX scrape_runs_tick_key ON scrape_runs (source_id, tick);
CREATE INDEX scrape_runs_source_idx ON scrape_runs (source_id, id DESC);
