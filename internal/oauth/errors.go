package oauth

import (
	"errors"
	"net/http"
)

// RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7009 §2.2.1 error codes.
const (
	CodeInvalidRequest          = "invalid_request"
	CodeInvalidClient           = "invalid_client"
	CodeInvalidGrant            = "invalid_grant"
	CodeUnauthorizedClient      = "unauthorized_client"
	CodeUnsupportedGrantType    = "unsupported_grant_type"
	CodeInvalidScope            = "invalid_scope"
	CodeAccessDenied            = "access_denied"
	CodeUnsupportedResponseType = "unsupported_response_type"
	CodeServerError             = "server_error"
	CodeTemporarilyUnavailable  = "temporarily_unavailable"
	CodeInvalidToken            = "invalid_token"
	CodeInsufficientScope       = "insufficient_scope"
	CodeUnsupportedTokenType    = "unsupported_token_type"
	CodeLoginRequired           = "login_required"
	CodeConsentRequired         = "consent_required"
	CodeSlowDown                = "slow_down"
	// RFC 8628 §3.5: the device access token response's own codes.
	CodeAuthorizationPending = "authorization_pending"
	CodeExpiredToken         = "expired_token"
)

// Error is a protocol error: an RFC error code, a description safe to show the
// caller, and the HTTP status it is sent with. Build one with the constructors below.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, in seconds, is sent as Retry-After when positive.
	RetryAfter int
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

func newErr(code string, status int, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

func InvalidRequest(desc string) *Error {
	return newErr(CodeInvalidRequest, http.StatusBadRequest, desc)
}

// InvalidClient is always 401 here: RFC 6749 §5.2 allows 400 when no
// Authorization header was used, but one status keeps clients simple.
func InvalidClient(desc string) *Error {
	return newErr(CodeInvalidClient, http.StatusUnauthorized, desc)
}

func InvalidGrant(desc string) *Error { return newErr(CodeInvalidGrant, http.StatusBadRequest, desc) }

func UnauthorizedClient(desc string) *Error {
	return newErr(CodeUnauthorizedClient, http.StatusBadRequest, desc)
}

func UnsupportedGrantType(desc string) *Error {
	return newErr(CodeUnsupportedGrantType, http.StatusBadRequest, desc)
}

func InvalidScope(desc string) *Error { return newErr(CodeInvalidScope, http.StatusBadRequest, desc) }

func AccessDenied(desc string) *Error { return newErr(CodeAccessDenied, http.StatusForbidden, desc) }

func UnsupportedResponseType(desc string) *Error {
	return newErr(CodeUnsupportedResponseType, http.StatusBadRequest, desc)
}

func UnsupportedTokenType(desc string) *Error {
	return newErr(CodeUnsupportedTokenType, http.StatusBadRequest, desc)
}

// InvalidToken is the RFC 6750 §3.1 bearer-token error.
func InvalidToken(desc string) *Error {
	return newErr(CodeInvalidToken, http.StatusUnauthorized, desc)
}

// ServerError carries no detail on purpose: the cause is logged, never shown.
func ServerError() *Error {
	return newErr(CodeServerError, http.StatusInternalServerError, "")
}

// TemporarilyUnavailable is sent with 503 and Retry-After when the server sheds load.
func TemporarilyUnavailable(desc string, retryAfterSeconds int) *Error {
	e := newErr(CodeTemporarilyUnavailable, http.StatusServiceUnavailable, desc)
	e.RetryAfter = retryAfterSeconds
	return e
}

// TooManyRequests is a rate-limit refusal. RFC 6749 has no code for it; peers use
// temporarily_unavailable with 429, and so do we.
func TooManyRequests(retryAfterSeconds int) *Error {
	e := newErr(CodeTemporarilyUnavailable, http.StatusTooManyRequests, "rate limit exceeded")
	e.RetryAfter = retryAfterSeconds
	return e
}

// InsufficientScope is the RFC 6750 §3.1 error for a token without the scope
// the resource needs.
func InsufficientScope(desc string) *Error {
	return newErr(CodeInsufficientScope, http.StatusForbidden, desc)
}

// AuthorizationPending is RFC 8628 §3.5: the user has not decided yet; the
// device keeps polling.
func AuthorizationPending(desc string) *Error {
	return newErr(CodeAuthorizationPending, http.StatusBadRequest, desc)
}

// SlowDown is RFC 8628 §3.5: still pending, and the device polled too soon;
// its interval has grown by 5 seconds.
func SlowDown(desc string) *Error { return newErr(CodeSlowDown, http.StatusBadRequest, desc) }

// ExpiredToken is RFC 8628 §3.5: the device_code expired before the user
// decided; the device may start over.
func ExpiredToken(desc string) *Error { return newErr(CodeExpiredToken, http.StatusBadRequest, desc) }

// DeviceAccessDenied is RFC 8628 §3.5 access_denied: the user denied the
// device. It is a token endpoint error (RFC 6749 §5.2), so 400, not the
// 403 of AccessDenied.
func DeviceAccessDenied(desc string) *Error {
	return newErr(CodeAccessDenied, http.StatusBadRequest, desc)
}
