package httpapi_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/authzreq"
	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

const parVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func parChallenge() string {
	s := sha256.Sum256([]byte(parVerifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

func parParams(overrides ...string) url.Values {
	v := url.Values{
		"response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}, "scope": {"openid"},
		"state": {"st"}, "code_challenge": {parChallenge()}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(overrides); i += 2 {
		if overrides[i+1] == "" {
			v.Del(overrides[i])
		} else {
			v.Set(overrides[i], overrides[i+1])
		}
	}
	return v
}

func newPARHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, withAssertions(), func(c *harnessConfig) { c.login, c.par = true, true })
	h.addClient("web", "s3cret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"https://app.example/cb"}
		c.Scopes = []string{"openid", "profile"}
	})
	return h
}

// TestPAR: RFC 9126 §2. The client authenticates as at the token endpoint;
// the request is validated before anything is stored; errors are RFC 6749
// §5.2 JSON.
func TestPAR(t *testing.T) {
	h := newPARHarness(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	h.addClient("svc", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodPrivateKeyJWT
		c.SecretHash = nil
		c.Metadata.JWKS = jwks
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"https://app.example/cb"}
		c.Scopes = []string{"openid"}
	})
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	signer := &assertionSigner{t: t, signer: s, now: h.clock.Now}
	withAssertion := func(v url.Values, aud string) url.Values {
		v.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		v.Set("client_assertion", signer.sign("svc", aud, nil))
		return v
	}

	tests := []struct {
		name       string
		form       url.Values
		opts       []reqOpt
		wantStatus int
		wantErr    string
	}{
		{"client_secret_basic", parParams(), []reqOpt{withBasic("web", "s3cret")}, http.StatusCreated, ""},
		{"private_key_jwt, aud the issuer", withAssertion(parParams(), issuer), nil, http.StatusCreated, ""},
		{"private_key_jwt, aud the token endpoint", withAssertion(parParams(), issuer+httpapi.PathToken), nil, http.StatusCreated, ""},
		{"wrong secret", parParams(), []reqOpt{withBasic("web", "nope")}, http.StatusUnauthorized, "invalid_client"},
		{"no authentication", parParams("client_id", "web"), nil, http.StatusUnauthorized, "invalid_client"},
		{"request_uri in the push", parParams("request_uri", "urn:ietf:params:oauth:request_uri:abc"), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "invalid_request"},
		{"unregistered redirect_uri", parParams("redirect_uri", "https://evil.example/cb"), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "invalid_request"},
		{"no PKCE", parParams("code_challenge", ""), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "invalid_request"},
		{"scope not allowed", parParams("scope", "admin"), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "invalid_scope"},
		{"response_type token", parParams("response_type", "token"), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "unsupported_response_type"},
		{"another client_id", parParams("client_id", "svc"), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, "invalid_request"},
		{"unsigned request object", parParams("request", "eyJhbGciOiJub25lIn0.e30."), []reqOpt{withBasic("web", "s3cret")}, http.StatusBadRequest, authzreq.CodeInvalidRequestObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.postForm(httpapi.PathPAR, tc.form, tc.opts...)
			body := decodeJSON(t, w.Body.Bytes())
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", w.Code, tc.wantStatus, body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", w.Header().Get("Cache-Control"))
			}
			if tc.wantErr != "" {
				if body["error"] != tc.wantErr {
					t.Fatalf("error = %v, want %s", body, tc.wantErr)
				}
				return
			}
			uri, _ := body["request_uri"].(string)
			if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(60) {
				t.Fatalf("response = %v", body)
			}
		})
	}
	if w := h.do(http.MethodGet, httpapi.PathPAR, "", ""); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET %s: %d, want 405", httpapi.PathPAR, w.Code)
	}
}

// TestPARDiscovery: RFC 9126 §5, RFC 9101 §10.5, RFC 9207 §3.
func TestPARDiscovery(t *testing.T) {
	for _, required := range []bool{false, true} {
		h := newHarness(t, func(c *harnessConfig) { c.login, c.par, c.requirePAR = true, true, required })
		w := h.do(http.MethodGet, "/.well-known/openid-configuration", "", "")
		m := decodeJSON(t, w.Body.Bytes())
		want := map[string]any{
			"pushed_authorization_request_endpoint":          issuer + httpapi.PathPAR,
			"request_parameter_supported":                    true,
			"request_uri_parameter_supported":                false,
			"authorization_response_iss_parameter_supported": true,
		}
		if required {
			want["require_pushed_authorization_requests"] = true
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("required=%v: %s = %v, want %v", required, k, m[k], v)
			}
		}
		if _, ok := m["require_pushed_authorization_requests"]; ok != required {
			t.Errorf("required=%v: require_pushed_authorization_requests present = %v", required, ok)
		}
		if algs, _ := m["request_object_signing_alg_values_supported"].([]any); len(algs) != len(authzreq.Algorithms()) {
			t.Errorf("request_object_signing_alg_values_supported = %v", m["request_object_signing_alg_values_supported"])
		}
	}
	plain := newHarness(t, func(c *harnessConfig) { c.login = true })
	m := decodeJSON(t, plain.do(http.MethodGet, "/.well-known/openid-configuration", "", "").Body.Bytes())
	if _, ok := m["pushed_authorization_request_endpoint"]; ok || m["request_parameter_supported"] != false {
		t.Errorf("without PAR: %v", m)
	}
}

// TestPARDPoP: RFC 9449 §10.1. The thumbprint of a DPoP proof sent to the
// PAR endpoint becomes the pushed request's dpop_jkt; a dpop_jkt for another
// key, or a proof for another endpoint, is refused.
func TestPARDPoP(t *testing.T) {
	h := newHarness(t, withDPoP(false), func(c *harnessConfig) { c.login, c.par = true, true })
	h.addClient("web", "s3cret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"https://app.example/cb"}
		c.Scopes = []string{"openid"}
	})
	p := newProver(t, h.clock.Now)
	other := newProver(t, h.clock.Now)
	tests := []struct {
		name       string
		form       url.Values
		proofURI   string
		wantStatus int
		wantErr    string
	}{
		{"proof", parParams(), issuer + httpapi.PathPAR, http.StatusCreated, ""},
		{"proof and the same dpop_jkt", parParams("dpop_jkt", p.jkt()), issuer + httpapi.PathPAR, http.StatusCreated, ""},
		{"dpop_jkt of another key", parParams("dpop_jkt", other.jkt()), issuer + httpapi.PathPAR, http.StatusBadRequest, "invalid_request"},
		{"proof for the token endpoint", parParams(), issuer + httpapi.PathToken, http.StatusBadRequest, "invalid_dpop_proof"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.postForm(httpapi.PathPAR, tc.form, withBasic("web", "s3cret"), withHeader("DPoP", p.proof(http.MethodPost, tc.proofURI, "", "")))
			body := decodeJSON(t, w.Body.Bytes())
			if w.Code != tc.wantStatus || (tc.wantErr != "" && body["error"] != tc.wantErr) {
				t.Fatalf("%d %v, want %d %s", w.Code, body, tc.wantStatus, tc.wantErr)
			}
			if tc.wantErr != "" {
				return
			}
			uri := body["request_uri"].(string)
			pr, err := h.db.ConsumePushedRequest(t.Context(), authzreq.HashRequestURI(uri), "web", h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := url.ParseQuery(pr.Params)
			if stored.Get("dpop_jkt") != p.jkt() {
				t.Fatalf("stored dpop_jkt = %q, want the proof's %q", stored.Get("dpop_jkt"), p.jkt())
			}
		})
	}
}
