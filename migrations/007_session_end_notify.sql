-- A session's end reaches every stream it opened, on every node: each
-- node's notify hub LISTENs on birjob_sessions and closes the streams opened
-- with the credential named in the payload (the hex of its token_hash, as
-- auth.Principal.TokenHash carries it). A row trigger, so that every way a
-- credential ends is covered: logout and token revocation delete the row,
-- deleting a user cascades to its rows, and the expiry purge deletes
-- expired ones. Postgres delivers the notification at commit, never before.
CREATE FUNCTION auth_tokens_notify_end() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('birjob_sessions', encode(OLD.token_hash, 'hex'));
    RETURN NULL;
END
$$;
CREATE TRIGGER auth_tokens_notify_end AFTER DELETE ON auth_tokens
    FOR EACH ROW EXECUTE FUNCTION auth_tokens_notify_end();
