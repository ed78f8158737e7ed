package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authd/authd/internal/httpapi"
)

// TestIntrospectionJWT: RFC 9701. A resource server that accepts
// application/token-introspection+jwt gets the RFC 7662 answer inside a JWT
// signed with a published key, typed so that it is no access token, for it
// alone; everyone else, and every error, gets JSON as before.
func TestIntrospectionJWT(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.introspectionJWT = true })
	h.addClient("rs", "rs-secret", nil)
	h.addClient("app", "app-secret", nil)
	access := h.token("app", "app-secret", nil)

	jwks := new(jose.JSONWebKeySet)
	if err := json.Unmarshal(h.keys.JWKS(), jwks); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, accept, tok string
		wantJWT, active   bool
	}{
		{"asked for", "application/token-introspection+jwt", access, true, true},
		{"among others", "application/json;q=0.5, application/token-introspection+jwt", access, true, true},
		{"an inactive token", "application/token-introspection+jwt", "not-a-token", true, false},
		{"weight zero", "application/token-introspection+jwt;q=0", access, false, true},
		{"not asked", "application/json", access, false, true},
		{"no Accept", "", access, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.accept != "" {
				opts = append(opts, withHeader("Accept", tc.accept))
			}
			w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {tc.tok}}, append(opts, withBasic("rs", "rs-secret"))...)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d %s", w.Code, w.Body)
			}
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", w.Header().Get("Cache-Control"))
			}
			var answer map[string]any
			if !tc.wantJWT {
				if ct := w.Header().Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=utf-8" {
					t.Fatalf("Content-Type %q", ct)
				}
				answer = decodeJSON(t, w.Body.Bytes())
			} else {
				if ct := w.Header().Get("Content-Type"); ct != "application/token-introspection+jwt" {
					t.Fatalf("Content-Type %q", ct)
				}
				jws, err := jose.ParseSignedCompact(w.Body.String(), []jose.SignatureAlgorithm{jose.ES256})
				if err != nil {
					t.Fatal(err)
				}
				if typ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType]; typ != "token-introspection+jwt" {
					t.Errorf("typ %v", typ)
				}
				keys := jwks.Key(jws.Signatures[0].Header.KeyID)
				if len(keys) != 1 {
					t.Fatalf("kid %q not in the JWKS", jws.Signatures[0].Header.KeyID)
				}
				payload, err := jws.Verify(keys[0])
				if err != nil {
					t.Fatal(err)
				}
				claims := decodeJSON(t, payload)
				if claims["iss"] != issuer || claims["aud"] != "rs" || claims["iat"] == nil {
					t.Errorf("claims %v", claims)
				}
				for _, c := range []string{"sub", "exp", "active", "client_id"} {
					if _, ok := claims[c]; ok {
						t.Errorf("top-level %s: the answer belongs inside token_introspection", c)
					}
				}
				answer, _ = claims["token_introspection"].(map[string]any)
			}
			if answer["active"] != tc.active {
				t.Fatalf("answer %v, want active %v", answer, tc.active)
			}
			if tc.active && answer["client_id"] != "app" {
				t.Errorf("answer %v", answer)
			}
		})
	}

	t.Run("errors stay JSON", func(t *testing.T) {
		w := h.postForm(httpapi.PathIntrospect, url.Values{"token": {access}}, withHeader("Accept", "application/token-introspection+jwt"), withBasic("rs", "wrong"))
		if w.Code != http.StatusUnauthorized || decodeJSON(t, w.Body.Bytes())["error"] != "invalid_client" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("discovery", func(t *testing.T) {
		md := decodeJSON(t, h.do(http.MethodGet, "/.well-known/oauth-authorization-server", "", "").Body.Bytes())
		if algs, _ := md["introspection_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "ES256" {
			t.Errorf("introspection_signing_alg_values_supported = %v", md["introspection_signing_alg_values_supported"])
		}
	})
}
