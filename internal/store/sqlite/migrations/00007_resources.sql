-- API resources (RFC 8707 resource indicators): the resource servers tokens
-- can be asked for, and the resources a code or refresh-token family was
-- granted.

-- +goose Up
-- indicator is the resource URI, the aud of its tokens; lists are JSON text.
-- access_token_format '' and access_token_ttl_ns 0 keep the client's.
CREATE TABLE resources (
    id                    TEXT    NOT NULL PRIMARY KEY,
    indicator             TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    scopes                TEXT    NOT NULL,
    access_token_format   TEXT    NOT NULL,
    access_token_ttl_ns   INTEGER NOT NULL,
    introspecting_clients TEXT    NOT NULL,
    created_at            INTEGER,
    updated_at            INTEGER
) STRICT, WITHOUT ROWID;

ALTER TABLE auth_codes     ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE refresh_tokens ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN resources;
ALTER TABLE auth_codes     DROP COLUMN resources;
DROP TABLE resources;
