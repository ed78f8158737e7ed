package outbound

import (
	"errors"
	"fmt"
)

// Every error the package returns wraps one of these, so that a caller maps
// them to its protocol's errors in one place (with errors.Is) and never
// inspects messages. Errors from the network also wrap their cause
// (context.DeadlineExceeded, a *url.Error, an x509 error) for logs.
var (
	// ErrRefused: the URL or an address it resolved to is one authd does not
	// connect to (a scheme other than https, credentials in the URL, a
	// private, loopback, link-local or otherwise non-public address, a
	// redirect to one, or too many redirects). Retrying does not help.
	ErrRefused = errors.New("outbound: refused")

	// ErrTooLarge: the response body is larger than Options.MaxBytes.
	ErrTooLarge = errors.New("outbound: response too large")

	// ErrUnavailable: the server could not be reached or answered that it
	// cannot answer now (a network error, a TLS failure, the deadline, 5xx,
	// 408, 429). Retrying later may help.
	ErrUnavailable = errors.New("outbound: unavailable")

	// ErrBadResponse: the server answered, but not with a usable document (a
	// status other than 200, a media type the caller did not ask for, a body
	// that does not parse, a JWK Set with private keys).
	ErrBadResponse = errors.New("outbound: bad response")

	// ErrIssuerMismatch: an OpenID Provider's configuration names another
	// issuer than the one it was fetched for (OIDC Discovery 1.0 §4.3). It
	// is also an ErrBadResponse.
	ErrIssuerMismatch = fmt.Errorf("%w: issuer mismatch", ErrBadResponse)

	// ErrKeyNotFound: the JWK Set has no usable key with the asked key id,
	// even after the bounded refresh.
	ErrKeyNotFound = errors.New("outbound: key not found")
)
