-- The courier (issue 13): alerts that reach people when the page is closed,
-- by Web Push and by email. See courier/doc.go for the design.

-- Per alert: mail each match at once ('instant'), once a day ('daily'), or
-- not at all ('off', the default: nobody is mailed who did not ask).
ALTER TABLE alerts ADD COLUMN email text NOT NULL DEFAULT 'off'
    CHECK (email IN ('off', 'instant', 'daily'));
-- The user's IANA time zone; the daily digest goes out at a fixed hour of it.
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

-- The courier's secrets, generated once by whichever node needs them first
-- (INSERT ... ON CONFLICT DO NOTHING), so every node signs alike: the VAPID
-- key pair (base64url, as webpush-go takes them) and the HMAC key of the
-- unsubscribe links. Configuration may override the VAPID pair.
CREATE TABLE courier_keys (
    singleton        boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    vapid_public     text NOT NULL,
    vapid_private    text NOT NULL,
    unsubscribe_key  bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- A browser that receives a user's pushes (a PushSubscription).
CREATE TABLE push_subscriptions (
    id              bigserial PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint        text NOT NULL,
    p256dh          text NOT NULL,
    auth            text NOT NULL,
    user_agent      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz,
    failures        integer NOT NULL DEFAULT 0
);
-- An endpoint is one browser's; subscribing it again (another account on
-- the same browser) moves it.
CREATE UNIQUE INDEX push_subscriptions_endpoint_key ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);

-- The courier's cursors in the event log, one per channel of delivery. A
-- fresh install (or an upgrade) starts at the log's end: nobody is pushed
-- or mailed the history.
CREATE TABLE courier_cursors (
    kind       text PRIMARY KEY CHECK (kind IN ('push', 'mail')),
    event_id   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO courier_cursors (kind, event_id)
SELECT k, coalesce((SELECT max(id) FROM events), 0) FROM unnest(ARRAY['push', 'mail']) k;

-- What is still to be sent: one row per (kind, event, alert, target),
-- written in the transaction that advances the cursor past the event, and
-- deleted in the transaction that records the send. The unique key is the
-- dedupe key. target: the push subscription's id, 0 for mail.
CREATE TABLE courier_queue (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('push', 'mail', 'digest')),
    event_id    bigint NOT NULL,
    alert_id    bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target      bigint NOT NULL DEFAULT 0,
    -- The new-job event's data (the job and its alerts), as stored.
    data        text NOT NULL,
    event_at    timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, event_id, alert_id, target)
);
CREATE INDEX courier_queue_due_idx ON courier_queue (kind, due_at);

-- Mail that would have gone out when no SMTP server is configured, for the
-- admin to read (GET /api/admin/mail).
CREATE TABLE mail_outbox (
    id         bigserial PRIMARY KEY,
    recipient  text NOT NULL,
    subject    text NOT NULL,
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
