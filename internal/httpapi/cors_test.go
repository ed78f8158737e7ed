package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/token"
)

const (
	spaOrigin     = "https://app.example"     // derived from the public client's redirect URI
	consoleOrigin = "https://console.example" // listed by the confidential client svc
	otherOrigin   = "https://other.example"   // listed by another client only
	evilOrigin    = "https://evil.example"    // listed by no one
)

// corsSetup adds to userSetup's clients a confidential client that lists an
// origin and one whose origin svc does not share.
func corsSetup(t testing.TB, configure ...func(*harnessConfig)) *harness {
	t.Helper()
	h, _ := userSetup(t, configure...)
	h.addClient("svc", "svc-secret", func(c *oauth.Client) { c.AllowedCORSOrigins = []string{consoleOrigin} })
	h.addClient("other", "other-secret", func(c *oauth.Client) { c.AllowedCORSOrigins = []string{otherOrigin} })
	return h
}

// checkCORS asserts what every answer must satisfy: never credentials (the
// endpoints take explicit ones; Fetch forbids them with "*" anyway), and
// either the caller's origin, "*" or nothing.
func checkCORS(t *testing.T, w *httptest.ResponseRecorder, wantOrigin string) {
	t.Helper()
	hd := w.Header()
	if v, ok := hd["Access-Control-Allow-Credentials"]; ok {
		t.Errorf("Access-Control-Allow-Credentials sent: %q", v)
	}
	if got := hd.Values("Access-Control-Allow-Origin"); len(got) > 1 || hd.Get("Access-Control-Allow-Origin") != wantOrigin {
		t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, wantOrigin)
	}
	if wantOrigin != "" && wantOrigin != "*" && hd.Get("Vary") != "Origin" {
		t.Errorf("Vary = %q, want Origin", hd.Get("Vary"))
	}
}

func preflightReq(path, origin, method string) []reqOpt {
	opts := []reqOpt{withHeader("Access-Control-Request-Method", method),
		withHeader("Access-Control-Request-Headers", "authorization,content-type")}
	if origin != "" {
		opts = append(opts, withHeader("Origin", origin))
	}
	return opts
}

func TestCORSPublicDocuments(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", httpapi.PathJWKS} {
		t.Run(path, func(t *testing.T) {
			w := h.do(http.MethodGet, path, "", "", withHeader("Origin", evilOrigin))
			if w.Code != 200 {
				t.Fatalf("GET: %d", w.Code)
			}
			checkCORS(t, w, "*")
			w = h.do(http.MethodOptions, path, "", "", preflightReq(path, evilOrigin, "GET")...)
			if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Methods") != "GET" || w.Header().Get("Access-Control-Max-Age") == "" {
				t.Fatalf("preflight: %d %v", w.Code, w.Header())
			}
			checkCORS(t, w, "*")
		})
	}
	t.Run("JWKS 304 keeps the header", func(t *testing.T) {
		etag := h.do(http.MethodGet, httpapi.PathJWKS, "", "").Header().Get("ETag")
		w := h.do(http.MethodGet, httpapi.PathJWKS, "", "", withHeader("Origin", evilOrigin), withHeader("If-None-Match", etag))
		if w.Code != http.StatusNotModified {
			t.Fatalf("%d", w.Code)
		}
		checkCORS(t, w, "*")
	})
}

func TestCORSPreflight(t *testing.T) {
	h := corsSetup(t)
	tests := []struct {
		name        string
		path        string
		origin      string
		wantStatus  int
		wantOrigin  string
		wantMethods string
		wantLookup  bool
	}{
		{"token, origin listed by a confidential client", httpapi.PathToken, consoleOrigin, 204, consoleOrigin, "POST", true},
		{"token, origin of a public client's redirect URI", httpapi.PathToken, spaOrigin, 204, spaOrigin, "POST", true},
		{"token, origin no client allows", httpapi.PathToken, evilOrigin, 403, "", "", true},
		{"revoke", httpapi.PathRevoke, spaOrigin, 204, spaOrigin, "POST", true},
		{"introspect", httpapi.PathIntrospect, consoleOrigin, 204, consoleOrigin, "POST", true},
		{"batch introspect", httpapi.PathIntrospectBatch, consoleOrigin, 204, consoleOrigin, "POST", true},
		{"userinfo", httpapi.PathUserInfo, spaOrigin, 204, spaOrigin, "GET, POST", true},
		{"userinfo, origin no client allows", httpapi.PathUserInfo, evilOrigin, 403, "", "", true},
		// Not origins a browser sends: refused without asking the store.
		{"opaque origin", httpapi.PathToken, "null", 403, "", "", false},
		{"origin with a path", httpapi.PathToken, spaOrigin + "/", 403, "", "", false},
		{"upper case", httpapi.PathToken, "https://APP.example", 403, "", "", false},
		{"wildcard", httpapi.PathToken, "*", 403, "", "", false},
	}
	so := h.origins
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := so.calls.Load()
			w := h.do(http.MethodOptions, tc.path, "", "", preflightReq(tc.path, tc.origin, "POST")...)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
			}
			checkCORS(t, w, tc.wantOrigin)
			if got := w.Header().Get("Vary"); got != "Origin" {
				t.Errorf("Vary = %q", got)
			}
			if asked := so.calls.Load() > before; asked != tc.wantLookup {
				t.Errorf("Origins asked = %v, want %v", asked, tc.wantLookup)
			}
			if tc.wantOrigin == "" {
				if len(w.Header().Values("Access-Control-Allow-Methods")) != 0 {
					t.Errorf("refused preflight has CORS headers: %v", w.Header())
				}
				return
			}
			hd := w.Header()
			if hd.Get("Access-Control-Allow-Methods") != tc.wantMethods || hd.Get("Access-Control-Max-Age") != "600" {
				t.Errorf("methods %q max-age %q", hd.Get("Access-Control-Allow-Methods"), hd.Get("Access-Control-Max-Age"))
			}
			allowed := strings.ToLower(hd.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"authorization", "content-type", "dpop"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
				}
			}
		})
	}
	t.Run("plain OPTIONS is not a preflight", func(t *testing.T) {
		w := h.do(http.MethodOptions, httpapi.PathToken, "", "")
		if w.Code != 204 || !strings.Contains(w.Header().Get("Allow"), "POST") {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
		checkCORS(t, w, "")
	})
	t.Run("without Origins no preflight succeeds", func(t *testing.T) {
		h := corsSetup(t, func(c *harnessConfig) { c.api.Origins = nil })
		w := h.do(http.MethodOptions, httpapi.PathToken, "", "", preflightReq(httpapi.PathToken, spaOrigin, "POST")...)
		if w.Code != 403 {
			t.Fatalf("%d", w.Code)
		}
		checkCORS(t, w, "")
	})
}

func TestCORSTokenEndpoint(t *testing.T) {
	h := corsSetup(t)
	u, err := h.accounts.Authenticate(t.Context(), "alice", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name       string
		form       url.Values
		opts       []reqOpt
		wantStatus int
		wantError  string
		wantOrigin string
	}{
		{"listed origin", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", consoleOrigin)}, 200, "", consoleOrigin},
		{"no Origin: not CORS", cc, []reqOpt{withBasic("svc", "svc-secret")}, 200, "", ""},
		{"same origin as the issuer: not CORS", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", issuer)}, 200, "", ""},
		{"origin another client allows is refused", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", otherOrigin)}, 400, "unauthorized_client", ""},
		{"origin no one allows is refused", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", evilOrigin)}, 400, "unauthorized_client", ""},
		{"two Origin headers are refused", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", consoleOrigin),
			func(r *http.Request) { r.Header.Add("Origin", consoleOrigin) }}, 400, "unauthorized_client", ""},
		{"opaque origin is refused", cc, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", "null")}, 400, "unauthorized_client", ""},
		{"a confidential client's redirect URI gives no origin", cc, []reqOpt{withBasic("web", "web-secret"), withHeader("Origin", spaOrigin)}, 400, "unauthorized_client", ""},
		// Failed authentication: readable where some client allows the origin.
		{"wrong secret, known origin", cc, []reqOpt{withBasic("svc", "wrong"), withHeader("Origin", consoleOrigin)}, 401, "invalid_client", consoleOrigin},
		{"wrong secret, unknown origin", cc, []reqOpt{withBasic("svc", "wrong"), withHeader("Origin", evilOrigin)}, 401, "invalid_client", ""},
		{"malformed request, known origin", url.Values{}, []reqOpt{withBasic("svc", "svc-secret"), withHeader("Origin", consoleOrigin), withHeader("Content-Type", "text/plain")}, 400, "invalid_request", consoleOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.postForm(httpapi.PathToken, tc.form, tc.opts...)
			m := decodeJSON(t, w.Body.Bytes())
			if w.Code != tc.wantStatus || (tc.wantError != "" && m["error"] != tc.wantError) {
				t.Fatalf("got %d %v, want %d %s", w.Code, m, tc.wantStatus, tc.wantError)
			}
			checkCORS(t, w, tc.wantOrigin)
			if tc.wantOrigin != "" && !strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("Expose-Headers = %q", w.Header().Get("Access-Control-Expose-Headers"))
			}
		})
	}

	// A form POST is a simple request: the browser sends it without asking.
	// A refused one must not have spent the code.
	t.Run("a public client's code from its own origin, after a refused try", func(t *testing.T) {
		code := h.code("cors-code", "spa", u.ID, "openid read", nil)
		w := h.postForm(httpapi.PathToken, codeForm(code, "spa"), withHeader("Origin", otherOrigin))
		if w.Code != 400 {
			t.Fatalf("disallowed origin: %d %s", w.Code, w.Body)
		}
		checkCORS(t, w, "")
		w = h.postForm(httpapi.PathToken, codeForm(code, "spa"), withHeader("Origin", spaOrigin))
		if w.Code != 200 {
			t.Fatalf("the refused request spent the code: %d %s", w.Code, w.Body)
		}
		checkCORS(t, w, spaOrigin)
		rt := decodeJSON(t, w.Body.Bytes())["refresh_token"].(string)
		refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}
		if w := h.postForm(httpapi.PathToken, refresh, withHeader("Origin", evilOrigin)); w.Code != 400 {
			t.Fatalf("refresh from a disallowed origin: %d %s", w.Code, w.Body)
		}
		if w := h.postForm(httpapi.PathToken, refresh, withHeader("Origin", spaOrigin)); w.Code != 200 {
			t.Fatalf("the refused refresh rotated the token: %d %s", w.Code, w.Body)
		}
	})
}

func TestCORSRevokeIntrospectUserInfo(t *testing.T) {
	h := corsSetup(t)
	u, err := h.accounts.Authenticate(t.Context(), "alice", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	_, tok := h.exchange(codeForm(h.code("ui-code", "spa", u.ID, "openid profile email", nil), "spa"))
	at := tok["access_token"].(string)
	svcToken := h.token("svc", "svc-secret", nil)

	t.Run("revoke from a disallowed origin changes nothing", func(t *testing.T) {
		w := h.postForm(httpapi.PathRevoke, url.Values{"token": {at}, "client_id": {"spa"}}, withHeader("Origin", consoleOrigin))
		if w.Code != 400 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		checkCORS(t, w, "")
		if h.introspect("svc", "svc-secret", at)["active"] != true {
			t.Fatal("refused revocation revoked the token")
		}
	})
	t.Run("introspect", func(t *testing.T) {
		f := url.Values{"token": {svcToken}}
		w := h.postForm(httpapi.PathIntrospect, f, withBasic("svc", "svc-secret"), withHeader("Origin", consoleOrigin))
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		checkCORS(t, w, consoleOrigin)
		w = h.postForm(httpapi.PathIntrospect, f, withBasic("svc", "svc-secret"), withHeader("Origin", otherOrigin))
		if w.Code != 400 {
			t.Fatalf("disallowed: %d %s", w.Code, w.Body)
		}
		checkCORS(t, w, "")
		w = h.do(http.MethodPost, httpapi.PathIntrospectBatch, "application/json", `{"tokens":["`+svcToken+`"]}`,
			withBasic("svc", "svc-secret"), withHeader("Origin", consoleOrigin))
		if w.Code != 200 {
			t.Fatalf("batch: %d %s", w.Code, w.Body)
		}
		checkCORS(t, w, consoleOrigin)
	})
	t.Run("userinfo", func(t *testing.T) {
		for _, tc := range []struct {
			origin, want string
		}{{spaOrigin, spaOrigin}, {otherOrigin, otherOrigin}, {evilOrigin, ""}, {"", ""}} {
			opts := []reqOpt{withHeader("Authorization", "Bearer "+at)}
			if tc.origin != "" {
				opts = append(opts, withHeader("Origin", tc.origin))
			}
			w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", opts...)
			// Read-only: answered either way; the browser withholds it from a
			// script whose origin gets no header.
			if w.Code != 200 {
				t.Fatalf("%s: %d %s", tc.origin, w.Code, w.Body)
			}
			checkCORS(t, w, tc.want)
		}
		w := h.do(http.MethodGet, httpapi.PathUserInfo, "", "", withHeader("Origin", spaOrigin))
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("no token: %d", w.Code)
		}
		checkCORS(t, w, spaOrigin)
	})
	t.Run("revoke from the public client's own origin", func(t *testing.T) {
		w := h.postForm(httpapi.PathRevoke, url.Values{"token": {at}, "client_id": {"spa"}}, withHeader("Origin", spaOrigin))
		if w.Code != 200 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		checkCORS(t, w, spaOrigin)
		if h.introspect("svc", "svc-secret", at)["active"] != false {
			t.Fatal("token still active")
		}
	})
}

// FuzzCORSOrigin sends arbitrary Origin headers to the token endpoint and a
// preflight: a script is only ever let in with exactly its own origin, and
// only one the client (or, for the preflight, some client) allows.
func FuzzCORSOrigin(f *testing.F) {
	h := corsSetup(f)
	for _, s := range []string{consoleOrigin, spaOrigin, otherOrigin, evilOrigin, "null", "", "*", issuer, consoleOrigin + "/",
		"https://console.example:443", "HTTPS://console.example", consoleOrigin + " " + otherOrigin, "https://console.example.evil"} {
		f.Add(s)
	}
	svc, err := h.svc.AuthenticateClient(f.Context(), token.Credentials{ClientID: "svc", Secret: "svc-secret", Method: oauth.AuthMethodBasic})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, origin string) {
		if strings.ContainsAny(origin, "\r\n\x00") {
			return // not a header value net/http would deliver
		}
		w := h.postForm(httpapi.PathToken, url.Values{"grant_type": {"client_credentials"}}, withBasic("svc", "svc-secret"), withHeader("Origin", origin))
		got := w.Header().Get("Access-Control-Allow-Origin")
		if _, ok := w.Header()["Access-Control-Allow-Credentials"]; ok {
			t.Fatal("credentials allowed")
		}
		crossOrigin := origin != "" && origin != issuer
		switch {
		case got != "" && (got != origin || !svc.AllowsCORSOrigin(origin)):
			t.Fatalf("Origin %q let in as %q", origin, got)
		case w.Code == 200 && crossOrigin && got == "":
			t.Fatalf("Origin %q: tokens issued to a script its client does not allow", origin)
		}
		w = h.do(http.MethodOptions, httpapi.PathToken, "", "", preflightReq(httpapi.PathToken, origin, "POST")...)
		if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" && (got != origin || !oauth.IsOrigin(origin)) {
			t.Fatalf("preflight: Origin %q let in as %q", origin, got)
		}
	})
}
