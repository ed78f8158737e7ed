-- What a password reset ends, CORS origins, profile claims, consent-page
-- scope descriptions and the cache-invalidation outbox.

-- +goose Up
-- A user's generation moves with every password change and disabling; tokens
-- and codes record the one they were issued under.
ALTER TABLE users ADD COLUMN generation     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN name           TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN given_name     TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN family_name    TEXT    NOT NULL DEFAULT '';
ALTER TABLE access_tokens  ADD COLUMN user_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_codes     ADD COLUMN user_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN user_generation INTEGER NOT NULL DEFAULT 0;
-- A password change revokes a user's refresh tokens and ends their sessions.
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject);
CREATE INDEX sessions_subject ON sessions (subject);

-- allowed_cors_origins is what the administrator registered; the table holds
-- every client's effective origins (oauth.Client.CORSOrigins), for the
-- preflight question "does any client allow this origin?".
ALTER TABLE clients ADD COLUMN allowed_cors_origins TEXT NOT NULL DEFAULT '[]';
CREATE TABLE client_cors_origins (
    origin    TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (origin, client_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX client_cors_origins_client_id ON client_cors_origins (client_id);

CREATE TABLE scope_descriptions (
    scope       TEXT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL,
    updated_at  INTEGER
) STRICT;

-- A key signs one kind of token; keys from before have none and serve every
-- purpose of their algorithm until they are rotated out.
ALTER TABLE signing_keys ADD COLUMN purpose TEXT NOT NULL DEFAULT '';

-- Keys authd uses, wrapped by the master key: rotating the master key wraps
-- them again and changes nothing they protect.
CREATE TABLE data_keys (
    label      TEXT    NOT NULL PRIMARY KEY,
    master_id  TEXT    NOT NULL,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER,
    updated_at INTEGER
) STRICT;

CREATE TABLE cache_invalidations (
    id         INTEGER PRIMARY KEY,
    keys       TEXT    NOT NULL,
    created_at INTEGER,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX cache_invalidations_expires_at ON cache_invalidations (expires_at);

-- +goose Down
DROP TABLE cache_invalidations;
DROP TABLE data_keys;
ALTER TABLE signing_keys DROP COLUMN purpose;
DROP TABLE scope_descriptions;
DROP TABLE client_cors_origins;
ALTER TABLE clients DROP COLUMN allowed_cors_origins;
DROP INDEX sessions_subject;
DROP INDEX refresh_tokens_subject;
ALTER TABLE refresh_tokens DROP COLUMN user_generation;
ALTER TABLE auth_codes DROP COLUMN user_generation;
ALTER TABLE access_tokens DROP COLUMN user_generation;
ALTER TABLE users DROP COLUMN family_name;
ALTER TABLE users DROP COLUMN given_name;
ALTER TABLE users DROP COLUMN name;
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE users DROP COLUMN generation;
