-- OpenID Connect Core §5.1 phone and address claims (the phone and address
-- scopes, §5.4), which an administrator sets like the other profile claims.

-- +goose Up
ALTER TABLE users ADD COLUMN phone_number text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN phone_number_verified boolean NOT NULL DEFAULT false;
-- The §5.1.1 address object as JSON; '' for none.
ALTER TABLE users ADD COLUMN address text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN address;
ALTER TABLE users DROP COLUMN phone_number_verified;
ALTER TABLE users DROP COLUMN phone_number;
