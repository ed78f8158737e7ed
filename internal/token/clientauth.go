package token

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// Credentials are what a caller presented to authenticate as a client.
type Credentials struct {
	ClientID string
	Secret   string
	// Method is how they came: oauth.AuthMethodBasic, AuthMethodPost, or
	// AuthMethodNone when only a client_id was sent.
	Method string
}

// dummyHash is compared against when the client does not exist, so an unknown
// client_id costs the same as a wrong secret.
var dummyHash = sha256.Sum256([]byte("authd: no such client"))

// AuthenticateClient checks credentials against the registered client and its
// registered method (RFC 6749 §2.3; RFC 7591 token_endpoint_auth_method).
// Every failure is the same invalid_client, so a caller cannot tell an unknown
// client from a wrong secret.
func (s *Service) AuthenticateClient(ctx context.Context, cr Credentials) (*oauth.Client, error) {
	fail := oauth.InvalidClient("client authentication failed")
	if !oauth.ValidClientID(cr.ClientID) {
		h := sha256.Sum256([]byte(cr.Secret))
		subtle.ConstantTimeCompare(h[:], dummyHash[:])
		return nil, fail
	}
	c, err := s.client(ctx, cr.ClientID)
	if errors.Is(err, store.ErrNotFound) {
		h := sha256.Sum256([]byte(cr.Secret))
		subtle.ConstantTimeCompare(h[:], dummyHash[:])
		return nil, fail
	}
	if err != nil {
		return nil, err
	}
	if c.Public() {
		// A public client must not present a secret it does not have.
		if cr.Method != oauth.AuthMethodNone {
			return nil, fail
		}
		return c, nil
	}
	if cr.Method != c.TokenEndpointAuthMethod || len(c.SecretHash) != sha256.Size {
		return nil, fail
	}
	h := sha256.Sum256([]byte(cr.Secret))
	if subtle.ConstantTimeCompare(h[:], c.SecretHash) != 1 {
		return nil, fail
	}
	return c, nil
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
