-- Accounts people can own (issue 14): email verification, password reset,
-- sessions and API tokens that can be listed and revoked.

-- When the account proved it receives mail at its address (NULL: not yet).
-- Accounts made before this migration start unverified; with
-- BIRJOB_REQUIRE_EMAIL_VERIFICATION they confirm once (the page resends the
-- mail). The bootstrapped admin is marked verified by the operator's say.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- A session or API token has a public id (the list shows it, DELETE takes
-- it); the token's hash stays the key and is never shown. last_used_at is
-- written at most once a minute per token (auth middleware), user_agent at
-- sign-in, so a person can tell their sessions apart.
ALTER TABLE auth_tokens ADD COLUMN id bigserial;
ALTER TABLE auth_tokens ADD CONSTRAINT auth_tokens_id_key UNIQUE (id);
ALTER TABLE auth_tokens ADD COLUMN last_used_at timestamptz;
ALTER TABLE auth_tokens ADD COLUMN user_agent text NOT NULL DEFAULT '';

-- Single-use tokens sent by mail: 'verify' confirms an address, 'reset'
-- sets a new password. Only a SHA-256 of the token is stored (as for
-- auth_tokens). A token is spent by setting used_at in the statement that
-- checks it, so two concurrent uses cannot both succeed. email is the
-- address the mail went to: a verify token confirms that address only.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
-- The mails sent lately to a user (how often one may ask), and the purge.
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose, created_at);
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);
