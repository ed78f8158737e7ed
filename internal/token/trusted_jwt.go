package token

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/replay"
	"github.com/authd/authd/internal/store"
)

// TrustedIssuerStore reads trusted issuers (store.TrustedIssuers).
type TrustedIssuerStore interface {
	TrustedIssuerByIssuer(ctx context.Context, issuer string) (*store.TrustedIssuer, error)
}

// IssuerKeys reads a trusted issuer's signing keys (the outbound fetcher's
// JWKS, through discovery when jwksURI is ""), as for federated client
// credentials: see assertion.IssuerKeys. An error wrapping
// assertion.ErrKeysInvalid means the issuer's documents are unusable;
// any other error that the keys could not be read now.
type IssuerKeys interface {
	Keys(ctx context.Context, issuer, jwksURI, kid string) ([]jose.JSONWebKey, error)
}

// UserFinder finds the user a trusted issuer's sub names (store.Users).
type UserFinder interface {
	UserByUsername(ctx context.Context, username string) (*store.User, error)
	UserByVerifiedEmail(ctx context.Context, email string) (*store.User, error)
}

// Replay records single uses (replay.Cache).
type Replay interface {
	Use(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// kindTrustedIssuer caches trusted issuers by the SHA-256 of their issuer.
const kindTrustedIssuer = "tiss:"

// Bounds on a trusted issuer's JWT: how far its exp may be (a token that
// claims to live for a year is not one to exchange), how many keys one kid
// may try, and its size.
const (
	maxExternalLifetime = replay.MaxLifetime - time.Minute
	maxKeyCandidates    = 8
	maxExternalJWT      = 8 << 10
)

// externalAlgs are the signature algorithms accepted from trusted issuers:
// asymmetric only (RFC 8725 §3.1: no alg confusion; an HMAC key would be a
// secret shared with the issuer, which authd has none of).
var externalAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA}

// externalClaims are what authd reads of a trusted issuer's JWT (RFC 7519
// §4.1, RFC 8693 §4).
type externalClaims struct {
	Iss    string   `json:"iss"`
	Sub    string   `json:"sub"`
	Aud    audience `json:"aud"`
	Exp    *int64   `json:"exp"`
	Nbf    int64    `json:"nbf"`
	Iat    int64    `json:"iat"`
	Jti    string   `json:"jti"`
	Scope  *string  `json:"scope"`
	Act    *Actor   `json:"act"`
	MayAct *Actor   `json:"may_act"`
}

// external is a verified JWT of a trusted issuer.
type external struct {
	ti     *store.TrustedIssuer
	claims externalClaims
	exp    time.Time
}

// refusal is why a JWT is refused; each grant turns it into its own error
// code (invalid_request for token exchange, RFC 8693 §2.2.2; invalid_grant
// for JWT bearer, RFC 7523 §3.1). Any other error means the answer could
// not be decided (a store or key source down).
type refusal struct{ why string }

func (r *refusal) Error() string { return r.why }

func refuse(why string) error { return &refusal{why: why} }

// peekIssuer reads the iss of a compact JWS without verifying it, to find
// whose keys verify it; nothing else of it is trusted before that.
func peekIssuer(tok string) (*jose.JSONWebSignature, string, error) {
	if len(tok) > maxExternalJWT {
		return nil, "", refuse("the JWT is too large")
	}
	jws, err := jose.ParseSignedCompact(tok, externalAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, "", refuse("not a signed JWT with an accepted algorithm")
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil || c.Iss == "" {
		return nil, "", refuse("the JWT has no iss")
	}
	return jws, c.Iss, nil
}

// verifyExternal checks a trusted issuer's JWT: issuer trusted, signature by
// one of its keys, aud naming what the issuer was registered with (RFC 7519
// §4.1.3; RFC 7523 §3 items 3-5), exp present and not past nor too far,
// nbf and iat not in the future. Errors: *refusal, or a failure to decide.
func (s *Service) verifyExternal(ctx context.Context, jws *jose.JSONWebSignature, iss string) (*external, error) {
	ti, err := s.trustedIssuer(ctx, iss)
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse("the issuer " + quote(iss) + " is not trusted")
	}
	if err != nil {
		return nil, err
	}
	h := jws.Signatures[0].Header
	keys, err := s.issuerKeys.Keys(ctx, ti.Issuer, ti.JWKSURI, h.KeyID)
	switch {
	case errors.Is(err, assertion.ErrKeysInvalid):
		return nil, refuse("the issuer's keys cannot be used")
	case err != nil:
		return nil, errors.Join(store.ErrUnavailable, err)
	}
	payload, ok := verifyWithAny(jws, keys)
	if !ok {
		return nil, refuse("the JWT's signature does not verify with the issuer's keys")
	}
	var c externalClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, refuse("the JWT's claims are malformed")
	}
	now := s.opts.Now()
	leeway := int64(s.opts.Leeway / time.Second)
	switch {
	case c.Iss != ti.Issuer:
		// The verified payload is the one peeked at, so this cannot
		// happen; it is checked rather than assumed.
		return nil, refuse("the JWT's iss is not its issuer's")
	case c.Sub == "":
		return nil, refuse("the JWT has no sub")
	case !containsAudience(c.Aud, ti.Audience):
		return nil, refuse("the JWT's aud does not name " + quote(ti.Audience))
	case c.Exp == nil:
		return nil, refuse("the JWT has no exp")
	case *c.Exp+leeway <= now.Unix():
		return nil, refuse("the JWT has expired")
	case *c.Exp > now.Add(maxExternalLifetime).Unix():
		return nil, refuse("the JWT's exp is too far in the future")
	case c.Nbf != 0 && c.Nbf > now.Unix()+leeway:
		return nil, refuse("the JWT is not valid yet (nbf)")
	case c.Iat != 0 && c.Iat > now.Unix()+leeway:
		return nil, refuse("the JWT was issued in the future (iat)")
	case c.Act != nil && !c.Act.validChain():
		return nil, refuse("the JWT's act claim is malformed or too deep")
	case c.MayAct != nil && c.MayAct.Sub == "":
		return nil, refuse("the JWT's may_act claim names no sub")
	}
	return &external{ti: ti, claims: c, exp: time.Unix(*c.Exp, 0)}, nil
}

// verifyWithAny verifies jws with the first of keys that fits its alg and
// verifies it.
func verifyWithAny(jws *jose.JSONWebSignature, keys []jose.JSONWebKey) ([]byte, bool) {
	alg := jws.Signatures[0].Header.Algorithm
	tried := 0
	for i := range keys {
		k := &keys[i]
		if (k.Algorithm != "" && k.Algorithm != alg) || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		if tried++; tried > maxKeyCandidates {
			break
		}
		if payload, err := jws.Verify(k); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func containsAudience(aud audience, want string) bool {
	for _, a := range aud {
		if a == want {
			return true
		}
	}
	return false
}

// mapUser finds the user a trusted issuer's sub names by its
// subject_mapping; nil with mapping none. A sub that names nobody, or a
// disabled account, is a refusal.
func (s *Service) mapUser(ctx context.Context, ti *store.TrustedIssuer, sub string) (*store.User, error) {
	var (
		u   *store.User
		err error
	)
	switch ti.SubjectMapping {
	case oauth.SubjectMappingNone:
		return nil, nil
	case oauth.SubjectMappingUserID:
		u, err = s.accounts.User(ctx, sub)
	case oauth.SubjectMappingUsername:
		u, err = s.users.UserByUsername(ctx, sub)
	case oauth.SubjectMappingEmail:
		u, err = s.users.UserByVerifiedEmail(ctx, sub)
	default:
		return nil, refuse("the issuer's subject mapping is unknown")
	}
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return nil, refuse("the JWT's sub names no user here")
	case err != nil:
		return nil, err
	case u.Disabled:
		return nil, refuse("the JWT's sub names a disabled user")
	}
	return u, nil
}

// trustedIssuer returns a trusted issuer through the cache (shared: callers
// must not modify it); unknown ones are cached briefly, so a stream of
// made-up issuers costs the store one read per issuer per few seconds.
func (s *Service) trustedIssuer(ctx context.Context, iss string) (*store.TrustedIssuer, error) {
	if s.issuers == nil || s.issuerKeys == nil {
		return nil, store.ErrNotFound
	}
	key := hashKey(kindTrustedIssuer, Hash(iss))
	v, err := load(ctx, s, key, iss, func(ctx context.Context, s *Service, iss string) ([]byte, time.Duration, error) {
		ti, err := s.issuers.TrustedIssuerByIssuer(ctx, iss)
		if errors.Is(err, store.ErrNotFound) {
			return nil, negativeTTL, nil
		}
		if err != nil {
			return nil, 0, err
		}
		b, err := json.Marshal(ti)
		return b, mutableTTL, err
	})
	if err != nil {
		return nil, err
	}
	if isNegative(v) {
		return nil, store.ErrNotFound
	}
	if ti, ok := s.memo.get(key, v); ok {
		return ti.(*store.TrustedIssuer), nil
	}
	var ti store.TrustedIssuer
	if err := json.Unmarshal(v, &ti); err != nil {
		return nil, err
	}
	s.memo.put(key, v, &ti)
	return &ti, nil
}

// InvalidateTrustedIssuer drops what the caches hold about a trusted issuer
// after it was created or deleted (before or after nil), on every replica.
func (s *Service) InvalidateTrustedIssuer(ctx context.Context, before, after *store.TrustedIssuer) {
	var keys []string
	for _, ti := range []*store.TrustedIssuer{before, after} {
		if ti != nil {
			keys = append(keys, hashKey(kindTrustedIssuer, Hash(ti.Issuer)))
		}
	}
	if len(keys) == 0 {
		return
	}
	if err := s.invalidate(ctx, keys...); err != nil {
		s.log.Warn("trusted issuer change not yet visible everywhere: cache deletion failed", "error", err.Error())
	}
}

// useOnce spends a JWT's jti until it expires (RFC 7523 §3 item 7): a
// replay cache that cannot decide refuses, as 503.
func (s *Service) useOnce(ctx context.Context, iss, jti string, exp time.Time) (bool, error) {
	h := Hash(iss + "\x00" + jti)
	until := exp.Add(s.opts.Leeway)
	if limit := s.opts.Now().Add(replay.MaxLifetime); until.After(limit) {
		until = limit
	}
	first, err := s.replay.Use(ctx, hashKey("jwtbearer:", h), until)
	if err != nil {
		if errors.Is(err, replay.ErrInvalid) {
			return false, refuse("the JWT's exp cannot be honoured")
		}
		return false, errors.Join(store.ErrUnavailable, err)
	}
	return first, nil
}
