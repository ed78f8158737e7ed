-- OpenID Connect Back-Channel and Front-Channel Logout 1.0: the session id
-- (sid) a code carries into its id_token, which clients took part in which
-- browser session, and the durable outbox of logout tokens to deliver.

-- +goose Up
-- The sid of the session the code was issued in ('' before this migration),
-- for the id_token's sid claim (Back-Channel Logout §2.1).
ALTER TABLE auth_codes ADD COLUMN sid TEXT NOT NULL DEFAULT '';

-- A client was issued a code in a session: it is told when the session ends.
-- Rows live as long as the session could.
CREATE TABLE session_clients (
    sid        TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (sid, client_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX session_clients_subject ON session_clients (subject);
CREATE INDEX session_clients_expires_at ON session_clients (expires_at);

-- Logout notifications waiting for delivery. A worker claims due rows with a
-- lease (lease_until), so replicas do not deliver one row at the same time;
-- a delivered row is deleted, a failed one gets a later next_attempt_at, and
-- one past expires_at (the maximum age) is given up and purged.
CREATE TABLE logout_outbox (
    id              TEXT    NOT NULL PRIMARY KEY,
    client_id       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    sid             TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX logout_outbox_next_attempt_at ON logout_outbox (next_attempt_at);
CREATE INDEX logout_outbox_expires_at ON logout_outbox (expires_at);

-- +goose Down
DROP TABLE logout_outbox;
DROP TABLE session_clients;
ALTER TABLE auth_codes DROP COLUMN sid;
