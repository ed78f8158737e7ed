package assertion

import (
	"errors"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authd/authd/internal/oauth"
)

// AlgEd25519 is the fully-specified name of EdDSA over Ed25519 (RFC 9864 §2.2),
// accepted alongside the polymorphic "EdDSA" (which RFC 9864 deprecates but
// every deployed client still sends). go-jose verifies only "EdDSA", so this
// package verifies "Ed25519" itself with crypto/ed25519.
const AlgEd25519 = jose.SignatureAlgorithm("Ed25519")

// asymmetricAlgs are accepted for private_key_jwt and federated credentials,
// hmacAlgs for client_secret_jwt. "none" is in neither, so an unsigned JWT
// never parses (RFC 8725 §3.2).
var (
	asymmetricAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.PS256, jose.RS256, jose.EdDSA, AlgEd25519}
	hmacAlgs       = []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512}
	allAlgs        = append(append([]jose.SignatureAlgorithm(nil), asymmetricAlgs...), hmacAlgs...)
)

// Algorithms are the JWS algorithms assertions may be signed with, for the
// server metadata's *_endpoint_auth_signing_alg_values_supported (RFC 8414 §2).
func Algorithms() []string {
	out := make([]string, len(allAlgs))
	for i, a := range allAlgs {
		out[i] = string(a)
	}
	return out
}

// maxJTILength bounds jti; the replay key hashes it, but a megabyte-long jti is
// no client's.
const maxJTILength = 256

// Assertion is a parsed, not yet verified, client assertion. Nothing in it is
// trustworthy until Verify has accepted it.
type Assertion struct {
	jws             *jose.JSONWebSignature
	signingInput    string // header.payload, what the signature covers
	alg             jose.SignatureAlgorithm
	kid             string
	explicitlyTyped bool // typ client-authentication+jwt
	claims          jwt.Claims
	clientIDParam   string
	clientID        string
}

// ClientID is the client the assertion claims to authenticate: the client_id
// parameter when one was sent, else the assertion's sub (RFC 7523 §3 item 2).
// It is a well-formed client id (oauth.AcceptableClientID), so the caller may look
// it up; it is not authenticated until Verify says so.
func (a *Assertion) ClientID() string { return a.clientID }

// Parse checks the form values and decodes the assertion without verifying it:
// the assertion type (RFC 7521 §4.2), the size, the compact JWS form with an
// accepted alg and no critical extensions, and the claims every assertion
// needs (iss, sub, exp, and a well-formed client to look up). Every refusal is
// an *Error matching ErrInvalid.
func (v *Verifier) Parse(in Input) (*Assertion, error) {
	if in.AssertionType != TypeJWTBearer {
		return nil, refuse(ReasonType, "client_assertion_type is not jwt-bearer")
	}
	raw := in.Assertion
	if raw == "" {
		return nil, refuse(ReasonMalformed, "client_assertion is empty")
	}
	if len(raw) > MaxSize {
		return nil, refuse(ReasonTooLarge, "client_assertion is %d bytes, over %d", len(raw), MaxSize)
	}
	dot, ok := compactJWS(raw)
	if !ok {
		// Also refuses JWE (five parts) and the JSON serialization: RFC 7523
		// §3 item 8 lets a server refuse encrypted assertions, and this one
		// has no key to decrypt them with.
		return nil, refuse(ReasonMalformed, "client_assertion is not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(raw, allAlgs)
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return nil, refuse(ReasonAlg, "alg %s is not accepted", quote(string(alg.Got)))
		}
		return nil, refuse(ReasonMalformed, "client_assertion is not a JWS")
	}
	if len(jws.Signatures) != 1 {
		return nil, refuse(ReasonMalformed, "client_assertion has %d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	// RFC 7515 §4.1.11: an extension we do not implement cannot be ignored if
	// it is critical; we implement none, and RFC 7797's b64 makes no sense
	// for a JWT whose claims must be JSON.
	if _, ok := h.ExtraHeaders["crit"]; ok {
		return nil, refuse(ReasonHeader, "crit header is not supported")
	}
	if _, ok := h.ExtraHeaders["b64"]; ok {
		return nil, refuse(ReasonHeader, "b64 header is not supported")
	}
	explicit, ok := acceptType(h.ExtraHeaders[jose.HeaderType])
	if !ok {
		return nil, refuse(ReasonHeader, "typ names another kind of token")
	}
	a := &Assertion{
		jws:             jws,
		signingInput:    raw[:dot],
		alg:             jose.SignatureAlgorithm(h.Algorithm),
		kid:             h.KeyID,
		explicitlyTyped: explicit,
		clientIDParam:   in.ClientID,
	}
	// Claim names are case-sensitive (RFC 7519 §4), which encoding/json is
	// not; go-jose's fork is. A duplicated name keeps the last value, which
	// RFC 7519 §4 allows.
	if err := josejson.Unmarshal(jws.UnsafePayloadWithoutVerification(), &a.claims); err != nil {
		return nil, refuse(ReasonMalformed, "claims are not a JWT claims set")
	}
	cl := &a.claims
	switch {
	case cl.Issuer == "" || cl.Subject == "":
		// RFC 7523 §3 items 1 and 2.
		return nil, refuse(ReasonClaims, "iss and sub are required")
	case cl.Expiry == nil:
		// RFC 7523 §3 item 4.
		return nil, refuse(ReasonClaims, "exp is required")
	case len(cl.Audience) == 0:
		// RFC 7523 §3 item 3.
		return nil, refuse(ReasonAudience, "aud is required")
	case len(cl.ID) > maxJTILength:
		return nil, refuse(ReasonClaims, "jti is longer than %d bytes", maxJTILength)
	}
	a.clientID = in.ClientID
	if a.clientID == "" {
		a.clientID = cl.Subject
	}
	if !oauth.AcceptableClientID(a.clientID) {
		// Nothing that could not be a client id becomes a lookup key.
		if in.ClientID == "" {
			return nil, refuse(ReasonClientID, "sub is not a client_id and no client_id was sent")
		}
		return nil, refuse(ReasonClientID, "client_id is malformed")
	}
	return a, nil
}

// compactJWS reports whether s is three base64url segments (the last, the
// signature, not empty) and where the signing input ends. The base64 decoder
// would skip CR and LF, which then would not be what was signed.
func compactJWS(s string) (lastDot int, ok bool) {
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			dots++
			lastDot = i
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return 0, false
		}
	}
	return lastDot, dots == 2 && lastDot < len(s)-1 && s[0] != '.'
}

// acceptType checks the typ header (RFC 7515 §4.1.9, compared
// case-insensitively, "application/" optional). Absent, JWT and JOSE are what
// clients and workload issuers send; client-authentication+jwt is the explicit
// type of draft-ietf-oauth-rfc7523bis and makes the audience strict. Any other
// type is a JWT made for something else (an access token, a DPoP proof, an ID
// token typed as such) and is refused (RFC 8725 §3.11).
func acceptType(v any) (explicit, ok bool) {
	if v == nil {
		return false, true
	}
	s, isString := v.(string)
	if !isString {
		return false, false
	}
	if len(s) > len("application/") && strings.EqualFold(s[:len("application/")], "application/") {
		s = s[len("application/"):]
	}
	switch {
	case strings.EqualFold(s, "JWT"), strings.EqualFold(s, "JOSE"):
		return false, true
	case strings.EqualFold(s, "client-authentication+jwt"):
		return true, true
	}
	return false, false
}

// signature is the raw signature of the compact JWS.
func (a *Assertion) signature() []byte { return a.jws.Signatures[0].Signature }
