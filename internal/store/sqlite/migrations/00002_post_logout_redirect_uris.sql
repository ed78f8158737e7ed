-- OpenID Connect RP-Initiated Logout 1.0 §3.1: where a client may ask the
-- browser to be sent after sign-out. A JSON array, like redirect_uris; clients
-- registered before this migration have none.

-- +goose Up
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE clients DROP COLUMN post_logout_redirect_uris;
