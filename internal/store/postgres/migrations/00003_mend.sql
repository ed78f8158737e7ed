-- What a password reset ends, CORS origins, profile claims, consent-page
-- scope descriptions and the cache-invalidation outbox. Constant defaults:
-- PostgreSQL 11+ adds these columns without rewriting the tables.

-- +goose Up
-- A user's generation moves with every password change and disabling; tokens
-- and codes record the one they were issued under.
ALTER TABLE users ADD COLUMN generation     bigint  NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN name           text    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN given_name     text    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN family_name    text    NOT NULL DEFAULT '';
ALTER TABLE access_tokens  ADD COLUMN user_generation bigint NOT NULL DEFAULT 0;
ALTER TABLE auth_codes     ADD COLUMN user_generation bigint NOT NULL DEFAULT 0;
ALTER TABLE refresh_tokens ADD COLUMN user_generation bigint NOT NULL DEFAULT 0;
-- A password change revokes a user's refresh tokens and ends their sessions.
CREATE INDEX refresh_tokens_subject ON refresh_tokens (subject);
CREATE INDEX sessions_subject ON sessions (subject);

-- allowed_cors_origins is what the administrator registered; the table holds
-- every client's effective origins (oauth.Client.CORSOrigins), for the
-- preflight question "does any client allow this origin?".
ALTER TABLE clients ADD COLUMN allowed_cors_origins text[] NOT NULL DEFAULT '{}';
CREATE TABLE client_cors_origins (
    origin    text NOT NULL,
    client_id text COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    PRIMARY KEY (origin, client_id)
);
CREATE INDEX client_cors_origins_client_id ON client_cors_origins (client_id);

CREATE TABLE scope_descriptions (
    scope       text COLLATE "C" PRIMARY KEY,
    description text NOT NULL,
    updated_at  timestamptz
);

-- A key signs one kind of token; keys from before have none and serve every
-- purpose of their algorithm until they are rotated out.
ALTER TABLE signing_keys ADD COLUMN purpose text NOT NULL DEFAULT '';

-- Keys authd uses, wrapped by the master key: rotating the master key wraps
-- them again and changes nothing they protect.
CREATE TABLE data_keys (
    label      text COLLATE "C" PRIMARY KEY,
    master_id  text        NOT NULL,
    wrapped    bytea       NOT NULL,
    created_at timestamptz,
    updated_at timestamptz
);

CREATE TABLE cache_invalidations (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    keys       text[]      NOT NULL,
    created_at timestamptz,
    expires_at timestamptz NOT NULL
);
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
