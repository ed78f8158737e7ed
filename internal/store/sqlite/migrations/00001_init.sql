-- Times are INTEGER unix microseconds UTC; NULL is the zero time.
-- Lists are JSON arrays of strings. Hashes are raw SHA-256 bytes.
-- Tables keyed by a hash are WITHOUT ROWID: the row lives in the key's b-tree,
-- so a lookup is one tree descent.

-- +goose Up
CREATE TABLE clients (
    id                         TEXT    NOT NULL PRIMARY KEY,
    secret_hash                BLOB,
    name                       TEXT    NOT NULL,
    grant_types                TEXT    NOT NULL,
    redirect_uris              TEXT    NOT NULL,
    scopes                     TEXT    NOT NULL,
    token_endpoint_auth_method TEXT    NOT NULL,
    access_token_format        TEXT    NOT NULL,
    access_token_ttl_ns        INTEGER NOT NULL,
    first_party                INTEGER NOT NULL,
    created_at                 INTEGER,
    updated_at                 INTEGER
) STRICT;

CREATE TABLE access_tokens (
    hash       BLOB    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    audience   TEXT    NOT NULL,
    grant_id   TEXT    NOT NULL,
    issued_at  INTEGER,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
-- client_credentials tokens carry no grant and are most of the table.
CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id) WHERE grant_id <> '';

CREATE TABLE revocations (
    id         TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX revocations_expires_at ON revocations (expires_at);

CREATE TABLE signing_keys (
    id            TEXT    NOT NULL PRIMARY KEY,
    algorithm     TEXT    NOT NULL,
    private_key   BLOB    NOT NULL,
    public_jwk    BLOB    NOT NULL,
    created_at    INTEGER,
    publish_until INTEGER
) STRICT;

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL,
    created_at    INTEGER,
    updated_at    INTEGER
) STRICT;

CREATE TABLE auth_codes (
    hash           BLOB    NOT NULL PRIMARY KEY,
    client_id      TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    nonce          TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    auth_time      INTEGER,
    grant_id       TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

-- A used or revoked refresh token is kept until it expires: presenting it again
-- must be told apart from presenting garbage (reuse detection, RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    hash       BLOB    NOT NULL PRIMARY KEY,
    grant_id   TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    auth_time  INTEGER,
    issued_at  INTEGER,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked    INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE consents (
    subject    TEXT    NOT NULL,
    client_id  TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    granted_at INTEGER,
    PRIMARY KEY (subject, client_id, scope)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    hash       BLOB    NOT NULL PRIMARY KEY,
    subject    TEXT    NOT NULL,
    auth_time  INTEGER,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    client_id   TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    detail      TEXT    NOT NULL
) STRICT;
-- Every SQLite index ends with the rowid, so this also serves ORDER BY occurred_at, id.
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE sessions;
DROP TABLE consents;
DROP TABLE refresh_tokens;
DROP TABLE auth_codes;
DROP TABLE users;
DROP TABLE signing_keys;
DROP TABLE revocations;
DROP TABLE access_tokens;
DROP TABLE clients;
