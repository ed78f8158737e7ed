-- Device authorization requests (RFC 8628): a device polls with its
-- device_code while the user approves or denies its user_code on /device.

-- +goose Up
-- device_code_hash is the SHA-256 of the device_code, user_code_hash a keyed
-- hash of the normalised user_code (a leaked table gives neither); status is
-- pending, approved, denied or redeemed; interval_seconds grows by 5 with
-- every poll that comes too soon (§3.5), which slow_down records.
CREATE TABLE device_authorizations (
    device_code_hash bytea       NOT NULL PRIMARY KEY,
    user_code_hash   bytea       NOT NULL UNIQUE,
    client_id        text        NOT NULL,
    scope            text        NOT NULL,
    resources        text[]      NOT NULL DEFAULT '{}',
    status           text        NOT NULL,
    subject          text        NOT NULL DEFAULT '',
    auth_time        timestamptz,
    user_generation  bigint      NOT NULL DEFAULT 0,
    interval_seconds integer     NOT NULL,
    last_poll_at     timestamptz,
    slow_down        boolean     NOT NULL DEFAULT false,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL
);
CREATE INDEX device_authorizations_expires_at ON device_authorizations (expires_at);

-- +goose Down
DROP TABLE device_authorizations;
