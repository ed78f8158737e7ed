package assertion

import (
	"errors"
	"net/url"
	"time"
)

// Token endpoint authentication methods this package verifies (RFC 7591 §2,
// OpenID Connect Core §9).
const (
	MethodPrivateKeyJWT = "private_key_jwt"
	MethodSecretJWT     = "client_secret_jwt"
)

// Client is what verification needs to know of a registered client. The caller
// builds it from its own client record (oauth.Client and the store gain the
// fields for it); this package never reads the store.
type Client struct {
	// ID is the client_id.
	ID string
	// Method is the registered token_endpoint_auth_method; only
	// MethodPrivateKeyJWT and MethodSecretJWT can authenticate with an
	// assertion (RFC 7591 §2: the registered method is the one to use).
	Method string
	// JWKS is the registered jwks value, a JWK Set as raw JSON (RFC 7591 §2),
	// or nil. JWKS and JWKSURI are mutually exclusive.
	JWKS []byte
	// JWKSURI is the registered jwks_uri, read through the KeySource.
	JWKSURI string
	// FederatedCredentials are the workload identities that may authenticate
	// as this client (private_key_jwt only). A client may have them and no
	// keys of its own.
	FederatedCredentials []FederatedCredential
	// StrictAudience makes this client's own assertions name exactly this
	// server's issuer identifier as their only audience, as
	// draft-ietf-oauth-rfc7523bis and FAPI 2.0 ask; the verifier's
	// Config.StrictAudience does it for every client.
	StrictAudience bool
}

// FederatedCredential trusts tokens from Issuer about Subject, addressed to
// Audience, as authentication of the client that lists it.
type FederatedCredential struct {
	// Issuer is compared exactly with iss. It is an https URL, so it can never
	// equal a client_id (which has no ':' or '/'); Verify relies on that to
	// tell a client's own assertion from a federated one.
	Issuer string
	// Subject is compared exactly with sub, e.g.
	// "system:serviceaccount:payments:api" or "spiffe://example.org/ns/payments/sa/api".
	Subject string
	// Audience must be one of the token's aud values; "" means the verifier's
	// issuer identifier.
	Audience string
	// JWKSURI, when set, is where the issuer's keys are, instead of the
	// jwks_uri of its OpenID Connect discovery document (clusters whose
	// discovery endpoint is not reachable publish the JWKS elsewhere).
	JWKSURI string
	// MaxLifetime overrides Config.FederatedMaxLifetime for this issuer
	// (EKS-style 24-hour projected tokens); 0 keeps the default. It is capped
	// at MaxFederatedLifetime.
	MaxLifetime time.Duration
}

// MaxFederatedLifetime is the longest lifetime (exp − iat) a federated token
// may have, whatever a credential or the configuration says. A workload token
// is a bearer credential reused until it expires, so its lifetime is its
// replay window; a day is what the longest-lived common issuer (EKS projected
// service-account tokens) uses by default.
const MaxFederatedLifetime = 24 * time.Hour

// Limits on a federated credential's strings, well above real values.
const (
	maxIssuerLength  = 512
	maxSubjectLength = 512
)

// Validate checks a credential as registration should before storing it: an
// https issuer without query or fragment (OpenID Connect Discovery §4.3
// compares it exactly with iss), a non-empty subject, an optional https
// jwks_uri, a lifetime within MaxFederatedLifetime.
func (f FederatedCredential) Validate() error {
	if len(f.Issuer) > maxIssuerLength || !httpsURL(f.Issuer) {
		return errors.New("federated credential: issuer must be an https URL without query or fragment")
	}
	if f.Subject == "" || len(f.Subject) > maxSubjectLength {
		return errors.New("federated credential: subject is required (at most 512 characters)")
	}
	if len(f.Audience) > maxIssuerLength {
		return errors.New("federated credential: audience is too long")
	}
	if f.JWKSURI != "" && !httpsURL(f.JWKSURI) {
		return errors.New("federated credential: jwks_uri must be an https URL")
	}
	if f.MaxLifetime < 0 || f.MaxLifetime > MaxFederatedLifetime {
		return errors.New("federated credential: max lifetime must be between 0 and 24h")
	}
	return nil
}

func httpsURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil &&
		u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery
}
