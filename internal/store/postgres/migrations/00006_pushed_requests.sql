-- Pushed authorization requests (RFC 9126): the validated parameters of a
-- request a client pushed, used once at the authorization endpoint.

-- +goose Up
-- hash is the SHA-256 of the request_uri; params the validated request,
-- application/x-www-form-urlencoded.
CREATE TABLE pushed_requests (
    hash       bytea       NOT NULL PRIMARY KEY,
    client_id  text        NOT NULL,
    params     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);

-- +goose Down
DROP TABLE pushed_requests;
