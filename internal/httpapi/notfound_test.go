package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// TestNotFound: a browser that asks for an unknown address gets a page; API
// clients keep the JSON error.
func TestNotFound(t *testing.T) {
	withLogin := newHarness(t, func(c *harnessConfig) { c.login = true })
	plain := newHarness(t)
	const loginCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
	tests := []struct {
		name     string
		h        *harness
		method   string
		path     string
		accept   string
		wantCode int
		wantHTML bool
		wantCSP  string
	}{
		{"browser, login pages", withLogin, http.MethodGet, "/no/such", browserAccept, 404, true, loginCSP},
		{"browser posting, login pages", withLogin, http.MethodPost, "/no/such", browserAccept, 404, true, loginCSP},
		{"browser, no login pages", plain, http.MethodGet, "/no/such", browserAccept, 404, true, "default-src 'none'; frame-ancestors 'none'"},
		{"no Accept", withLogin, http.MethodGet, "/no/such", "", 404, false, ""},
		{"curl", withLogin, http.MethodGet, "/no/such", "*/*", 404, false, ""},
		{"JSON client", withLogin, http.MethodGet, "/no/such", "application/json", 404, false, ""},
		{"wrong method stays 405 JSON", withLogin, http.MethodGet, httpapi.PathToken, browserAccept, 405, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.h.do(tc.method, tc.path, "", "", withHeader("Accept", tc.accept))
			if w.Code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantCode, w.Body)
			}
			ct := w.Header().Get("Content-Type")
			if !tc.wantHTML {
				if ct != "application/json" || !strings.Contains(w.Body.String(), `"error"`) {
					t.Fatalf("got %s %s, want a JSON error", ct, w.Body)
				}
				return
			}
			body := w.Body.String()
			if ct != "text/html; charset=utf-8" || !strings.Contains(body, "Page not found") ||
				!strings.Contains(body, w.Header().Get("X-Request-Id")) {
				t.Fatalf("got %s:\n%s", ct, body)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != tc.wantCSP {
				t.Errorf("CSP = %q, want %q", got, tc.wantCSP)
			}
			if w.Header().Get("Vary") != "Accept" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers = %v", w.Header())
			}
			if strings.Contains(body, "<script") {
				t.Error("script on the page")
			}
		})
	}
}

// TestLoginAccessLog: the access log names the client of an authorization
// request, and a browser that hangs up is a 499, not an error.
func TestLoginAccessLog(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.login = true; c.api.AccessLog = true })
	h.addClient("web", "web-secret", func(c *oauth.Client) {
		c.GrantTypes = []string{oauth.GrantAuthorizationCode}
		c.RedirectURIs = []string{"https://app.example/cb"}
	})
	q := url.Values{"client_id": {"web"}, "redirect_uri": {"https://app.example/cb"}, "response_type": {"code"},
		"scope": {"read"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}

	since := len(h.logBuf.String())
	w := h.do(http.MethodGet, httpapi.PathAuthorize+"?"+q.Encode(), "", "")
	if w.Code != http.StatusOK {
		t.Fatalf("authorize: %d %s", w.Code, w.Body)
	}
	if l := logLines(t, h.logBuf.String()[since:], "request"); len(l) != 1 || l[0]["client_id"] != "web" {
		t.Errorf("access log = %v", l)
	}

	since = len(h.logBuf.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, httpapi.PathAuthorize+"?"+q.Encode(), nil)
	rec := httptest.NewRecorder()
	h.srv.ServeHTTP(rec, r)
	log := h.logBuf.String()[since:]
	if rec.Code != httpapi.StatusClientClosedRequest || strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("hang-up: %d\n%s", rec.Code, log)
	}
	if l := logLines(t, log, "request"); len(l) != 1 || l[0]["status"] != 499.0 {
		t.Errorf("access log = %v", l)
	}
}
