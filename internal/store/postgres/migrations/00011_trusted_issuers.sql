-- Trusted issuers: identity providers whose JWTs are accepted as token
-- exchange subject and actor tokens (RFC 8693) and as JWT bearer grant
-- assertions (RFC 7523).

-- +goose Up
-- jwks_uri '' finds the keys through the issuer's discovery document.
CREATE TABLE trusted_issuers (
    id              text        NOT NULL PRIMARY KEY,
    issuer          text        NOT NULL UNIQUE,
    jwks_uri        text        NOT NULL,
    audience        text        NOT NULL,
    subject_mapping text        NOT NULL,
    created_at      timestamptz
);

-- A trusted issuer with subject_mapping email finds users by email.
CREATE INDEX users_email ON users (email);

-- The act claim (RFC 8693 §4.1) of an opaque token issued by token
-- exchange, as JSON; '' for none.
ALTER TABLE access_tokens ADD COLUMN act text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE access_tokens DROP COLUMN act;
DROP INDEX users_email;
DROP TABLE trusted_issuers;
