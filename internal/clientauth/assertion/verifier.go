package assertion

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/authd/authd/internal/oauth"
)

// TypeJWTBearer is the only client_assertion_type accepted (RFC 7523 §2.2).
const TypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// MaxSize bounds a client_assertion, checked before any parsing. A client's own
// assertion is a few hundred bytes; a Kubernetes service-account token with
// its pod and node claims about 1.5 KiB; an RS256 JWT with an x5c chain of two
// certificates fits too.
const MaxSize = 8 << 10

// Defaults for Config's zero values.
const (
	DefaultMaxLifetime          = 5 * time.Minute
	DefaultFederatedMaxLifetime = time.Hour
	DefaultLeeway               = 30 * time.Second
)

// Config configures a Verifier. Issuer and Replay are required.
type Config struct {
	// Issuer is authd's issuer identifier (RFC 8414 §2), always an accepted
	// audience, and the default audience of a federated credential.
	Issuer string
	// TokenEndpoint is the token endpoint URL, also accepted as the audience
	// of a client's own assertion (RFC 7523 §3 item 3; OpenID Connect Core
	// §9 says the audience SHOULD be it) unless StrictAudience applies.
	// Further endpoints that take client authentication (PAR, RFC 9126 §2)
	// go in OtherAudiences. "" accepts the issuer only.
	TokenEndpoint  string
	OtherAudiences []string
	// StrictAudience accepts only Issuer, as the single audience value, for
	// every client (draft-ietf-oauth-rfc7523bis, FAPI 2.0 Security Profile
	// §5.3.2.1: the audience-injection attack makes endpoint URLs unsafe
	// audiences). Client.StrictAudience does it for one client, and an
	// assertion typed client-authentication+jwt always gets it.
	StrictAudience bool

	// MaxLifetime bounds a client's own assertion: exp may be at most this far
	// after iat (after now when there is no iat). It also bounds how long a
	// jti is remembered. Zero means DefaultMaxLifetime.
	MaxLifetime time.Duration
	// FederatedMaxLifetime bounds a federated token in the same way, unless
	// its credential says otherwise; at most MaxFederatedLifetime. Zero means
	// DefaultFederatedMaxLifetime.
	FederatedMaxLifetime time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means
	// DefaultLeeway; negative means none.
	Leeway time.Duration

	// Keys reads jwks_uri documents; nil refuses clients registered with a
	// jwks_uri (those with inline jwks still work).
	Keys KeySource
	// IssuerKeys reads trusted issuers' keys; nil refuses federated credentials.
	IssuerKeys IssuerKeys
	// Secrets recovers client_secret_jwt secrets; nil refuses client_secret_jwt.
	Secrets Secrets
	// Replay enforces single use of jti; required.
	Replay Replay

	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier verifies client assertions. It is safe for concurrent use.
type Verifier struct {
	cfg       Config
	audiences []string // accepted for a client's own assertion when not strict
}

// New returns a Verifier for cfg, with defaults filled in.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("assertion: Config.Issuer is required")
	}
	if cfg.Replay == nil {
		return nil, errors.New("assertion: Config.Replay is required (jti must be single-use)")
	}
	if cfg.MaxLifetime < 0 || cfg.FederatedMaxLifetime < 0 {
		return nil, errors.New("assertion: lifetimes must not be negative")
	}
	if cfg.FederatedMaxLifetime > MaxFederatedLifetime {
		return nil, errors.New("assertion: FederatedMaxLifetime is at most 24h")
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if cfg.FederatedMaxLifetime == 0 {
		cfg.FederatedMaxLifetime = DefaultFederatedMaxLifetime
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg, audiences: []string{cfg.Issuer}}
	if cfg.TokenEndpoint != "" {
		v.audiences = append(v.audiences, cfg.TokenEndpoint)
	}
	for _, a := range cfg.OtherAudiences {
		if a != "" {
			v.audiences = append(v.audiences, a)
		}
	}
	return v, nil
}

// Input is what the request carried, as the form parsed it (duplicates already
// refused, RFC 6749 §3.2).
type Input struct {
	AssertionType string // client_assertion_type
	Assertion     string // client_assertion
	ClientID      string // client_id, optional except for federated credentials
}

// Result is a verified assertion: who authenticated, and how.
type Result struct {
	ClientID string
	// Method is MethodPrivateKeyJWT (also for a federated credential) or
	// MethodSecretJWT.
	Method string
	// Federated is the credential that matched, when a trusted issuer's token
	// authenticated the client; nil for the client's own assertion.
	Federated *FederatedCredential
	Issuer    string
	Subject   string
	KeyID     string
	Algorithm string
	// JTI is the assertion's jti ("" only for a federated token without one).
	JTI       string
	ExpiresAt time.Time
}

// Verify checks a parsed assertion against the client it names, which the
// caller looked up by a.ClientID(). Checks, in order: the client's method and
// the assertion's issuer and subject, the alg's family, audience, times, the
// key and signature, and last the single use of jti, so nothing an
// unauthenticated caller sends can use up a jti. A nil error means c
// authenticated.
func (v *Verifier) Verify(ctx context.Context, a *Assertion, c *Client) (*Result, error) {
	if a == nil || c == nil || c.ID != a.clientID {
		return nil, refuse(ReasonClientID, "the client looked up is not the one the assertion names")
	}
	cl := &a.claims
	switch c.Method {
	case MethodPrivateKeyJWT:
		if cl.Issuer != c.ID {
			return v.verifyFederated(ctx, a, c)
		}
	case MethodSecretJWT:
	default:
		return nil, refuse(ReasonMethod, "client is registered for %s", quote(c.Method))
	}

	// A client's own assertion. RFC 7523 §3 items 1 and 2, OpenID Connect Core
	// §9: iss and sub are both the client_id; RFC 7521 §4.2: a client_id
	// parameter, when sent, names the same client (a.clientID is it then).
	if cl.Issuer != c.ID || cl.Subject != c.ID {
		return nil, refuse(ReasonClientID, "iss %s and sub %s must both be the client_id", quote(cl.Issuer), quote(cl.Subject))
	}
	hmac := isHMAC(a.alg)
	if hmac != (c.Method == MethodSecretJWT) {
		// The algorithm family follows the registered method, so a token
		// MACed with a public key as the secret is never tried (RFC 8725 §3.1).
		return nil, refuse(ReasonAlg, "alg %s is not allowed for %s", a.alg, c.Method)
	}
	if v.strictAudience(a, c) {
		if len(cl.Audience) != 1 || cl.Audience[0] != v.cfg.Issuer {
			return nil, refuse(ReasonAudience, "aud must be the issuer identifier, alone")
		}
	} else if !containsAny(cl.Audience, v.audiences) {
		// RFC 7523 §3 item 3: reject a JWT without our identity as an audience.
		return nil, refuse(ReasonAudience, "aud names neither the issuer nor the token endpoint")
	}
	if err := v.checkTimes(cl, v.cfg.MaxLifetime); err != nil {
		return nil, err
	}
	// OpenID Connect Core §9: jti is REQUIRED and single-use.
	if cl.ID == "" {
		return nil, refuse(ReasonClaims, "jti is required")
	}

	if hmac {
		if err := v.verifyHMAC(ctx, a, c); err != nil {
			return nil, err
		}
	} else {
		if err := v.verifyOwnKeys(ctx, a, c); err != nil {
			return nil, err
		}
	}

	exp := cl.Expiry.Time()
	first, err := v.cfg.Replay.Use(ctx, replayKey(c.ID, cl.ID), exp.Add(v.cfg.Leeway))
	if err != nil {
		return nil, fromDependency(ReasonReplay, "replay store", err)
	}
	if !first {
		return nil, refuse(ReasonReplay, "jti was used before")
	}
	return &Result{
		ClientID: c.ID, Method: c.Method,
		Issuer: cl.Issuer, Subject: cl.Subject,
		KeyID: a.kid, Algorithm: string(a.alg), JTI: cl.ID, ExpiresAt: exp,
	}, nil
}

// verifyFederated authenticates c with a token from an issuer one of its
// federated credentials trusts. The client_id parameter is required, since iss
// is not the client (RFC 7521 §4.2 makes it optional only because the client
// is otherwise identified by the assertion). The jti is not single-use: a
// workload token is meant to be presented until it expires, to every audience
// it names, so exp (bounded by the lifetime check) is its replay bound.
func (v *Verifier) verifyFederated(ctx context.Context, a *Assertion, c *Client) (*Result, error) {
	cl := &a.claims
	if oauth.ValidClientID(cl.Issuer) {
		// Not a URL, so not a trusted issuer: a client's own assertion
		// naming another client than the client_id parameter does.
		return nil, refuse(ReasonClientID, "iss %s is not the client_id", quote(cl.Issuer))
	}
	if a.clientIDParam == "" {
		return nil, refuse(ReasonClientID, "a federated credential needs the client_id parameter")
	}
	if v.cfg.IssuerKeys == nil {
		return nil, refuse(ReasonIssuer, "federated credentials are not enabled")
	}
	var fc *FederatedCredential
	issuerKnown := false
	for i := range c.FederatedCredentials {
		f := &c.FederatedCredentials[i]
		if f.Issuer != cl.Issuer {
			continue
		}
		issuerKnown = true
		if f.Subject != cl.Subject {
			continue
		}
		aud := f.Audience
		if aud == "" {
			aud = v.cfg.Issuer
		}
		if cl.Audience.Contains(aud) {
			fc = f
			break
		}
	}
	switch {
	case fc == nil && !issuerKnown:
		return nil, refuse(ReasonIssuer, "issuer %s is not trusted for this client", quote(cl.Issuer))
	case fc == nil && !v.subjectKnown(c, cl.Issuer, cl.Subject):
		return nil, refuse(ReasonSubject, "subject %s is not trusted for issuer %s", quote(cl.Subject), quote(cl.Issuer))
	case fc == nil:
		return nil, refuse(ReasonAudience, "aud does not name the credential's audience")
	}
	if isHMAC(a.alg) {
		return nil, refuse(ReasonAlg, "alg %s is not allowed for a federated credential", a.alg)
	}
	max := v.cfg.FederatedMaxLifetime
	if fc.MaxLifetime > 0 {
		max = min(fc.MaxLifetime, MaxFederatedLifetime)
	}
	if err := v.checkTimes(cl, max); err != nil {
		return nil, err
	}
	keys, err := v.cfg.IssuerKeys.Keys(ctx, fc.Issuer, fc.JWKSURI, a.kid)
	if err != nil {
		return nil, fromDependency(ReasonKey, "issuer keys for "+quote(fc.Issuer), err)
	}
	if err := a.verifyWith(keys); err != nil {
		return nil, err
	}
	return &Result{
		ClientID: c.ID, Method: MethodPrivateKeyJWT, Federated: fc,
		Issuer: cl.Issuer, Subject: cl.Subject,
		KeyID: a.kid, Algorithm: string(a.alg), JTI: cl.ID, ExpiresAt: cl.Expiry.Time(),
	}, nil
}

func (v *Verifier) subjectKnown(c *Client, iss, sub string) bool {
	for _, f := range c.FederatedCredentials {
		if f.Issuer == iss && f.Subject == sub {
			return true
		}
	}
	return false
}

func (v *Verifier) strictAudience(a *Assertion, c *Client) bool {
	return v.cfg.StrictAudience || c.StrictAudience || a.explicitlyTyped
}

// verifyOwnKeys checks the signature against the client's registered keys.
func (v *Verifier) verifyOwnKeys(ctx context.Context, a *Assertion, c *Client) error {
	switch {
	case len(c.JWKS) > 0 && c.JWKSURI != "":
		// RFC 7591 §2: jwks and jwks_uri MUST NOT both be present.
		return refuse(ReasonKey, "client has both jwks and jwks_uri")
	case len(c.JWKS) > 0:
		keys, err := parseJWKS(c.JWKS)
		if err != nil {
			return refuse(ReasonKey, "registered jwks is not a JWK Set")
		}
		return a.verifyWith(keys)
	case c.JWKSURI != "":
		if v.cfg.Keys == nil {
			return refuse(ReasonKey, "jwks_uri is not supported here")
		}
		keys, err := v.cfg.Keys.Keys(ctx, c.JWKSURI, a.kid)
		if err != nil {
			return fromDependency(ReasonKey, "jwks_uri", err)
		}
		return a.verifyWith(keys)
	}
	return refuse(ReasonKey, "client has no registered keys")
}

// verifyHMAC checks a client_secret_jwt assertion with the client's secret.
func (v *Verifier) verifyHMAC(ctx context.Context, a *Assertion, c *Client) error {
	if v.cfg.Secrets == nil {
		return refuse(ReasonMethod, "client_secret_jwt needs a recoverable secret; none is configured")
	}
	secret, err := v.cfg.Secrets.SecretFor(ctx, c)
	if err != nil {
		return fromDependency(ReasonMethod, "client secret", err)
	}
	// RFC 7518 §3.2: the key MUST be at least as long as the hash output.
	// OpenID Connect Core §16.19: the key is the UTF-8 octets of the secret.
	if len(secret) < hmacKeySize(a.alg) {
		return refuse(ReasonKey, "client secret is shorter than %s requires", a.alg)
	}
	if _, err := a.jws.Verify(secret); err != nil {
		return refuse(ReasonSignature, "HMAC does not verify")
	}
	return nil
}

// replayKey namespaces a jti by client and hashes it, so the key is short and
// of a fixed alphabet whatever the jti holds.
func replayKey(clientID, jti string) string {
	h := sha256.Sum256([]byte(jti))
	return "client-assertion:" + clientID + ":" + base64.RawURLEncoding.EncodeToString(h[:])
}

func containsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}
