package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuthorizeRejectsWithoutRedirect: RFC 6749 §4.1.2.1 forbids redirecting
// when the client or redirect URI is missing or not trusted.
func TestAuthorizeRejectsWithoutRedirect(t *testing.T) {
	e := newEnv(t, testIssuer)
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantText   string
	}{
		{"no parameters", "", 400, "client_id parameter is missing"},
		{"missing client_id", authParams("web", "client_id", "").Encode(), 400, "client_id parameter is missing"},
		{"unknown client", authParams("nope").Encode(), 400, "Unknown application"},
		{"overlong client_id", authParams(strings.Repeat("w", 300)).Encode(), 400, "Unknown application"},
		{"repeated client_id", authParams("web").Encode() + "&client_id=web", 400, "client_id parameter is repeated"},
		{"unregistered redirect_uri", authParams("web", "redirect_uri", "https://evil.example/cb").Encode(), 400, "Invalid redirect URI"},
		{"redirect_uri with extra path", authParams("web", "redirect_uri", "https://app.example/cb/x").Encode(), 400, "Invalid redirect URI"},
		{"redirect_uri in other case", authParams("web", "redirect_uri", "https://APP.example/cb").Encode(), 400, "Invalid redirect URI"},
		{"redirect_uri with extra query", authParams("web", "redirect_uri", "https://app.example/cb?a=b").Encode(), 400, "Invalid redirect URI"},
		{"repeated redirect_uri", authParams("web").Encode() + "&redirect_uri=" + url.QueryEscape("https://app.example/cb"), 400, "redirect_uri parameter is repeated"},
		{"absent redirect_uri, two registered", authParams("web", "redirect_uri", "").Encode(), 400, "redirect_uri parameter is required"},
		{"malformed query", "client_id=web&state=%zz", 400, "malformed"},
		{"semicolon query", "client_id=web;state=x", 400, "malformed"},
		{"too large", authParams("web").Encode() + "&x=" + strings.Repeat("a", maxParamsBytes), 413, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantPage(t, e.get(e.client, PathAuthorize+"?"+tc.query), tc.wantStatus, tc.wantText)
			// The form-POST variant answers the same way.
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathAuthorize, strings.NewReader(tc.query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			wantPage(t, e.do(e.client, req), tc.wantStatus, tc.wantText)
		})
	}
}

// TestAuthorizeRedirectErrors: once the client and redirect URI are trusted,
// errors go to the redirect URI with error, state and iss (RFC 6749
// §4.1.2.1, RFC 9207).
func TestAuthorizeRedirectErrors(t *testing.T) {
	e := newEnv(t, testIssuer)
	tests := []struct {
		name      string
		params    url.Values
		extra     string // appended raw, for repeated parameters
		wantError string
		wantState string // "" means state must be absent
		wantBase  string
	}{
		{"missing code_challenge", authParams("web", "code_challenge", ""), "", "invalid_request", "st-123", ""},
		{"missing code_challenge_method", authParams("web", "code_challenge_method", ""), "", "invalid_request", "st-123", ""},
		{"plain PKCE", authParams("web", "code_challenge_method", "plain", "code_challenge", testVerifier), "", "invalid_request", "st-123", ""},
		{"unknown PKCE method", authParams("web", "code_challenge_method", "S512"), "", "invalid_request", "st-123", ""},
		{"short challenge", authParams("web", "code_challenge", "abc"), "", "invalid_request", "st-123", ""},
		{"challenge with bad characters", authParams("web", "code_challenge", strings.Repeat("+", 43)), "", "invalid_request", "st-123", ""},
		{"response_type token", authParams("web", "response_type", "token"), "", "unsupported_response_type", "st-123", ""},
		{"response_type code id_token", authParams("web", "response_type", "code id_token"), "", "unsupported_response_type", "st-123", ""},
		{"missing response_type", authParams("web", "response_type", ""), "", "invalid_request", "st-123", ""},
		{"response_mode fragment", authParams("web", "response_mode", "fragment"), "", "invalid_request", "st-123", ""},
		{"scope not allowed", authParams("web", "scope", "openid admin"), "", "invalid_scope", "st-123", ""},
		{"malformed scope", authParams("web", "scope", `open"id`), "", "invalid_scope", "st-123", ""},
		{"client without code grant", authParams("m2m", "redirect_uri", "https://m2m.example/cb"), "", "unauthorized_client", "st-123", "https://m2m.example/cb"},
		{"repeated scope", authParams("web"), "&scope=api", "invalid_request", "st-123", ""},
		{"repeated state", authParams("web"), "&state=other", "invalid_request", "", ""},
		{"state not VSCHAR", authParams("web", "state", "é"), "", "invalid_request", "", ""},
		{"nonce too long", authParams("web", "nonce", strings.Repeat("n", 513)), "", "invalid_request", "st-123", ""},
		{"prompt none with login", authParams("web", "prompt", "none login"), "", "invalid_request", "st-123", ""},
		{"unknown prompt", authParams("web", "prompt", "bogus"), "", "invalid_request", "st-123", ""},
		{"negative max_age", authParams("web", "max_age", "-1"), "", "invalid_request", "st-123", ""},
		{"non-numeric max_age", authParams("web", "max_age", "1h"), "", "invalid_request", "st-123", ""},
		{"request object", authParams("web", "request", "eyJhbGciOi"), "", "request_not_supported", "st-123", ""},
		{"request_uri", authParams("web", "request_uri", "urn:x"), "", "request_uri_not_supported", "st-123", ""},
		{"no state sent", authParams("web", "state", "", "code_challenge", ""), "", "invalid_request", "", ""},
		{"registered query kept", authParams("first", "code_challenge_method", "plain"), "", "invalid_request", "st-123", "https://first.example/callback"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(e.client, PathAuthorize+"?"+tc.params.Encode()+tc.extra)
			base := tc.wantBase
			if base == "" {
				base = "https://app.example/cb"
			}
			q := wantRedirect(t, r, http.StatusFound, base, map[string]string{
				"error": tc.wantError, "error_description": "*", "state": tc.wantState, "code": "",
			})
			if tc.params.Get("client_id") == "first" && q.Get("tenant") != "a" {
				t.Errorf("registered query lost: %s", r.location)
			}
		})
	}
}

func TestAuthorizeServesLoginForm(t *testing.T) {
	e := newEnv(t, testIssuer)
	p := authParams("web", "login_hint", "alice", "max_age", "300")
	r := e.authorize(e.client, p)
	wantPage(t, r, http.StatusOK, `action="/login"`)
	if !strings.Contains(r.body, "Web App") {
		t.Error("login page does not name the client")
	}
	if !strings.Contains(r.body, `value="alice"`) {
		t.Error("login_hint not prefilled")
	}
	f := formOf(t, r.body)
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "max_age", "login_hint"} {
		if f.Get(k) != p.Get(k) {
			t.Errorf("hidden %s = %q, want %q", k, f.Get(k), p.Get(k))
		}
	}
	if e.accounts.calls.Load() != 0 {
		t.Error("showing the form authenticated someone")
	}
	// GET /login with the request in the query draws the same form.
	wantPage(t, e.get(e.client, PathLogin+"?"+p.Encode()), http.StatusOK, `name="code_challenge"`)
	// And a bad request there is refused the same way.
	wantPage(t, e.get(e.client, PathLogin+"?"+authParams("nope").Encode()), http.StatusBadRequest, "Unknown application")
}

// TestAuthorizePost: a form-POSTed request is validated, then bounced to the
// GET form so the SameSite=Lax session cookie is sent.
func TestAuthorizePost(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	r := e.post(e.client, PathAuthorize, authParams("first"))
	if r.status != http.StatusSeeOther || r.location == nil || r.location.Path != PathAuthorize {
		t.Fatalf("POST authorize: %d %v", r.status, r.location)
	}
	r = e.get(e.client, r.location.String())
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*", "state": "st-123"})

	// Invalid parameters are answered at once, not bounced.
	r = e.post(e.client, PathAuthorize, authParams("first", "code_challenge", ""))
	wantRedirect(t, r, http.StatusSeeOther, "https://first.example/callback", map[string]string{"error": "invalid_request"})

	// A body of the wrong type is refused.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathAuthorize, strings.NewReader(`{"client_id":"first"}`))
	req.Header.Set("Content-Type", "application/json")
	wantPage(t, e.do(e.client, req), http.StatusUnsupportedMediaType, "x-www-form-urlencoded")
}
