package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/store"
)

// TestLoopbackRedirectURIAtToken: RFC 8252 §7.3 lets the authorization
// request use any port on a loopback redirect URI, but the token request must
// still repeat the redirect_uri of that authorization request exactly (RFC
// 6749 §4.1.3), port included: the code records the URI as sent.
func TestLoopbackRedirectURIAtToken(t *testing.T) {
	h, u := userSetup(t)
	h.addClient("native", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"http://127.0.0.1/cb"}
		c.Scopes = []string{"openid"}
	})
	const used = "http://127.0.0.1:51004/cb"
	tests := []struct {
		name       string
		redirect   string
		wantStatus int
	}{
		{"the port the authorization request used", used, 200},
		{"another port", "http://127.0.0.1:51005/cb", 400},
		{"the registered URI without port", "http://127.0.0.1/cb", 400},
		{"omitted", "", 400},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code := h.code("loop-"+string(rune('a'+i)), "native", u.ID, "openid", func(c *store.AuthCode) { c.RedirectURI = used })
			f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {rfcVerifier}, "client_id": {"native"}}
			if tc.redirect != "" {
				f.Set("redirect_uri", tc.redirect)
			}
			status, body := h.exchange(f)
			if status != tc.wantStatus || (status != 200 && body["error"] != "invalid_grant") {
				t.Fatalf("got %d %v, want %d", status, body, tc.wantStatus)
			}
		})
	}
}

// TestLoopbackRedirectURIAtAuthorize: the browser flow takes a loopback
// redirect URI on the port a native app chose (RFC 8252 §7.3), through
// oauth.Client.HasRedirectURI, and nothing looser.
func TestLoopbackRedirectURIAtAuthorize(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.login = true })
	h.addClient("native", "", func(c *oauth.Client) {
		c.TokenEndpointAuthMethod = oauth.AuthMethodNone
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"http://127.0.0.1/cb", "http://localhost:8000/cb"}
		c.Scopes = []string{"openid"}
	})
	tests := []struct {
		redirect string
		accepted bool
	}{
		{"http://127.0.0.1:51004/cb", true},
		{"http://127.0.0.1/cb", true},
		{"http://127.0.0.1:51004/cb/other", false},
		{"http://127.0.0.1:51004@evil.example/cb", false},
		{"http://localhost:8000/cb", true},
		{"http://localhost:8001/cb", false}, // RFC 8252 §8.3: localhost is exact
	}
	for _, tc := range tests {
		t.Run(tc.redirect, func(t *testing.T) {
			q := url.Values{"response_type": {"code"}, "client_id": {"native"}, "redirect_uri": {tc.redirect}, "scope": {"openid"},
				"state": {"s"}, "code_challenge": {rfcChallenge}, "code_challenge_method": {"S256"}}
			w := h.do(http.MethodGet, httpapi.PathAuthorize+"?"+q.Encode(), "", "")
			refused := w.Code == http.StatusBadRequest && strings.Contains(w.Body.String(), "not registered")
			if accepted := w.Code < 400; accepted != tc.accepted || refused == tc.accepted {
				t.Fatalf("accepted = %v, want %v: %d %.200s", accepted, tc.accepted, w.Code, w.Body)
			}
		})
	}
}
