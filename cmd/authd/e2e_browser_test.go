package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The client's URIs are never dialled: the browser stops at any redirect to
// their host, the way a user agent hands the response to the app.
const (
	callback   = "http://127.0.0.1:9/cb"
	postLogout = "http://127.0.0.1:9/signed-out"
)

// browser is an HTTP client with a cookie jar that stops at redirects to the
// client (its callback and post-logout URI), the way a user agent hands the
// code to the app.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host == "127.0.0.1:9" {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}}
}

func (b *browser) get(u string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(u, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// hiddenFields reads a form's hidden inputs, as a browser would submit them.
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// codeFrom checks a redirect to the callback and returns its code.
func codeFrom(t *testing.T, resp *http.Response, wantState string) string {
	t.Helper()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no redirect (status %d)", resp.StatusCode)
	}
	q := loc.Query()
	if !strings.HasPrefix(loc.String(), callback) || q.Get("state") != wantState || q.Get("code") == "" || q.Get("iss") == "" {
		t.Fatalf("redirect = %s", loc)
	}
	return q.Get("code")
}

func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	return verifier, oauth2.S256ChallengeFromVerifier(verifier)
}

func createUser(t *testing.T, s *server, username, pw string) {
	t.Helper()
	var out bytes.Buffer
	args := []string{"user", "create", "--admin-url", s.admin, "--username", username, "--email", username + "@example.com"}
	if err := run(context.Background(), args, s.getenv, strings.NewReader(pw+"\n"), &out, io.Discard); err != nil {
		t.Fatalf("user create: %v", err)
	}
}

func tokenRequest(t *testing.T, s *server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.public+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestBrowserFlow drives authorize → login form → code → token → userinfo →
// refresh with a cookie jar, against the real server, and checks the replay
// defences on the way.
func TestBrowserFlow(t *testing.T) {
	// No reuse grace: the replay below comes at once (httpapi TestRefreshReuseGrace covers the grace).
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1", "AUTHD_REFRESH_REUSE_GRACE": "0"})
	createUser(t, s, "alice", "correct horse battery staple")
	var app map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "Web App", "--auth-method", "none",
		"--grant-types", "authorization_code,refresh_token", "--redirect-uri", callback,
		"--scope", "openid profile email", "--first-party"), &app); err != nil {
		t.Fatal(err)
	}
	clientID := app["client_id"].(string)
	verifier, challenge := pkcePair()
	authorize := s.public + "/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {callback},
		"scope": {"openid profile email"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()

	br := newBrowser(t)
	resp, page := br.get(authorize)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authorize did not show the login form: %d\n%s", resp.StatusCode, page)
	}
	form := hiddenFields(page)
	form.Set("username", "alice")
	form.Set("password", "wrong password here")
	if resp, page = br.post(s.public+"/login", form); resp.StatusCode != 401 || !strings.Contains(page, "Invalid username or password") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	form = hiddenFields(page)
	form.Set("username", "alice")
	form.Set("password", "correct horse battery staple")
	resp, _ = br.post(s.public+"/login", form)
	code := codeFrom(t, resp, "st-1")

	exchange := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"code_verifier": {verifier}, "client_id": {clientID}}
	status, tok := tokenRequest(t, s, exchange)
	if status != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil || tok["id_token"] == nil {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	access, refresh := tok["access_token"].(string), tok["refresh_token"].(string)

	// userinfo with the bearer token.
	req, _ := http.NewRequest(http.MethodGet, s.public+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	ui, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	_ = json.NewDecoder(ui.Body).Decode(&info)
	ui.Body.Close()
	if ui.StatusCode != 200 || info["preferred_username"] != "alice" || info["email"] != "alice@example.com" || info["sub"] == "" {
		t.Fatalf("userinfo: %d %v", ui.StatusCode, info)
	}

	// A second authorize rides the session: no form.
	verifier2, challenge2 := pkcePair()
	resp, _ = br.get(strings.Replace(strings.Replace(authorize, challenge, challenge2, 1), "st-1", "st-2", 1))
	code2 := codeFrom(t, resp, "st-2")

	// Refresh rotates; the old refresh token is then a replay that kills the family.
	status, tok2 := tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}})
	if status != 200 || tok2["refresh_token"] == nil || tok2["refresh_token"] == refresh {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	if status, body := tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}}); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %v", status, body)
	}
	if status, body := tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2["refresh_token"].(string)}, "client_id": {clientID}}); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("family not revoked after reuse: %d %v", status, body)
	}

	// The second code works once; replaying it revokes its tokens.
	status, tok3 := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code2}, "redirect_uri": {callback},
		"code_verifier": {verifier2}, "client_id": {clientID}})
	if status != 200 {
		t.Fatalf("second code: %d %v", status, tok3)
	}
	if status, body := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code2}, "redirect_uri": {callback},
		"code_verifier": {verifier2}, "client_id": {clientID}}); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %v", status, body)
	}
	req, _ = http.NewRequest(http.MethodGet, s.public+"/oauth2/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok3["access_token"].(string))
	if ui, err := http.DefaultClient.Do(req); err != nil || ui.StatusCode != 401 {
		t.Fatalf("access token of a replayed code still works: %v %v", ui, err)
	} else {
		ui.Body.Close()
	}
}

// TestRPInitiatedLogout signs in, then signs out through the discovered
// end_session_endpoint with the id_token from the code exchange as
// id_token_hint (OpenID Connect RP-Initiated Logout 1.0): the browser confirms,
// lands on the registered post-logout URI with the state, and the next
// authorization asks for the password again.
func TestRPInitiatedLogout(t *testing.T) {
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1"})
	createUser(t, s, "carol", "yet another passphrase")
	var app map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "Web App", "--auth-method", "none",
		"--grant-types", "authorization_code", "--redirect-uri", callback, "--post-logout-redirect-uri", postLogout,
		"--scope", "openid profile", "--first-party"), &app); err != nil {
		t.Fatal(err)
	}
	if l, _ := app["post_logout_redirect_uris"].([]any); len(l) != 1 || l[0] != postLogout {
		t.Fatalf("client create did not register the post-logout URI: %v", app)
	}
	clientID := app["client_id"].(string)

	resp, err := http.Get(s.public + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disco map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disco)
	resp.Body.Close()
	endSession, _ := disco["end_session_endpoint"].(string)
	if endSession != s.public+"/logout" {
		t.Fatalf("end_session_endpoint = %q", endSession)
	}

	verifier, challenge := pkcePair()
	authorize := s.public + "/oauth2/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {callback},
		"scope": {"openid profile"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}.Encode()
	br := newBrowser(t)
	_, page := br.get(authorize)
	form := hiddenFields(page)
	form.Set("username", "carol")
	form.Set("password", "yet another passphrase")
	resp, _ = br.post(s.public+"/login", form)
	code := codeFrom(t, resp, "st-1")
	status, tok := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier}, "client_id": {clientID}})
	idToken, _ := tok["id_token"].(string)
	if status != 200 || idToken == "" {
		t.Fatalf("code exchange: %d %v", status, tok)
	}

	resp, page = br.get(endSession + "?" + url.Values{
		"id_token_hint": {idToken}, "post_logout_redirect_uri": {postLogout}, "state": {"bye-1"},
	}.Encode())
	if resp.StatusCode != 200 || !strings.Contains(page, `action="/logout"`) {
		t.Fatalf("end_session_endpoint did not ask for confirmation: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = br.post(s.public+"/logout", hiddenFields(page))
	if loc, err := resp.Location(); err != nil || resp.StatusCode != http.StatusSeeOther || loc.String() != postLogout+"?state=bye-1" {
		t.Fatalf("after confirming: %d, Location %v", resp.StatusCode, loc)
	}

	resp, page = br.get(authorize)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("authorize after logout did not show the login form: %d\n%s", resp.StatusCode, page)
	}
}

// TestOIDCLibrary checks the id_token with a standard OpenID Connect client:
// coreos/go-oidc through discovery and the JWKS, golang.org/x/oauth2 for the
// code exchange with PKCE.
func TestOIDCLibrary(t *testing.T) {
	// No reuse grace: the replay at the end comes at once.
	s := startServer(t, map[string]string{"AUTHD_ARGON2_MEMORY_KIB": "8192", "AUTHD_ARGON2_TIME": "1", "AUTHD_REFRESH_REUSE_GRACE": "0"})
	createUser(t, s, "bob", "another fine passphrase")
	var app map[string]any
	if err := json.Unmarshal(s.cli(t, "client", "create", "--name", "RP", "--auth-method", "client_secret_basic",
		"--grant-types", "authorization_code,refresh_token", "--redirect-uri", callback,
		"--scope", "openid profile email", "--first-party"), &app); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, s.public)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{
		ClientID:     app["client_id"].(string),
		ClientSecret: app["client_secret"].(string),
		Endpoint:     provider.Endpoint(),
		RedirectURL:  callback,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-x", oidc.Nonce("nonce-x"), oauth2.S256ChallengeOption(verifier))

	br := newBrowser(t)
	_, page := br.get(authURL)
	form := hiddenFields(page)
	form.Set("username", "bob")
	form.Set("password", "another fine passphrase")
	resp, _ := br.post(s.public+"/login", form)
	code := codeFrom(t, resp, "state-x")

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("no id_token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: conf.ClientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejected the id_token: %v", err)
	}
	if idt.Nonce != "nonce-x" {
		t.Errorf("nonce = %q", idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := idt.Claims(&claims); err != nil || claims.PreferredUsername != "bob" || claims.Email != "bob@example.com" {
		t.Errorf("claims = %+v, %v", claims, err)
	}
	ui, err := provider.UserInfo(ctx, conf.TokenSource(ctx, tok))
	if err != nil || ui.Subject != idt.Subject {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}
	// The refresh path through the library.
	expired := *tok
	expired.Expiry = expired.Expiry.Add(-24 * 3600e9)
	fresh, err := conf.TokenSource(ctx, &expired).Token()
	if err != nil || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh through x/oauth2: %v", err)
	}
	var rerr *oauth2.RetrieveError
	if _, err := conf.TokenSource(ctx, &expired).Token(); !errors.As(err, &rerr) || rerr.ErrorCode != "invalid_grant" {
		t.Fatalf("reusing the rotated refresh token: %v", err)
	}
}
