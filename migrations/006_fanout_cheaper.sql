-- A job that matches 100,000 users must have all its events committed
-- within a second. Measured on the 2-core test machine, per 100,000-event
-- COPY (see BENCHMARKS.md, Matcher):
--
--   * events.data as json: the server parses every payload again on input,
--     though every writer has already produced or validated it (matcher:
--     encoding/json; publish: json.Valid and a ::json cast). As text the
--     bytes are stored as written, as before, about 12% faster.
--   * events_created_at_idx, a btree touched by every row, serves only the
--     hourly retention purge. A BRIN index answers the same query (the log
--     is append-only, so created_at follows the physical order) and costs
--     next to nothing per row.
--   * job_deliveries, one row per (job, channel), doubled the rows a fan-out
--     writes (a second 100,000-row COPY beside the events'). Who was told
--     about a job is now one row per job, job_audience, written in the
--     events' own transaction. The per-user "recent matches" of the alerts
--     page now read the user's own new-job events (indexed by channel).

ALTER TABLE events ALTER COLUMN data TYPE text USING data::text;
DROP INDEX events_created_at_idx;
CREATE INDEX events_created_at_brin ON events USING brin (created_at);

-- users and alert_ids are parallel: one element per (user, matching alert)
-- pair, ordered by user then alert. feeds: the public feeds told.
CREATE TABLE job_audience (
    job_id    bigint PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    users     bigint[] NOT NULL DEFAULT '{}',
    alert_ids bigint[] NOT NULL DEFAULT '{}',
    feeds     text[] NOT NULL DEFAULT '{}'
);
-- Out of line but not compressed: pglz took 180 ms for the two arrays of a
-- job told to 100,000 users (1.6 MB), against 25 ms stored as they are.
ALTER TABLE job_audience ALTER COLUMN users SET STORAGE EXTERNAL,
    ALTER COLUMN alert_ids SET STORAGE EXTERNAL;

WITH pairs AS (
    SELECT d.job_id, substr(d.channel, 6)::bigint AS u, a
    FROM job_deliveries d, unnest(d.alert_ids) a
    WHERE d.channel LIKE 'user:%'
), per_user AS (
    SELECT job_id, array_agg(u ORDER BY u, a) AS users, array_agg(a ORDER BY u, a) AS alert_ids
    FROM pairs GROUP BY job_id
), per_feed AS (
    SELECT job_id, array_agg(channel ORDER BY channel) AS feeds
    FROM job_deliveries WHERE channel NOT LIKE 'user:%' GROUP BY job_id
)
INSERT INTO job_audience (job_id, users, alert_ids, feeds)
SELECT coalesce(u.job_id, f.job_id), coalesce(u.users, '{}'), coalesce(u.alert_ids, '{}'), coalesce(f.feeds, '{}')
FROM per_user u FULL JOIN per_feed f ON f.job_id = u.job_id;

DROP TABLE job_deliveries;
