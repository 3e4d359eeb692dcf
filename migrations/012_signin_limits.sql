-- Sign-in limits that hold across nodes (issue 14); the policy is in
-- auth/limiter.go. One row per counter: scope says what it counts
-- ('addr': failed sign-ins from a client address, 'addr_email': from an
-- address for one email, 'email': for one email from anywhere, or an
-- account action per address such as 'signup'), key is the address, or a
-- hash of the lower-cased email (no address book of who was tried), or
-- both. A counter lives for one fixed window from its first count; a row
-- whose window has passed counts as absent and is replaced on the next
-- attempt, or deleted by the purge that runs on write.
--
-- UNLOGGED: the counters are written on every sign-in attempt and are worth
-- minutes; without WAL a count commits without waiting for a disk flush
-- (1.7 ms an attempt instead of 9.5 ms on a busy test machine, see
-- BenchmarkLimiter_Attempt). The price: a crash of PostgreSQL, or a
-- failover to a replica, starts every counter afresh.
CREATE UNLOGGED TABLE signin_attempts (
    scope        text NOT NULL,
    key          text NOT NULL,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
) WITH (fillfactor = 70); -- room for HOT updates: most attempts bump failures only

CREATE INDEX signin_attempts_window_idx ON signin_attempts (window_start);
