package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/client"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// TestSecurityProfiles: registration refuses what the client's profile (its
// own, or the server's default) would refuse at every request, and the
// PKCE exemption only for confidential clients outside FAPI 2.0.
func TestSecurityProfiles(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := jwksOf(t, jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "k1"})
	no, yes := false, true
	keyed := func(m client.Metadata) client.Metadata {
		m.TokenEndpointAuthMethod, m.JWKS = oauth.AuthMethodPrivateKeyJWT, jwks
		return m
	}
	code := client.Metadata{GrantTypes: []string{oauth.GrantAuthorizationCode}, RedirectURIs: []string{"https://app.example/cb"}}
	with := func(m client.Metadata, f func(*client.Metadata)) client.Metadata { f(&m); return m }
	tests := []struct {
		name, serverDefault string
		m                   client.Metadata
		field               string // of the refusal; "" accepted
		check               func(t *testing.T, c *oauth.Client)
	}{
		{name: "fapi2 with a key", m: keyed(with(code, func(m *client.Metadata) { m.SecurityProfile = oauth.ProfileFAPI2 }))},
		{name: "fapi2 with a secret", m: with(code, func(m *client.Metadata) { m.SecurityProfile = oauth.ProfileFAPI2 }), field: "token_endpoint_auth_method"},
		{name: "fapi2 by the server's default, with a secret", serverDefault: oauth.ProfileFAPI2, m: code, field: "token_endpoint_auth_method"},
		{name: "default opts out of the server's fapi2", serverDefault: oauth.ProfileFAPI2, m: with(code, func(m *client.Metadata) { m.SecurityProfile = oauth.ProfileDefault })},
		{name: "fapi2 public", m: with(code, func(m *client.Metadata) {
			m.SecurityProfile, m.TokenEndpointAuthMethod = oauth.ProfileFAPI2, oauth.AuthMethodNone
		}), field: "token_endpoint_auth_method"},
		{name: "oauth2.1 password", m: with(code, func(m *client.Metadata) {
			m.SecurityProfile, m.GrantTypes = oauth.ProfileOAuth21, []string{oauth.GrantAuthorizationCode, oauth.GrantPassword}
		}), field: "grant_types"},
		{name: "fapi2 password", m: keyed(with(code, func(m *client.Metadata) {
			m.SecurityProfile, m.GrantTypes = oauth.ProfileFAPI2, []string{oauth.GrantPassword}
		})), field: "grant_types"},
		{name: "an unknown profile", m: with(code, func(m *client.Metadata) { m.SecurityProfile = "fapi1" }), field: "security_profile"},
		{name: "a confidential client without PKCE", m: with(code, func(m *client.Metadata) { m.RequirePKCE = &no }), check: func(t *testing.T, c *oauth.Client) {
			if c.RequiresPKCE(c.Profile("")) {
				t.Error("the exemption was not kept")
			}
		}},
		{name: "require_pkce true is the default", m: with(code, func(m *client.Metadata) { m.RequirePKCE = &yes }), check: func(t *testing.T, c *oauth.Client) {
			if c.Metadata.RequirePKCE != nil {
				t.Error("require_pkce true stored")
			}
		}},
		{name: "a public client without PKCE", m: with(code, func(m *client.Metadata) {
			m.RequirePKCE, m.TokenEndpointAuthMethod = &no, oauth.AuthMethodNone
		}), field: "require_pkce"},
		{name: "id_token_signed_response_alg RS256", m: with(code, func(m *client.Metadata) { m.IDTokenSignedResponseAlg = "RS256" })},
		{name: "id_token_signed_response_alg none", m: with(code, func(m *client.Metadata) { m.IDTokenSignedResponseAlg = "none" }), field: "id_token_signed_response_alg"},
		{name: "id_token_signed_response_alg HS256", m: with(code, func(m *client.Metadata) { m.IDTokenSignedResponseAlg = "HS256" }), field: "id_token_signed_response_alg"},
		{name: "fapi2 without PKCE", m: keyed(with(code, func(m *client.Metadata) {
			m.RequirePKCE, m.SecurityProfile = &no, oauth.ProfileFAPI2
		})), field: "require_pkce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := client.New(dbtest.SQLite(t), client.Options{Grants: []string{oauth.GrantAuthorizationCode, oauth.GrantPassword},
				SecurityProfile: tc.serverDefault, IDTokenAlgs: []string{"ES256", "RS256"}})
			c, err := svc.Validate(tc.m)
			var im *client.InvalidMetadata
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field != "" && (!errors.As(err, &im) || im.Field != tc.field):
				t.Fatalf("err %v, want invalid %s", err, tc.field)
			}
			if err == nil && tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
