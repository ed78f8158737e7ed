package authzreq

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/oauth"
)

// Algorithms are the JWS algorithms request objects may be signed with:
// asymmetric only. none is never accepted (RFC 9101 §10.2 leaves unsigned
// objects to the server; authd wants the client's signature), nor HMAC,
// which would need the client secret in a recoverable form.
func Algorithms() []string { return []string{"RS256", "PS256", "ES256", "EdDSA"} }

var signatureAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// Bounds on what a request object may be.
const (
	// MaxRequestObjectBytes caps the compact JWS: it travels in a URL or a
	// form body, both capped well below this.
	MaxRequestObjectBytes = 16 << 10
	// maxLifetime bounds exp (and how old nbf may be): FAPI 2.0 Security
	// Profile §5.3.2.1 asks for at most 60 minutes; a request object is
	// used within seconds of being made.
	maxLifetime = time.Hour
	// leeway forgives clock skew between the client and authd.
	leeway = 30 * time.Second
	// maxCandidates bounds the keys one object is tried against.
	maxCandidates = 4
	minRSABits    = 2048
)

// KeySource returns the keys published at a client's jwks_uri that may have
// kid ("" any); cmd/authd implements it over the outbound fetcher. An outage
// is an error wrapping ErrKeysUnavailable; any other error means the keys are
// unusable, and the object is refused.
type KeySource interface {
	Keys(ctx context.Context, uri, kid string) ([]jose.JSONWebKey, error)
}

// Options configure a Verifier.
type Options struct {
	// Issuer is authd's issuer identifier: the one audience accepted
	// (RFC 9101 §4: aud SHOULD be, and here must be, the issuer identifier).
	Issuer string
	// Keys reads jwks_uri; nil: only clients with an inline jwks can sign
	// request objects.
	Keys KeySource
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// SecurityProfile is the profile of clients that name none
	// (AUTHD_SECURITY_PROFILE): fapi2 clients sign with PS256, ES256 or
	// EdDSA only.
	SecurityProfile string
}

// Verifier checks request objects. It is safe for concurrent use.
type Verifier struct {
	issuer  string
	keys    KeySource
	now     func() time.Time
	profile string
}

// NewVerifier returns a Verifier; opts.Issuer is required.
func NewVerifier(opts Options) (*Verifier, error) {
	if opts.Issuer == "" {
		return nil, errors.New("authzreq: Issuer is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{issuer: opts.Issuer, keys: opts.Keys, now: opts.Now, profile: opts.SecurityProfile}, nil
}

// Verify checks raw, a request object sent with client_id clientID for
// client c, and returns the authorization request parameters it carries,
// client_id among them. The caller must use only these (RFC 9101 §5: the
// parameters outside the object are ignored). Errors are *oauth.Error:
// invalid_request_object, or temporarily_unavailable when c's jwks_uri
// cannot be read.
func (v *Verifier) Verify(ctx context.Context, c *oauth.Client, raw string) (url.Values, error) {
	if len(raw) > MaxRequestObjectBytes {
		return nil, InvalidRequestObject("the request object is too large")
	}
	if strings.Count(raw, ".") != 2 {
		// Five parts would be an encrypted object (RFC 9101 §6.1), which
		// authd does not decrypt.
		return nil, InvalidRequestObject("the request object must be a signed JWT (compact JWS)")
	}
	jws, err := jose.ParseSignedCompact(raw, v.allowedAlgs(c))
	if err != nil {
		return nil, InvalidRequestObject("the request object is malformed or its alg is not allowed: " + v.allowedList(c))
	}
	if len(jws.Signatures) != 1 {
		return nil, InvalidRequestObject("the request object must have one signature")
	}
	h := jws.Signatures[0].Protected
	if !typeAllowed(h.ExtraHeaders[jose.HeaderType]) {
		return nil, InvalidRequestObject("typ must be oauth-authz-req+jwt (RFC 9101 §4)")
	}
	if _, crit := h.ExtraHeaders["crit"]; crit {
		return nil, InvalidRequestObject("crit is not supported")
	}
	alg := jose.SignatureAlgorithm(h.Algorithm)
	keys, err := v.clientKeys(ctx, c, h.KeyID)
	if err != nil {
		return nil, err
	}
	payload, err := verifyWith(jws, keys, h.KeyID, alg)
	if err != nil {
		return nil, err
	}
	return v.claims(c, payload)
}

// allowedAlgs is the allow-list, narrowed to the client's registered
// request_object_signing_alg when it has one (RFC 9101 §10.5).
// Under the fapi2 profile, only FAPI 2.0 Security Profile §5.4's.
func (v *Verifier) allowedAlgs(c *oauth.Client) []jose.SignatureAlgorithm {
	algs := signatureAlgs
	if c.Profile(v.profile) == oauth.ProfileFAPI2 {
		algs = slices.DeleteFunc(slices.Clone(signatureAlgs), func(a jose.SignatureAlgorithm) bool {
			return !slices.Contains(oauth.FAPI2Algorithms, string(a))
		})
	}
	if a := c.Metadata.RequestObjectSigningAlg; a != "" {
		if slices.Contains(algs, jose.SignatureAlgorithm(a)) {
			return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(a)}
		}
		return nil // registration refuses others; nothing verifies
	}
	return algs
}

func (v *Verifier) allowedList(c *oauth.Client) string {
	var s []string
	for _, a := range v.allowedAlgs(c) {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

// typeAllowed: RFC 9101 §4 says the typ SHOULD be oauth-authz-req+jwt; an
// untyped object or plain JWT is accepted for existing clients (§10.8 lets
// the server decide). The media type may carry its application/ prefix
// (RFC 7515 §4.1.9) and is case-insensitive.
func typeAllowed(t any) bool {
	if t == nil {
		return true
	}
	s, ok := t.(string)
	if !ok {
		return false
	}
	s = strings.ToLower(s)
	s = strings.TrimPrefix(s, "application/")
	return s == "oauth-authz-req+jwt" || s == "jwt"
}

// clientKeys returns the client's registered keys: its inline jwks, or those
// at its jwks_uri.
func (v *Verifier) clientKeys(ctx context.Context, c *oauth.Client, kid string) ([]jose.JSONWebKey, error) {
	switch {
	case len(c.Metadata.JWKS) > 0:
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(c.Metadata.JWKS, &set); err != nil {
			return nil, InvalidRequestObject("the client's registered jwks cannot be used")
		}
		return set.Keys, nil
	case c.Metadata.JWKSURI != "" && v.keys != nil:
		keys, err := v.keys.Keys(ctx, c.Metadata.JWKSURI, kid)
		switch {
		case errors.Is(err, ErrKeysUnavailable):
			return nil, errUnavailable
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return nil, err
		case err != nil:
			return nil, InvalidRequestObject("the client's jwks_uri cannot be used")
		}
		return keys, nil
	}
	return nil, InvalidRequestObject("the client has registered no keys to verify request objects with")
}

// verifyWith checks the signature with the keys that fit kid and alg.
// Without a kid, any fitting key may verify, but only a few are tried.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string, alg jose.SignatureAlgorithm) ([]byte, error) {
	tried := 0
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		pub, ok := keyFits(k, alg)
		if !ok {
			continue
		}
		if tried++; tried > maxCandidates {
			break
		}
		if payload, err := jws.Verify(pub); err == nil {
			return payload, nil
		}
	}
	if tried == 0 {
		return nil, InvalidRequestObject("no registered key of the client fits the request object's kid and alg")
	}
	return nil, InvalidRequestObject("the request object's signature does not verify")
}

// keyFits returns k's public key if it may verify alg: the right type and
// size, use sig or absent, alg absent or alg (RFC 7517 §4.2, §4.4).
func keyFits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) (any, bool) {
	if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(alg)) {
		return nil, false
	}
	key := k.Key
	switch p := key.(type) {
	case *ecdsa.PrivateKey:
		key = &p.PublicKey
	case *rsa.PrivateKey:
		key = &p.PublicKey
	case ed25519.PrivateKey:
		key = p.Public()
	}
	switch alg {
	case jose.ES256:
		p, ok := key.(*ecdsa.PublicKey)
		return p, ok && p.Curve == elliptic.P256()
	case jose.RS256, jose.PS256:
		p, ok := key.(*rsa.PublicKey)
		return p, ok && p.N.BitLen() >= minRSABits
	case jose.EdDSA:
		p, ok := key.(ed25519.PublicKey)
		return p, ok && len(p) == ed25519.PublicKeySize
	}
	return nil, false
}

// registered claims of the object itself, not authorization parameters.
var jwtClaims = map[string]bool{"iss": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true, "sub": true}

// claims checks the registered claims and turns the rest into parameters.
func (v *Verifier) claims(c *oauth.Client, payload []byte) (url.Values, error) {
	var cl map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&cl); err != nil || cl == nil {
		return nil, InvalidRequestObject("the request object's claims are not a JSON object")
	}
	// RFC 9101 §6.3 (RFC 7519 §4.1.1): the client signed it for itself.
	if iss, ok := stringClaim(cl, "iss"); !ok || iss != c.ID {
		return nil, InvalidRequestObject("iss must be the client_id")
	}
	if !audienceIs(cl["aud"], v.issuer) {
		return nil, InvalidRequestObject("aud must be the issuer identifier")
	}
	now := v.now()
	exp, ok := timeClaim(cl, "exp")
	switch {
	case !ok:
		return nil, InvalidRequestObject("exp is required")
	case !now.Before(exp.Add(leeway)):
		return nil, InvalidRequestObject("the request object has expired")
	case exp.After(now.Add(maxLifetime + leeway)):
		return nil, InvalidRequestObject("exp must be at most an hour ahead")
	}
	if _, present := cl["nbf"]; present {
		nbf, ok := timeClaim(cl, "nbf")
		switch {
		case !ok:
			return nil, InvalidRequestObject("nbf must be a number")
		case nbf.After(now.Add(leeway)):
			return nil, InvalidRequestObject("the request object is not valid yet (nbf)")
		case nbf.Before(now.Add(-maxLifetime - leeway)):
			return nil, InvalidRequestObject("nbf must be at most an hour ago")
		}
	}
	// RFC 9101 §5: the client_id inside and outside must be identical.
	if id, ok := stringClaim(cl, "client_id"); !ok || id != c.ID {
		return nil, InvalidRequestObject("the client_id claim must equal the client_id parameter")
	}
	// RFC 9101 §4: a request object must not hold request or request_uri.
	for _, n := range []string{"request", "request_uri"} {
		if _, present := cl[n]; present {
			return nil, InvalidRequestObject(n + " must not appear in a request object")
		}
	}
	out := url.Values{}
	for name, raw := range cl {
		if jwtClaims[name] {
			continue
		}
		val, ok := paramValue(raw)
		if !ok {
			// Structured members (OpenID claims, authorization_details)
			// are not parameters authd serves: ignored like unknown
			// query parameters (RFC 6749 §3.1).
			continue
		}
		out.Set(name, val)
	}
	return out, nil
}

func stringClaim(cl map[string]json.RawMessage, name string) (string, bool) {
	var s string
	if raw, ok := cl[name]; !ok || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// audienceIs: aud is the issuer, alone or in an array (RFC 7519 §4.1.3).
func audienceIs(raw json.RawMessage, issuer string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == issuer
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, issuer)
}

// timeClaim reads a NumericDate (RFC 7519 §2), fractions allowed.
func timeClaim(cl map[string]json.RawMessage, name string) (time.Time, bool) {
	var n json.Number
	raw, ok := cl[name]
	if !ok || len(raw) == 0 || raw[0] == '"' || json.Unmarshal(raw, &n) != nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// paramValue is a claim as a request parameter: a string as is, an integer
// (max_age) in decimal; false for anything else.
func paramValue(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	}
	return "", false
}
