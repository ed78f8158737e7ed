package authzreq

import (
	"errors"
	"net/http"

	"github.com/authd/authd/internal/oauth"
)

// Error codes of RFC 9101 §6.3 and §10.1 (the OAuth Extensions Error
// registry), also used by OpenID Connect Core §3.1.2.6.
const (
	CodeInvalidRequestObject   = "invalid_request_object"
	CodeRequestURINotSupported = "request_uri_not_supported"
)

// InvalidRequestObject is RFC 9101 §6.3: the request object failed
// verification or holds something invalid.
func InvalidRequestObject(desc string) *oauth.Error {
	return &oauth.Error{Code: CodeInvalidRequestObject, Description: desc, Status: http.StatusBadRequest}
}

// RequestURINotSupported answers a request_uri authd did not issue: only
// the pushed authorization request endpoint's are accepted (RFC 9101 §5.2 leaves
// fetching others to the server; authd never fetches them).
func RequestURINotSupported(desc string) *oauth.Error {
	return &oauth.Error{Code: CodeRequestURINotSupported, Description: desc, Status: http.StatusBadRequest}
}

// ErrKeysUnavailable is what a KeySource wraps when the client's jwks_uri
// cannot be read right now (an outage, not the client's fault): the request
// is answered 503, not refused.
var ErrKeysUnavailable = errors.New("authzreq: the client's keys cannot be read")

// errUnavailable is how ErrKeysUnavailable reaches the caller.
var errUnavailable = oauth.TemporarilyUnavailable("the client's keys cannot be read; retry shortly", 1)
