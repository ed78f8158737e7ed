package token

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/clientauth/assertion"
	"github.com/authd/authd/internal/mtls"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Credentials are what a caller presented to authenticate as a client.
type Credentials struct {
	ClientID string
	Secret   string
	// Method is how they came: oauth.AuthMethodBasic, AuthMethodPost,
	// MethodAssertion, or AuthMethodNone when only a client_id was sent.
	Method string
	// AssertionType and Assertion are client_assertion_type and
	// client_assertion (RFC 7521 §4.2), with Method MethodAssertion.
	AssertionType, Assertion string
	// Cert is the client certificate of the connection (mutual TLS, RFC
	// 8705), nil without one. With a client_id and no other credential it
	// is how tls_client_auth and self_signed_tls_client_auth clients
	// authenticate; for any client it is what tokens may be bound to.
	Cert *mtls.Certificate
}

// MethodAssertion marks credentials that are a JWT client assertion; which
// registered method it is (private_key_jwt, client_secret_jwt) is the
// client's.
const MethodAssertion = "client_assertion"

// dummyHash is compared against when the client does not exist, so an unknown
// client_id costs the same as a wrong secret.
var dummyHash = sha256.Sum256([]byte("authd: no such client"))

// AuthenticateClient checks credentials against the registered client and its
// registered method (RFC 6749 §2.3; RFC 7591 token_endpoint_auth_method).
// Every failure is the same invalid_client, so a caller cannot tell an unknown
// client from a wrong secret.
func (s *Service) AuthenticateClient(ctx context.Context, cr Credentials) (*oauth.Client, error) {
	c, err := s.authenticate(ctx, cr)
	if err != nil {
		return nil, err
	}
	if c.Profile(s.opts.SecurityProfile) == oauth.ProfileFAPI2 && !slices.Contains(oauth.FAPI2AuthMethods, c.TokenEndpointAuthMethod) {
		// FAPI 2.0 Security Profile §5.3.2: confidential clients only, with
		// private_key_jwt or mutual TLS. The client did prove who it is, so
		// saying why reveals nothing.
		return nil, oauth.InvalidClient("the fapi2 profile needs private_key_jwt or mutual TLS client authentication")
	}
	return c, nil
}

// clientAuthFailed is the one answer to every failed client authentication
// (RFC 6749 §5.2), made when one fails, not on every request.
func clientAuthFailed() error { return oauth.InvalidClient("client authentication failed") }

func (s *Service) authenticate(ctx context.Context, cr Credentials) (*oauth.Client, error) {
	if cr.Method == MethodAssertion {
		return s.authenticateAssertion(ctx, cr, clientAuthFailed())
	}
	if !oauth.AcceptableClientID(cr.ClientID) {
		h := sha256.Sum256([]byte(cr.Secret))
		subtle.ConstantTimeCompare(h[:], dummyHash[:])
		return nil, clientAuthFailed()
	}
	c, err := s.client(ctx, cr.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		h := sha256.Sum256([]byte(cr.Secret))
		subtle.ConstantTimeCompare(h[:], dummyHash[:])
		return nil, clientAuthFailed()
	}
	if err != nil {
		return nil, err
	}
	if c.Public() {
		// A public client must not present a secret it does not have.
		if cr.Method != oauth.AuthMethodNone {
			return nil, clientAuthFailed()
		}
		return c, nil
	}
	switch c.TokenEndpointAuthMethod {
	case oauth.AuthMethodTLS, oauth.AuthMethodSelfSignedTLS:
		// RFC 8705 §2: the certificate is the credential; client_id names the
		// client, and nothing else may be sent with it.
		if cr.Method != oauth.AuthMethodNone || cr.Cert == nil {
			return nil, clientAuthFailed()
		}
		if err := s.verifyCertificate(ctx, c, cr.Cert); err != nil {
			if errors.Is(err, errKeysUnavailable) {
				return nil, err
			}
			s.log.LogAttrs(ctx, slog.LevelDebug, "client certificate refused", slog.String("client_id", c.ID), slog.String("reason", err.Error()))
			return nil, clientAuthFailed()
		}
		return c, nil
	}
	if cr.Method != c.TokenEndpointAuthMethod || !c.UsesSecret() || len(c.SecretHash) != sha256.Size {
		return nil, clientAuthFailed()
	}
	h := sha256.Sum256([]byte(cr.Secret))
	if subtle.ConstantTimeCompare(h[:], c.SecretHash) != 1 {
		return nil, clientAuthFailed()
	}
	return c, nil
}

// authenticateAssertion is RFC 7523 §3 client authentication: the assertion
// names its client (or the client_id parameter does, for a federated
// workload token), and verifies against what that client registered.
// Refusals are one invalid_client, whatever the reason, which is logged.
func (s *Service) authenticateAssertion(ctx context.Context, cr Credentials, fail error) (*oauth.Client, error) {
	if s.assertions == nil {
		return nil, fail
	}
	a, err := s.assertions.Parse(assertion.Input{AssertionType: cr.AssertionType, Assertion: cr.Assertion, ClientID: cr.ClientID})
	if err != nil {
		return nil, s.assertionRefused(ctx, cr.ClientID, err, fail)
	}
	c, err := s.client(ctx, a.ClientID())
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.assertionRefused(ctx, a.ClientID(), err, fail)
	}
	if err != nil {
		return nil, err
	}
	switch c.TokenEndpointAuthMethod {
	case oauth.AuthMethodPrivateKeyJWT, oauth.AuthMethodSecretJWT:
	default:
		// RFC 7591 §2: the registered method is the one to use.
		return nil, s.assertionRefused(ctx, c.ID, errors.New("registered for "+c.TokenEndpointAuthMethod), fail)
	}
	fapi2 := c.Profile(s.opts.SecurityProfile) == oauth.ProfileFAPI2
	ac := assertionClient(c)
	// FAPI 2.0 Security Profile §5.3.2 (with RFC 7523bis): the
	// assertion's audience is the issuer identifier alone.
	ac.StrictAudience = fapi2
	res, err := s.assertions.Verify(ctx, a, ac)
	if err != nil {
		return nil, s.assertionRefused(ctx, c.ID, err, fail)
	}
	if fapi2 && !slices.Contains(oauth.FAPI2Algorithms, res.Algorithm) {
		// §5.4: PS256, ES256 or EdDSA. Checked after the signature, so
		// the jti is spent: the request was the client's.
		return nil, s.assertionRefused(ctx, c.ID, errors.New("alg "+res.Algorithm+" is not allowed under fapi2"), fail)
	}
	return c, nil
}

// assertionRefused logs why an assertion failed (never the assertion) and
// answers invalid_client; a key source that is down stays 503.
func (s *Service) assertionRefused(ctx context.Context, clientID string, err, fail error) error {
	if assertion.Unavailable(err) {
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "client assertion refused",
		slog.String("client_id", boundedID(clientID)), slog.String("reason", err.Error()))
	return fail
}

// SecretFor is assertion.Secrets: the secret a client_secret_jwt client's
// assertions are keyed with (RFC 7518 §3.2), unsealed from its record.
func (s *Service) SecretFor(ctx context.Context, ac *assertion.Client) ([]byte, error) {
	if s.opts.OpenSecret == nil {
		return nil, assertion.ErrUnsupported
	}
	c, err := s.client(ctx, ac.ID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, assertion.ErrUnsupported
		}
		return nil, errors.Join(assertion.ErrUnavailable, err)
	}
	if len(c.SecretSealed) == 0 {
		return nil, assertion.ErrUnsupported
	}
	secret, err := s.opts.OpenSecret(c.ID, c.SecretSealed)
	if err != nil {
		// Not an outage: the record is not this client's or was altered.
		s.log.LogAttrs(ctx, slog.LevelError, "a client's sealed secret does not open", slog.String("client_id", c.ID), slog.String("error", err.Error()))
		return nil, assertion.ErrUnsupported
	}
	return secret, nil
}

// assertionClient is what the verifier needs of a client.
func assertionClient(c *oauth.Client) *assertion.Client {
	ac := &assertion.Client{ID: c.ID, Method: c.TokenEndpointAuthMethod, JWKS: c.Metadata.JWKS, JWKSURI: c.Metadata.JWKSURI}
	for _, fc := range c.Metadata.FederatedCredentials {
		ac.FederatedCredentials = append(ac.FederatedCredentials, assertion.FederatedCredential{
			Issuer: fc.Issuer, Subject: fc.Subject, Audience: fc.Audience, JWKSURI: fc.JWKSURI})
	}
	return ac
}

// errKeysUnavailable: the client's jwks_uri could not be read; the request
// is answered 503, not refused.
var errKeysUnavailable = oauth.TemporarilyUnavailable("the client's keys cannot be read; retry shortly", 1)

// verifyCertificate checks cert against what c registered: RFC 8705 §2.1
// (PKI: chain and subject) or §2.2 (self-signed: its key among the client's).
func (s *Service) verifyCertificate(ctx context.Context, c *oauth.Client, cert *mtls.Certificate) error {
	if s.certs == nil {
		return errors.New("mutual TLS is not configured")
	}
	m := mtls.Metadata{
		SubjectDN: c.Metadata.TLSClientAuthSubjectDN, SANDNS: c.Metadata.TLSClientAuthSANDNS,
		SANURI: c.Metadata.TLSClientAuthSANURI, SANIP: c.Metadata.TLSClientAuthSANIP, SANEmail: c.Metadata.TLSClientAuthSANEmail,
	}
	var set *jose.JSONWebKeySet
	if c.TokenEndpointAuthMethod == oauth.AuthMethodSelfSignedTLS {
		set = &jose.JSONWebKeySet{}
		switch {
		case len(c.Metadata.JWKS) > 0:
			if err := json.Unmarshal(c.Metadata.JWKS, set); err != nil {
				return err
			}
		case c.Metadata.JWKSURI != "" && s.clientKeys != nil:
			keys, err := s.clientKeys.Keys(ctx, c.Metadata.JWKSURI, "")
			if assertion.Unavailable(err) {
				return errKeysUnavailable
			}
			if err != nil {
				return err
			}
			set.Keys = keys
		}
	}
	return s.certs.Authenticate(cert, c.TokenEndpointAuthMethod, m, set)
}

// AuthenticateConfidential is AuthenticateClient for endpoints that only
// confidential clients may call (introspection).
func (s *Service) AuthenticateConfidential(ctx context.Context, cr Credentials) (*oauth.Client, error) {
	c, err := s.AuthenticateClient(ctx, cr)
	if err != nil {
		return nil, err
	}
	if c.Public() {
		return nil, oauth.InvalidClient("a confidential client is required")
	}
	return c, nil
}
