-- Pushed authorization requests (RFC 9126): the validated parameters of a
-- request a client pushed, used once at the authorization endpoint.

-- +goose Up
-- hash is the SHA-256 of the request_uri; params the validated request,
-- application/x-www-form-urlencoded.
CREATE TABLE pushed_requests (
    hash       BLOB    NOT NULL PRIMARY KEY,
    client_id  TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX pushed_requests_expires_at ON pushed_requests (expires_at);

-- +goose Down
DROP TABLE pushed_requests;
