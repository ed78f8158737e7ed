-- Device authorization requests (RFC 8628): a device polls with its
-- device_code while the user approves or denies its user_code on /device.

-- +goose Up
-- device_code_hash is the SHA-256 of the device_code, user_code_hash a keyed
-- hash of the normalised user_code (a leaked table gives neither); status is
-- pending, approved, denied or redeemed; interval_seconds grows by 5 with
-- every poll that comes too soon (§3.5), which slow_down records.
CREATE TABLE device_authorizations (
    device_code_hash BLOB    NOT NULL PRIMARY KEY,
    user_code_hash   BLOB    NOT NULL UNIQUE,
    client_id        TEXT    NOT NULL,
    scope            TEXT    NOT NULL,
    resources        TEXT    NOT NULL DEFAULT '[]',
    status           TEXT    NOT NULL,
    subject          TEXT    NOT NULL DEFAULT '',
    auth_time        INTEGER,
    user_generation  INTEGER NOT NULL DEFAULT 0,
    interval_seconds INTEGER NOT NULL,
    last_poll_at     INTEGER,
    slow_down        INTEGER NOT NULL DEFAULT 0,
    expires_at       INTEGER NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX device_authorizations_expires_at ON device_authorizations (expires_at);

-- +goose Down
DROP TABLE device_authorizations;
