-- Dynamic client registration (RFC 7591, RFC 7592), the metadata of clients
-- that prove themselves with keys or certificates instead of shared secrets,
-- and tokens bound to a key or certificate.

-- +goose Up
-- metadata holds the RFC 7591 §2 fields authd reads but never queries by
-- (jwks, jwks_uri, federated credentials, tls_client_auth_*, DPoP and
-- certificate binding, descriptive URIs), as JSON (oauth.ClientMetadata).
-- text, not jsonb: it is read whole and never queried into.
ALTER TABLE clients ADD COLUMN metadata text NOT NULL DEFAULT '{}';
-- SHA-256 of the RFC 7592 registration access token; NULL for clients an
-- administrator registered.
ALTER TABLE clients ADD COLUMN registration_token_hash bytea;
-- client_secret_jwt needs the secret itself (an HMAC key), so for those
-- clients it is kept sealed under a data key; NULL for every other client.
ALTER TABLE clients ADD COLUMN secret_sealed bytea;

-- Initial access tokens (RFC 7591 §3), minted on the admin API: only their
-- SHA-256, with an expiry and a use budget.
CREATE TABLE registration_tokens (
    hash       bytea       NOT NULL PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    max_uses   bigint      NOT NULL,
    uses       bigint      NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL
);
CREATE INDEX registration_tokens_expires_at ON registration_tokens (expires_at);

-- Sender-constrained tokens: the DPoP key (RFC 9449 §6.1) or client
-- certificate (RFC 8705 §3.1) thumbprint a token is bound to, '' for bearer
-- tokens; a code bound with dpop_jkt (RFC 9449 §10).
ALTER TABLE access_tokens  ADD COLUMN cnf_jkt  text NOT NULL DEFAULT '';
ALTER TABLE access_tokens  ADD COLUMN cnf_x5t  text NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN cnf_jkt  text NOT NULL DEFAULT '';
ALTER TABLE refresh_tokens ADD COLUMN cnf_x5t  text NOT NULL DEFAULT '';
ALTER TABLE auth_codes     ADD COLUMN dpop_jkt text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE auth_codes     DROP COLUMN dpop_jkt;
ALTER TABLE refresh_tokens DROP COLUMN cnf_x5t;
ALTER TABLE refresh_tokens DROP COLUMN cnf_jkt;
ALTER TABLE access_tokens  DROP COLUMN cnf_x5t;
ALTER TABLE access_tokens  DROP COLUMN cnf_jkt;
DROP TABLE registration_tokens;
ALTER TABLE clients DROP COLUMN secret_sealed;
ALTER TABLE clients DROP COLUMN registration_token_hash;
ALTER TABLE clients DROP COLUMN metadata;
