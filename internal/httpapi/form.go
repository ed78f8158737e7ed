package httpapi

import (
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

// errTooLarge is answered with 413 by the handlers.
var errTooLarge = &oauth.Error{Code: oauth.CodeInvalidRequest, Description: "request body too large", Status: http.StatusRequestEntityTooLarge}

// readBody reads the (already capped) body, turning the cap into errTooLarge.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := readAll(r.Body, r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		return nil, oauth.InvalidRequest("could not read the request body")
	}
	return b, nil
}

// readAll is io.ReadAll starting from a buffer of the declared length, so a
// batch body is read into one allocation instead of a doubling series. The
// declaration is only a hint: it is capped (a client may lie, and the body
// cap is enforced by the reader) and the body may be longer or shorter.
func readAll(r io.Reader, declared int64) ([]byte, error) {
	const maxHint = 64 << 10
	size := 512 // io.ReadAll's
	if declared > 0 {
		size = int(min(declared, maxHint)) + 1 // +1: the read that sees EOF
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// form is a parsed application/x-www-form-urlencoded body with every parameter
// present at most once (RFC 6749 §3.1, §3.2).
type form map[string]string

// parseForm reads a POST form body. Query parameters are ignored: credentials
// must never travel in URLs (RFC 6749 §2.3.1).
func parseForm(r *http.Request) (form, error) {
	// The type as every client sends it needs no parsing (ParseMediaType
	// builds a map of parameters on each call).
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, oauth.InvalidRequest("Content-Type must be application/x-www-form-urlencoded")
		}
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return parseFormBody(string(body))
}

// parseFormBody parses an urlencoded body; exported to the fuzz target.
func parseFormBody(body string) (form, error) {
	f := form{}
	for body != "" {
		var pair string
		pair, body, _ = strings.Cut(body, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := queryUnescape(k)
		val, err2 := queryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, oauth.InvalidRequest("malformed form body")
		}
		// RFC 6749 §3.1: a parameter without a value is treated as omitted.
		if val == "" {
			continue
		}
		if key == paramResource || key == paramAudience {
			if err := addRepeated(f, key, val); err != nil {
				return nil, err
			}
			continue
		}
		if _, dup := f[key]; dup {
			return nil, oauth.InvalidRequest("parameter " + safeName(key) + " is repeated")
		}
		f[key] = val
	}
	return f, nil
}

// queryUnescape is url.QueryUnescape, answering a value with nothing to
// unescape (a token, a base64url secret) after two IndexByte scans rather
// than its byte-at-a-time one: 2 % of an introspection's CPU was that loop.
func queryUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// paramResource and paramAudience are the parameters that may repeat
// (RFC 8707 §2; RFC 8693 §2.1).
const (
	paramResource = "resource"
	paramAudience = "audience"
)

// addRepeated adds a resource or audience parameter to f, where the values
// are kept space-separated: a resource indicator is a URI, which never
// contains a space (RFC 3986 §2), and an audience authd accepts is one too
// (its issuer or a resource), so a value that does is refused here rather
// than split into two.
func addRepeated(f form, key, val string) error {
	for i := 0; i < len(val); i++ {
		if c := val[i]; c <= ' ' || c == 0x7f {
			return oauth.InvalidTarget(key + " must be an absolute URI without spaces or control characters")
		}
	}
	if prev, ok := f[key]; ok {
		val = prev + " " + val
	}
	f[key] = val
	return nil
}

// resources returns the resource parameters of f, in order.
func (f form) resources() []string { return strings.Fields(f[paramResource]) }

// audiences returns the audience parameters of f, in order.
func (f form) audiences() []string { return strings.Fields(f[paramAudience]) }

// safeName bounds an untrusted parameter name for an error message.
func safeName(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			b[i] = '?'
		}
	}
	return `"` + string(b) + `"`
}

// clientCredentials extracts how the caller authenticates: HTTP Basic (with
// the RFC 6749 §2.3.1 form-encoding of id and secret), client_secret in the
// body, or a bare client_id for public clients. Using two methods at once is an
// error (RFC 6749 §2.3).
func clientCredentials(r *http.Request, f form) (token.Credentials, error) {
	_, hasType := f["client_assertion_type"]
	if assertion, ok := f["client_assertion"]; ok || hasType {
		// RFC 6749 §2.3: one authentication method per request.
		if r.Header.Get("Authorization") != "" {
			return token.Credentials{}, oauth.InvalidRequest("use only one client authentication method")
		}
		if _, ok := f["client_secret"]; ok {
			return token.Credentials{}, oauth.InvalidRequest("use only one client authentication method")
		}
		if !ok || !hasType {
			// RFC 7521 §4.2: the two come together.
			return token.Credentials{}, oauth.InvalidRequest("client_assertion and client_assertion_type go together")
		}
		return token.Credentials{ClientID: f["client_id"], Method: token.MethodAssertion,
			AssertionType: f["client_assertion_type"], Assertion: assertion}, nil
	}
	if authz := r.Header.Get("Authorization"); authz != "" {
		id, secret, err := parseBasic(authz)
		if err != nil {
			return token.Credentials{}, oauth.InvalidClient("malformed Basic credentials")
		}
		if _, ok := f["client_secret"]; ok {
			return token.Credentials{}, oauth.InvalidRequest("use only one client authentication method")
		}
		if fid, ok := f["client_id"]; ok && fid != id {
			return token.Credentials{}, oauth.InvalidRequest("client_id does not match the Authorization header")
		}
		return token.Credentials{ClientID: id, Secret: secret, Method: oauth.AuthMethodBasic}, nil
	}
	if secret, ok := f["client_secret"]; ok {
		return token.Credentials{ClientID: f["client_id"], Secret: secret, Method: oauth.AuthMethodPost}, nil
	}
	return token.Credentials{ClientID: f["client_id"], Method: oauth.AuthMethodNone}, nil
}

// parseBasic decodes "Basic base64(urlencode(id):urlencode(secret))".
func parseBasic(h string) (id, secret string, err error) {
	const prefix = "basic "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", "", errMalformedBasic
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(h[len(prefix):]))
	if err != nil {
		return "", "", errMalformedBasic
	}
	rawID, rawSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errMalformedBasic
	}
	if id, err = queryUnescape(rawID); err != nil {
		return "", "", errMalformedBasic
	}
	if secret, err = queryUnescape(rawSecret); err != nil {
		return "", "", errMalformedBasic
	}
	if id == "" {
		return "", "", errMalformedBasic
	}
	return id, secret, nil
}

var errMalformedBasic = errors.New("malformed basic credentials")
