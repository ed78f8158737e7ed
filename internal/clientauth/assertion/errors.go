package assertion

import (
	"context"
	"errors"
	"fmt"

	"github.com/authd/authd/internal/oauth"
)

// Sentinels, matched with errors.Is against what Parse and Verify return, and
// which the consumer-implemented interfaces use to say what went wrong.
var (
	// ErrInvalid: the assertion does not authenticate the client. Every *Error
	// that is not ErrUnavailable matches it.
	ErrInvalid = errors.New("assertion: client assertion refused")
	// ErrUnavailable: a dependency (a key source, the replay store, the secret
	// store) could not answer; the request may succeed later. A KeySource,
	// IssuerKeys, Secrets or Replay implementation returns an error wrapping
	// it (or a context error) for a transient failure.
	ErrUnavailable = errors.New("assertion: dependency unavailable")
	// ErrUnsupported: Secrets has no recoverable secret for the client, so
	// client_secret_jwt cannot be verified for it.
	ErrUnsupported = errors.New("assertion: not supported for this client")
	// ErrKeysInvalid: a key source fetched the document and it is not a usable
	// JWK Set (or discovery document); the client or issuer is misconfigured,
	// which is invalid_client, not an outage.
	ErrKeysInvalid = errors.New("assertion: key set unusable")
)

// Reason names why an assertion was refused, in a small fixed vocabulary fit
// for a metric label or an audit aggregation key.
type Reason string

const (
	ReasonType        Reason = "assertion_type" // client_assertion_type is not jwt-bearer
	ReasonTooLarge    Reason = "too_large"      // longer than MaxSize
	ReasonMalformed   Reason = "malformed"      // not a compact JWS with a JSON claims set
	ReasonAlg         Reason = "alg"            // alg not accepted (none, unknown, wrong family for the method)
	ReasonHeader      Reason = "header"         // crit, b64 or a typ naming another kind of JWT
	ReasonClaims      Reason = "claims"         // a required claim missing or malformed
	ReasonClientID    Reason = "client_id"      // iss, sub and client_id do not name one client
	ReasonMethod      Reason = "method"         // the client is registered for another method, or it cannot be used
	ReasonIssuer      Reason = "issuer"         // federated: no credential trusts this iss
	ReasonSubject     Reason = "subject"        // federated: the issuer is trusted, this sub is not
	ReasonAudience    Reason = "audience"       // aud does not name this server (or the credential's audience)
	ReasonExpired     Reason = "expired"        // exp has passed
	ReasonNotYetValid Reason = "not_yet_valid"  // nbf or iat in the future
	ReasonLifetime    Reason = "lifetime"       // exp further ahead than allowed
	ReasonReplay      Reason = "replay"         // the jti was used before
	ReasonKey         Reason = "key"            // no registered key fits (unknown kid, wrong type, alg or use)
	ReasonSignature   Reason = "signature"      // no fitting key verifies the signature
	ReasonUnavailable Reason = "unavailable"    // a dependency is down; see ErrUnavailable
)

// reasonWireAssertion is the one description sent with a refusal, whatever its
// reason, as token.AuthenticateClient does: the caller learns nothing about the
// registration from it; Reason and Detail say the rest to logs and audit.
const reasonWireAssertion = "client authentication failed"

// Error is a refused or undecidable assertion. Reason and Detail are for logs
// and the audit trail: Detail may quote claim values (truncated, never the
// assertion or a secret). On the wire only the wrapped *oauth.Error is sent.
//
// oauth.As finds an invalid_client (401) error, or temporarily_unavailable
// (503, Retry-After 1) when a dependency is down; fault.Classify passes either
// through as a protocol error, so the caller logs Reason itself. When the
// cause is a context error there is no oauth error in the chain, so
// fault.Classify sees the cancellation or deadline as it would anywhere else.
type Error struct {
	Reason Reason
	Detail string
	cause  error
	wire   *oauth.Error
}

func (e *Error) Error() string {
	s := "client assertion: " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap exposes the wire error (when there is one) and the cause.
func (e *Error) Unwrap() []error {
	var out []error
	if e.wire != nil {
		out = append(out, e.wire)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

// Is makes every *Error match ErrInvalid or ErrUnavailable.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnavailable:
		return e.Reason == ReasonUnavailable
	case ErrInvalid:
		return e.Reason != ReasonUnavailable
	}
	return false
}

// Unavailable reports whether err says a dependency was down, so the endpoint
// answers 503 rather than invalid_client.
func Unavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// refuse builds an invalid_client refusal.
func refuse(r Reason, format string, args ...any) *Error {
	d := format
	if len(args) > 0 {
		d = fmt.Sprintf(format, args...)
	}
	return &Error{Reason: r, Detail: d, wire: oauth.InvalidClient(reasonWireAssertion)}
}

// fromDependency classifies an error a KeySource, IssuerKeys, Secrets or Replay
// returned: a context error or ErrUnavailable is an outage (503), ErrKeysInvalid
// and ErrUnsupported are refusals with reason r, and anything else is treated
// as an outage, because a source that cannot say what is wrong has not shown
// that the client's credentials are.
func fromDependency(r Reason, what string, err error) *Error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// No oauth error in the chain: the caller's classifier decides
		// what a cancellation or deadline is.
		return &Error{Reason: ReasonUnavailable, Detail: what, cause: err}
	case errors.Is(err, ErrKeysInvalid), errors.Is(err, ErrUnsupported):
		return &Error{Reason: r, Detail: what, cause: err, wire: oauth.InvalidClient(reasonWireAssertion)}
	}
	return &Error{Reason: ReasonUnavailable, Detail: what, cause: err,
		wire: oauth.TemporarilyUnavailable("", retryAfterSeconds)}
}

// retryAfterSeconds matches fault.RetryAfter (not imported: this package stays
// free of the store and password dependencies fault carries).
const retryAfterSeconds = 1

// quote bounds a claim or header value quoted into a Detail.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}
