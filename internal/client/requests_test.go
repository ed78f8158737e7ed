package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
)

// TestRequestMetadata: require_pushed_authorization_requests (RFC 9126 §6)
// is kept; request_object_signing_alg (RFC 9101 §10.5) must be an alg authd
// verifies, with keys to verify it.
func TestRequestMetadata(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := jwksOf(t, jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k", Use: "sig"})
	pkj := oauth.AuthMethodPrivateKeyJWT
	web := func(m oauth.ClientMetadata, method string) client.Metadata {
		return client.Metadata{TokenEndpointAuthMethod: method, GrantTypes: []string{oauth.GrantAuthorizationCode},
			RedirectURIs: []string{"https://app.example/cb"}, ClientMetadata: m}
	}
	tests := []struct {
		name      string
		m         client.Metadata
		wantField string
	}{
		{"require PAR", web(oauth.ClientMetadata{RequirePushedAuthorizationRequests: true}, ""), ""},
		{"ES256 request objects", web(oauth.ClientMetadata{JWKS: jwks, RequestObjectSigningAlg: "ES256"}, pkj), ""},
		{"jwks_uri, PS256", web(oauth.ClientMetadata{JWKSURI: "https://app.example/jwks", RequestObjectSigningAlg: "PS256"}, pkj), ""},
		{"none", web(oauth.ClientMetadata{JWKS: jwks, RequestObjectSigningAlg: "none"}, pkj), "request_object_signing_alg"},
		{"HMAC", web(oauth.ClientMetadata{JWKS: jwks, RequestObjectSigningAlg: "HS256"}, pkj), "request_object_signing_alg"},
		{"no keys", web(oauth.ClientMetadata{RequestObjectSigningAlg: "ES256"}, ""), "request_object_signing_alg"},
	}
	svc := newKeyService(t, false)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := svc.Create(context.Background(), tc.m, client.Caller{Credential: "admin-token"})
			if tc.wantField != "" {
				var im *client.InvalidMetadata
				if !errors.As(err, &im) || im.Field != tc.wantField {
					t.Fatalf("err = %v, want invalid %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored, err := svc.Get(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Metadata.RequirePushedAuthorizationRequests != tc.m.RequirePushedAuthorizationRequests ||
				stored.Metadata.RequestObjectSigningAlg != tc.m.RequestObjectSigningAlg {
				t.Fatalf("stored %+v", stored.Metadata)
			}
		})
	}
}
