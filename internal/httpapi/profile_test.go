package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// TestFAPI2Profile: a client held to FAPI 2.0 authenticates only with a key
// (a secret is refused even when right), its assertion names the issuer alone
// and uses PS256/ES256/EdDSA, and its access tokens are sender-constrained;
// an OAuth 2.1 client has no password grant. A default client keeps doing
// what the profile refuses.
func TestFAPI2Profile(t *testing.T) {
	h := newHarness(t, withAssertions(), withDPoP(false))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &ec.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"},
		{Key: &rs.PublicKey, KeyID: "rs", Algorithm: "RS256", Use: "sig"}}})
	keyClient := func(id, profile string) {
		h.addClient(id, "", func(c *oauth.Client) {
			c.TokenEndpointAuthMethod, c.SecretHash = oauth.AuthMethodPrivateKeyJWT, nil
			c.Metadata.JWKS, c.Metadata.SecurityProfile = jwks, profile
		})
	}
	keyClient("fapi", oauth.ProfileFAPI2)
	keyClient("plain", "")
	h.addClient("fapi-secret", "s3cret", func(c *oauth.Client) { c.Metadata.SecurityProfile = oauth.ProfileFAPI2 })
	h.addClient("o21", "s3cret", func(c *oauth.Client) {
		c.Metadata.SecurityProfile = oauth.ProfileOAuth21
		c.GrantTypes = append(c.GrantTypes, oauth.GrantPassword)
	})
	signer := func(alg jose.SignatureAlgorithm, key any, kid string) *assertionSigner {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		return &assertionSigner{t: t, signer: s, now: h.clock.Now}
	}
	es, rs256 := signer(jose.ES256, ec, "ec"), signer(jose.RS256, rs, "rs")
	prover := newProver(t, h.clock.Now)
	grant := func(a string, opts ...reqOpt) (int, map[string]any) {
		w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}, opts...)
		return w.Code, decodeJSON(t, w.Body.Bytes())
	}
	dpopProof := func() reqOpt { return withDPoPProof(prover.proof(http.MethodPost, issuer+httpapi.PathToken, "", "")) }

	tests := []struct {
		name   string
		status int
		code   string
		do     func() (int, map[string]any)
	}{
		{"fapi2: ES256, aud the issuer, DPoP", 200, "", func() (int, map[string]any) { return grant(es.sign("fapi", issuer, nil), dpopProof()) }},
		{"fapi2: a bearer token", 400, "invalid_request", func() (int, map[string]any) { return grant(es.sign("fapi", issuer, nil)) }},
		{"fapi2: aud the token endpoint", 401, "invalid_client", func() (int, map[string]any) {
			return grant(es.sign("fapi", issuer+httpapi.PathToken, nil), dpopProof())
		}},
		{"fapi2: RS256", 401, "invalid_client", func() (int, map[string]any) { return grant(rs256.sign("fapi", issuer, nil), dpopProof()) }},
		{"fapi2: an RS256 DPoP proof", 400, "invalid_dpop_proof", func() (int, map[string]any) {
			return grant(es.sign("fapi", issuer, nil), withDPoPProof(rsaProof(t, rs, http.MethodPost, issuer+httpapi.PathToken)))
		}},
		{"default: an RS256 DPoP proof", 200, "", func() (int, map[string]any) {
			return grant(rs256.sign("plain", issuer, nil), withDPoPProof(rsaProof(t, rs, http.MethodPost, issuer+httpapi.PathToken)))
		}},
		{"fapi2: the right secret", 401, "invalid_client", func() (int, map[string]any) {
			w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("fapi-secret", "s3cret"), dpopProof())
			return w.Code, decodeJSON(t, w.Body.Bytes())
		}},
		{"default: RS256, the token endpoint, bearer", 200, "", func() (int, map[string]any) {
			return grant(rs256.sign("plain", issuer+httpapi.PathToken, nil))
		}},
		{"oauth2.1: password", 400, "unauthorized_client", func() (int, map[string]any) {
			w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, withBasic("o21", "s3cret"))
			return w.Code, decodeJSON(t, w.Body.Bytes())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.do()
			if status != tc.status || (tc.code != "" && body["error"] != tc.code) {
				t.Fatalf("%d %v, want %d %s", status, body, tc.status, tc.code)
			}
			if tc.status == 200 && tc.name[:5] == "fapi2" && body["token_type"] != "DPoP" {
				t.Errorf("token_type %v", body["token_type"])
			}
		})
	}
}

// TestPKCEPolicy: a confidential client registered with require_pkce false
// may redeem a code requested without PKCE, but not send a code_verifier for
// it (RFC 9700 §2.1.1, the downgrade); a code requested with PKCE still needs
// its verifier; every other client needs PKCE.
func TestPKCEPolicy(t *testing.T) {
	h, u := userSetup(t)
	no := false
	h.addClient("legacy", "legacy-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{redirect}
		c.Scopes = []string{"openid"}
		c.Metadata.RequirePKCE = &no
	})
	noChallenge := func(c *store.AuthCode) { c.CodeChallenge = "" }
	tests := []struct {
		name, client, secret, verifier string
		mod                            func(*store.AuthCode)
		status                         int
		code                           string
	}{
		{"exempt, no PKCE", "legacy", "legacy-secret", "", noChallenge, 200, ""},
		{"exempt, a verifier for a code without a challenge", "legacy", "legacy-secret", rfcVerifier, noChallenge, 400, "invalid_grant"},
		{"exempt, but the code was asked with PKCE", "legacy", "legacy-secret", "", nil, 400, "invalid_request"},
		{"exempt, with PKCE", "legacy", "legacy-secret", rfcVerifier, nil, 200, ""},
		{"not exempt", "web", "web-secret", "", noChallenge, 400, "invalid_request"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := h.code("pkce-"+string(rune('a'+i)), tc.client, u.ID, "openid", tc.mod)
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}}
			if tc.verifier != "" {
				f.Set("code_verifier", tc.verifier)
			}
			w := h.postForm(httpapi.PathToken, f, withBasic(tc.client, tc.secret))
			if body := decodeJSON(t, w.Body.Bytes()); w.Code != tc.status || (tc.code != "" && body["error"] != tc.code) {
				t.Fatalf("%d %v, want %d %s", w.Code, body, tc.status, tc.code)
			}
		})
	}
}

// TestFAPI2RefreshGrace: a fapi2 client's rotated refresh token works again
// within the grace window even when the server's grace is off (FAPI 2.0
// rotates only with one); a default client's reuse revokes the family.
func TestFAPI2RefreshGrace(t *testing.T) {
	h, u := userSetup(t, withAssertions(), withDPoP(false)) // RefreshReuseGrace 0
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ec.PublicKey, KeyID: "ec", Algorithm: "ES256", Use: "sig"}}})
	for _, id := range []string{"bank", "plain"} {
		h.addClient(id, "", func(c *oauth.Client) {
			c.TokenEndpointAuthMethod, c.SecretHash = oauth.AuthMethodPrivateKeyJWT, nil
			c.GrantTypes = []string{oauth.GrantAuthorizationCode, oauth.GrantRefreshToken}
			c.RedirectURIs, c.Scopes = []string{redirect}, []string{"openid"}
			c.Metadata.JWKS = jwks
			if id == "bank" {
				c.Metadata.SecurityProfile = oauth.ProfileFAPI2
			}
		})
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: ec}, (&jose.SignerOptions{}).WithHeader("kid", "ec").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	signer := &assertionSigner{t: t, signer: s, now: h.clock.Now}
	prover := newProver(t, h.clock.Now)
	post := func(id string, f url.Values) (int, map[string]any) {
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", signer.sign(id, issuer, nil))
		w := h.postForm(httpapi.PathToken, f, withDPoPProof(prover.proof(http.MethodPost, issuer+httpapi.PathToken, "", "")))
		return w.Code, decodeJSON(t, w.Body.Bytes())
	}
	for id, wantRetry := range map[string]int{"bank": 200, "plain": 400} {
		t.Run(id, func(t *testing.T) {
			code := h.code("grace-"+id, id, u.ID, "openid", nil)
			status, first := post(id, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {rfcVerifier}})
			if status != 200 {
				t.Fatalf("code: %d %v", status, first)
			}
			rt := first["refresh_token"].(string)
			if status, body := post(id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); status != 200 {
				t.Fatalf("refresh: %d %v", status, body)
			}
			if status, body := post(id, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); status != wantRetry {
				t.Fatalf("the rotated token again at once: %d %v, want %d", status, body, wantRetry)
			}
		})
	}
}

// rsaProof is a DPoP proof (RFC 9449 §4.2) signed with RS256.
func rsaProof(t *testing.T, key *rsa.PrivateKey, method, uri string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"jti": rand.Text(), "htm": method, "htu": uri, "iat": time.Now().Unix()})
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}
