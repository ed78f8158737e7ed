package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
)

func TestDiscovery(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		t.Run(path, func(t *testing.T) {
			w := h.do(http.MethodGet, path, "", "")
			if w.Code != 200 {
				t.Fatalf("%d", w.Code)
			}
			if cc := w.Header().Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
				t.Errorf("Cache-Control = %q, want public", cc)
			}
			golden(t, "discovery.json", w.Body.Bytes())
			var m map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			// RFC 8414 §3.3: the issuer must be the one the document is for.
			if m["issuer"] != issuer {
				t.Errorf("issuer = %v", m["issuer"])
			}
		})
	}
}

// TestDiscoveryOIDC: with OpenID Connect on, the document advertises the
// browser endpoints, end_session_endpoint among them (RP-Initiated Logout 1.0
// §2.1); the golden above is the OAuth-only document, which must not.
func TestDiscoveryOIDC(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) {
		c.api.OIDC = true
		c.api.IDTokenAlg = "RS256"
	})
	w := h.do(http.MethodGet, "/.well-known/openid-configuration", "", "")
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); w.Code != 200 || err != nil {
		t.Fatalf("%d %v", w.Code, err)
	}
	for k, want := range map[string]string{
		"issuer":                 issuer,
		"authorization_endpoint": issuer + "/oauth2/authorize",
		"userinfo_endpoint":      issuer + "/oauth2/userinfo",
		"end_session_endpoint":   issuer + "/logout",
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %s", k, m[k], want)
		}
	}
	plain := newHarness(t)
	if w := plain.do(http.MethodGet, "/.well-known/openid-configuration", "", ""); strings.Contains(w.Body.String(), "end_session_endpoint") {
		t.Error("end_session_endpoint advertised without OpenID Connect")
	}
}

// TestDiscoveryLogout: with logout notifications on, the four Back-Channel
// (§2.1) and Front-Channel (§3) Logout fields are true and sid is a claim;
// without, none of them is there.
func TestDiscoveryLogout(t *testing.T) {
	fields := []string{"backchannel_logout_supported", "backchannel_logout_session_supported",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported"}
	for _, on := range []bool{true, false} {
		h := newHarness(t, func(c *harnessConfig) {
			c.api.OIDC = true
			c.api.IDTokenAlg = "RS256"
			c.api.LogoutNotifications = on
		})
		w := h.do(http.MethodGet, "/.well-known/openid-configuration", "", "")
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); w.Code != 200 || err != nil {
			t.Fatalf("%d %v", w.Code, err)
		}
		for _, f := range fields {
			if got, has := m[f]; on && got != true || !on && has {
				t.Errorf("logout on %v: %s = %v", on, f, got)
			}
		}
		if has := slices.Contains(m["claims_supported"].([]any), any("sid")); has != on {
			t.Errorf("logout on %v: sid in claims_supported %v", on, has)
		}
	}
}

func TestJWKS(t *testing.T) {
	h := newHarness(t)
	w := h.do(http.MethodGet, httpapi.PathJWKS, "", "")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if !strings.HasPrefix(w.Header().Get("Cache-Control"), "public, max-age=") {
		t.Errorf("Cache-Control = %q", w.Header().Get("Cache-Control"))
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	// One key per purpose (access tokens, id_tokens), both ES256 here.
	if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("jwks = %s (%v)", w.Body, err)
	}
	if set.Keys[0]["kid"] == set.Keys[1]["kid"] {
		t.Fatalf("both purposes share a key: %s", w.Body)
	}
	for _, k := range set.Keys {
		if k["kty"] != "EC" || k["alg"] != "ES256" || k["use"] != "sig" || k["kid"] == "" || k["d"] != nil {
			t.Fatalf("key = %v", k)
		}
	}
	// A conditional request with the ETag is answered 304.
	etag := w.Header().Get("ETag")
	if w2 := h.do(http.MethodGet, httpapi.PathJWKS, "", "", withHeader("If-None-Match", etag)); w2.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w2.Code)
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	hex := regexp.MustCompile(`^[0-9a-f]{24}$`)
	tests := []struct {
		name string
		sent string
		want func(string) bool
	}{
		{"generated", "", hex.MatchString},
		{"echoed", "abc-123_x.y:z", func(s string) bool { return s == "abc-123_x.y:z" }},
		{"unsafe replaced", "bad\"id<script>", hex.MatchString},
		{"too long replaced", strings.Repeat("a", 200), hex.MatchString},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []reqOpt
			if tc.sent != "" {
				opts = append(opts, withHeader("X-Request-Id", tc.sent))
			}
			for _, path := range []string{"/healthz", "/nope", httpapi.PathToken} {
				w := h.do(http.MethodGet, path, "", "", opts...)
				if got := w.Header().Get("X-Request-Id"); !tc.want(got) {
					t.Fatalf("%s: X-Request-Id = %q", path, got)
				}
				if w.Header().Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("%s: security headers missing", path)
				}
			}
		})
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t)
	if w := h.do(http.MethodGet, "/healthz", "", ""); w.Code != 200 {
		t.Fatalf("healthz %d", w.Code)
	}
	w := h.do(http.MethodGet, "/readyz", "", "")
	if w.Code != 200 || decodeJSON(t, w.Body.Bytes())["checks"].(map[string]any)["store"] != "ok" {
		t.Fatalf("readyz %d %s", w.Code, w.Body)
	}
	h.db.Close()
	w = h.do(http.MethodGet, "/readyz", "", "")
	body := w.Body.String()
	if w.Code != 503 || !strings.Contains(body, `"store":"unavailable"`) {
		t.Fatalf("readyz with store closed: %d %s", w.Code, body)
	}
	if strings.Contains(strings.ToLower(body), "sql") || strings.Contains(body, "closed") {
		t.Fatalf("readyz leaks detail: %s", body)
	}
}

func TestServerErrorHidesDetail(t *testing.T) {
	h := newHarness(t)
	h.addClient("svc", "svc-secret", nil)
	h.db.Close() // every store call now fails
	w := h.do(http.MethodPost, httpapi.PathToken, "application/x-www-form-urlencoded", "grant_type=client_credentials", withBasic("svc", "svc-secret"))
	if w.Code != 500 && w.Code != 503 {
		t.Fatalf("status %d %s", w.Code, w.Body)
	}
	m := decodeJSON(t, w.Body.Bytes())
	if m["error"] != "server_error" && m["error"] != "temporarily_unavailable" {
		t.Fatalf("error = %v", m)
	}
	if _, ok := m["error_description"]; ok {
		t.Fatalf("server error shows detail: %s", w.Body)
	}
	if !strings.Contains(h.logBuf.String(), w.Header().Get("X-Request-Id")) {
		t.Error("server error not logged with its request id")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		method, path string
		wantStatus   int
		wantAllow    string
	}{
		{http.MethodGet, httpapi.PathToken, 405, "POST"},
		{http.MethodPut, httpapi.PathIntrospect, 405, "POST"},
		{http.MethodPost, httpapi.PathJWKS, 405, "GET, HEAD"},
		{http.MethodDelete, httpapi.PathUserInfo, 405, "GET, POST"},
		{http.MethodGet, "/no/such/path", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := h.do(tc.method, tc.path, "", "")
			if w.Code != tc.wantStatus || w.Header().Get("Allow") != tc.wantAllow {
				t.Fatalf("got %d Allow=%q", w.Code, w.Header().Get("Allow"))
			}
			decodeJSON(t, w.Body.Bytes())
		})
	}
}
