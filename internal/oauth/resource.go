package oauth

import (
	"net/http"
	"net/url"
)

// CodeInvalidTarget is the RFC 8707 §2 error for a resource the server does
// not know or will not issue a token for.
const CodeInvalidTarget = "invalid_target"

// InvalidTarget is RFC 8707 §2 invalid_target, sent with 400 at the token
// endpoint (RFC 6749 §5.2) and as an error redirect at the authorization
// endpoint.
func InvalidTarget(desc string) *Error {
	return newErr(CodeInvalidTarget, http.StatusBadRequest, desc)
}

// MaxResourceLength bounds a resource indicator; no API needs more.
const MaxResourceLength = 2048

// ResourceIndicatorProblem says what is wrong with s as an RFC 8707 §2
// resource indicator, "" when nothing is: an absolute URI (RFC 3986 §4.3)
// that "MUST NOT include a fragment component", here also without spaces or
// control characters (so lists of them can be stored and logged safely) and
// at most MaxResourceLength bytes.
func ResourceIndicatorProblem(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > MaxResourceLength {
		return "must be at most 2048 characters"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return "must not contain spaces or control characters"
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URI"
	}
	// RFC 8707 §2: absolute, no fragment (not even an empty one: "#").
	if u.Fragment != "" || u.RawFragment != "" || hasHash(s) {
		return "must not have a fragment"
	}
	if !u.IsAbs() || (u.Opaque == "" && u.Host == "" && u.Path == "") {
		return "must be an absolute URI"
	}
	return ""
}

func hasHash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' {
			return true
		}
	}
	return false
}
