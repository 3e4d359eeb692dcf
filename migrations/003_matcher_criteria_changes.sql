-- Changes to saved criteria (alerts and public feeds), so that every matcher
-- node keeps its in-memory index current: a node loads all criteria once,
-- remembers the highest change id it has seen, and later applies only the
-- rows after it (then re-reads the alerts/feeds those rows name).
CREATE SEQUENCE criteria_changes_id_seq;
CREATE TABLE criteria_changes (
    id         bigint PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('alert', 'feed')),
    ref_id     bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX criteria_changes_created_at_idx ON criteria_changes (created_at);

-- Like the event log, ids must be handed out in commit order, or a node
-- reading "id > cursor" could skip a change whose transaction took its id
-- early and committed late. Writers of alerts and feeds therefore serialise
-- on one transaction-scoped advisory lock before taking an id; alert edits
-- are rare, so the lock costs nothing noticeable.
CREATE FUNCTION criteria_changes_log() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ref bigint;
BEGIN
    -- 0x6269726b ('birk'): distinct from the event log's lock.
    PERFORM pg_advisory_xact_lock(1651076715);
    IF TG_OP = 'DELETE' THEN
        ref := OLD.id;
    ELSE
        ref := NEW.id;
    END IF;
    INSERT INTO criteria_changes (id, kind, ref_id)
    VALUES (nextval('criteria_changes_id_seq'),
            CASE TG_TABLE_NAME WHEN 'alerts' THEN 'alert' ELSE 'feed' END,
            ref);
    -- Delivered at commit; identical notifications of one transaction are
    -- folded into one by Postgres.
    PERFORM pg_notify('birjob_alerts', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER alerts_criteria_changes AFTER INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION criteria_changes_log();
CREATE TRIGGER feeds_criteria_changes AFTER INSERT OR UPDATE OR DELETE ON feeds
    FOR EACH ROW EXECUTE FUNCTION criteria_changes_log();

-- The highest change id removed by pruning. A node whose cursor is below it
-- has missed changes and reloads every criteria instead.
CREATE TABLE criteria_changes_retention (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    purged_upto bigint NOT NULL DEFAULT 0
);
INSERT INTO criteria_changes_retention DEFAULT VALUES;
