package assertion

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeySource reads the JWK Set a client registered by reference (jwks_uri,
// RFC 7591 §2). Another package implements it over the one outbound fetcher.
type KeySource interface {
	// Keys returns the keys of the set at uri whose kid is kid, or every key
	// when kid is "". A kid the cached copy does not have makes the
	// implementation refetch the document, at a bounded rate per uri (a client
	// that rotated a moment ago is served; a stream of made-up kids costs one
	// fetch per interval, not one per request). No matching key is (nil, nil).
	// A document that was fetched and is not a JWK Set is an error wrapping
	// ErrKeysInvalid; a fetch that failed with nothing cached is an error
	// wrapping ErrUnavailable (or a context error).
	//
	// It must be safe for concurrent use.
	Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error)
}

// IssuerKeys reads the signing keys of a trusted workload-token issuer.
// Another package implements it (fetch and cache, like KeySource).
type IssuerKeys interface {
	// Keys returns issuer's keys whose kid is kid (every key when kid is
	// ""). When jwksURI is "", the keys are those of the jwks_uri in the
	// issuer's OpenID Connect discovery document (issuer +
	// "/.well-known/openid-configuration", whose own issuer must equal issuer,
	// OpenID Connect Discovery §4.3); otherwise they are read from jwksURI.
	// Refresh on an unknown kid and errors are as for KeySource. Verify asks
	// only for issuers that a client's federated credential names, never for
	// an iss an unauthenticated caller chose.
	//
	// It must be safe for concurrent use.
	Keys(ctx context.Context, issuer, jwksURI, kid string) ([]jose.JSONWebKey, error)
}

// Secrets recovers the plaintext secret of a client_secret_jwt client, which
// HMAC verification needs (RFC 7518 §3.2: the key is the secret itself).
//
// authd stores only the SHA-256 of the secrets it generates (see
// token.AuthenticateClient), and a hash cannot verify an HMAC. So
// client_secret_jwt is possible only for clients whose secret is also stored
// sealed (encrypted under a data key of the master key ring); the caller
// supplies the implementation that unseals it. Without a Secrets in the
// Config, client_secret_jwt is refused for every client.
type Secrets interface {
	// SecretFor returns c's secret. A client without a recoverable secret is
	// an error wrapping ErrUnsupported; a store or key service that is down
	// is ErrUnavailable. Verify does not keep the slice, so the caller may
	// clear it afterwards.
	SecretFor(ctx context.Context, c *Client) ([]byte, error)
}

// Replay records the jti values of client assertions so each is used once
// (OpenID Connect Core §9: jti "MUST only be used once"; RFC 7523 §3 item 7:
// kept for as long as the JWT would be valid). Every replica must share it
// (Redis SET NX with an expiry, or a store table), or a replay reaches another
// replica.
type Replay interface {
	// Use records key until the instant until and reports whether this was
	// its first use. Concurrent calls with one key must see exactly one true.
	// Keys are at most 200 bytes of [A-Za-z0-9._~:-], namespaced by client_id.
	// A store that cannot answer returns an error (wrapping ErrUnavailable);
	// the assertion is then not accepted.
	Use(ctx context.Context, key string, until time.Time) (first bool, err error)
}
