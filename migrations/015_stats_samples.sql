-- Cluster statistics for the admin page (issue 15). Every node writes a
-- small sample of its own counters here every ~10 s, so any node can answer
-- GET /api/admin/stats for the whole cluster, and a chart over time needs no
-- Prometheus. Gauges (open connections) are the value at the sample;
-- counters (matching work) are what happened since the node's previous
-- sample, so a cluster's total over a time bucket is a plain SUM and a
-- restarted node needs no special case. Samples older than a day are
-- deleted by the nodes as they write.
CREATE TABLE stats_samples (
    node            text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    conn_sse        integer NOT NULL DEFAULT 0,
    conn_ws         integer NOT NULL DEFAULT 0,
    conn_poll       integer NOT NULL DEFAULT 0,
    subscriptions   integer NOT NULL DEFAULT 0,
    -- new jobs matched against the alerts since the previous sample, and
    -- the time the matching took (seconds)
    matched         integer NOT NULL DEFAULT 0,
    match_seconds   double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (node, at)
);
CREATE INDEX stats_samples_at_idx ON stats_samples (at);

-- Runs by status over time (the admin page's chart) reads runs by start.
CREATE INDEX scrape_runs_started_at_idx ON scrape_runs (started_at);
