package mtls

import "github.com/authd/authd/internal/oauth"

// Error is why a client certificate could not be had or did not authenticate
// the client. Every Error unwraps to the same invalid_client (RFC 6749 §5.2,
// which RFC 8705 §2 keeps for failed mutual-TLS authentication), so
// fault.Classify and the error writer answer all of them alike and a caller
// cannot tell a wrong certificate from a missing one by the response. Compare
// with errors.Is against the sentinels to tell them apart; Error() carries the
// detail for logs and is never shown.
type Error struct {
	kind   kind
	detail string
}

type kind uint8

const (
	kindNoCertificate kind = iota + 1
	kindMalformed
	kindUntrusted
	kindMismatch
)

var (
	// ErrNoCertificate: the request carries no client certificate authd may
	// believe (none in the TLS handshake, none from a trusted proxy). For
	// token binding this means "unbound", not necessarily a failure.
	ErrNoCertificate = &Error{kind: kindNoCertificate}
	// ErrMalformed: a trusted proxy sent a certificate header that could not
	// be read (syntax, size caps, a Hash that does not match the Cert).
	ErrMalformed = &Error{kind: kindMalformed}
	// ErrUntrusted: tls_client_auth with a certificate whose chain was not
	// verified, does not chain to Verifier.Roots, or is expired.
	ErrUntrusted = &Error{kind: kindUntrusted}
	// ErrMismatch: the certificate does not match the client's registration
	// (subject DN, SAN, registered keys), or the client is not registered
	// for a mutual-TLS method.
	ErrMismatch = &Error{kind: kindMismatch}
)

func (e *Error) Error() string {
	s := "mtls: " + [...]string{"", "no client certificate", "malformed client certificate header",
		"client certificate not trusted", "client certificate does not match the registration"}[e.kind]
	if e.detail != "" {
		s += ": " + e.detail
	}
	return s
}

// Is makes errors.Is(err, ErrMismatch) true for every mismatch, whatever its detail.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.detail == "" && t.kind == e.kind
}

// Unwrap is invalid_client with a description that says nothing of the cause.
// A fresh value each time: callers may set fields on what they get.
func (e *Error) Unwrap() error { return oauth.InvalidClient("client authentication failed") }

func fail(k kind, detail string) error { return &Error{kind: k, detail: detail} }
