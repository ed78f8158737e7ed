-- API resources (RFC 8707 resource indicators): the resource servers tokens
-- can be asked for, and the resources a code or refresh-token family was
-- granted.

-- +goose Up
-- indicator is the resource URI, the aud of its tokens.
-- access_token_format '' and access_token_ttl_ns 0 keep the client's.
CREATE TABLE resources (
    id                    text        NOT NULL PRIMARY KEY,
    indicator             text        NOT NULL UNIQUE,
    name                  text        NOT NULL,
    scopes                text[]      NOT NULL,
    access_token_format   text        NOT NULL,
    access_token_ttl_ns   bigint      NOT NULL,
    introspecting_clients text[]      NOT NULL,
    created_at            timestamptz,
    updated_at            timestamptz
);

ALTER TABLE auth_codes     ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE refresh_tokens ADD COLUMN resources text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE refresh_tokens DROP COLUMN resources;
ALTER TABLE auth_codes     DROP COLUMN resources;
DROP TABLE resources;
