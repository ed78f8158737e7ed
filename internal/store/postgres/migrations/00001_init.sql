-- Objects are created unqualified, in the first schema of search_path, so one
-- database can hold several authd schemas (and tests get one each).
-- Zero times are NULL. Hashes are raw SHA-256 bytes. Identifiers that are
-- listed in order use COLLATE "C": byte order, the same on every server and the
-- same as the SQLite backend, whatever the database's locale.

-- +goose Up
CREATE TABLE clients (
    id                         text COLLATE "C" PRIMARY KEY,
    secret_hash                bytea,
    name                       text        NOT NULL,
    grant_types                text[]      NOT NULL,
    redirect_uris              text[]      NOT NULL,
    scopes                     text[]      NOT NULL,
    token_endpoint_auth_method text        NOT NULL,
    access_token_format        text        NOT NULL,
    access_token_ttl_ns        bigint      NOT NULL,
    first_party                boolean     NOT NULL,
    created_at                 timestamptz,
    updated_at                 timestamptz
);

CREATE TABLE access_tokens (
    hash       bytea       PRIMARY KEY,
    client_id  text        NOT NULL,
    subject    text        NOT NULL,
    scope      text        NOT NULL,
    audience   text[]      NOT NULL,
    grant_id   text        NOT NULL,
    issued_at  timestamptz,
    expires_at timestamptz NOT NULL
);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
-- client_credentials tokens carry no grant and are most of the table.
CREATE INDEX access_tokens_grant_id ON access_tokens (grant_id) WHERE grant_id <> '';

CREATE TABLE revocations (
    id         text        PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX revocations_expires_at ON revocations (expires_at);

CREATE TABLE signing_keys (
    id            text COLLATE "C" PRIMARY KEY,
    algorithm     text        NOT NULL,
    private_key   bytea       NOT NULL,
    public_jwk    bytea       NOT NULL,
    created_at    timestamptz,
    publish_until timestamptz
);

CREATE TABLE users (
    id            text        PRIMARY KEY,
    username      text COLLATE "C" NOT NULL UNIQUE,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    disabled      boolean     NOT NULL,
    created_at    timestamptz,
    updated_at    timestamptz
);

CREATE TABLE auth_codes (
    hash           bytea       PRIMARY KEY,
    client_id      text        NOT NULL,
    redirect_uri   text        NOT NULL,
    subject        text        NOT NULL,
    scope          text        NOT NULL,
    nonce          text        NOT NULL,
    code_challenge text        NOT NULL,
    auth_time      timestamptz,
    grant_id       text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
) WITH (fillfactor = 90); -- room on the page lets "mark used" be a HOT update
CREATE INDEX auth_codes_expires_at ON auth_codes (expires_at);

-- A used or revoked refresh token is kept until it expires: presenting it again
-- must be told apart from presenting garbage (reuse detection, RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    hash       bytea       PRIMARY KEY,
    grant_id   text        NOT NULL,
    client_id  text        NOT NULL,
    subject    text        NOT NULL,
    scope      text        NOT NULL,
    auth_time  timestamptz,
    issued_at  timestamptz,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked    boolean     NOT NULL DEFAULT false
) WITH (fillfactor = 90); -- room on the page lets "mark used" be a HOT update
CREATE INDEX refresh_tokens_grant_id ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE consents (
    subject    text        NOT NULL,
    client_id  text        NOT NULL,
    scope      text        NOT NULL,
    granted_at timestamptz,
    PRIMARY KEY (subject, client_id, scope)
);

CREATE TABLE sessions (
    hash       bytea       PRIMARY KEY,
    subject    text        NOT NULL,
    auth_time  timestamptz,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE audit_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    type        text        NOT NULL,
    client_id   text        NOT NULL,
    subject     text        NOT NULL,
    ip          text        NOT NULL,
    detail      text        NOT NULL
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at DESC, id DESC);

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
