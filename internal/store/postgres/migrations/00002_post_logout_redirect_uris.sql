-- OpenID Connect RP-Initiated Logout 1.0 §3.1: where a client may ask the
-- browser to be sent after sign-out. Clients registered before this migration
-- have none. A constant default: PostgreSQL 11+ adds the column without
-- rewriting the table.

-- +goose Up
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;
