package login

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/keys"
	"github.com/authd/authd/internal/store"
)

// idToken signs an ID Token for alice and client "web" with the env's keys,
// as the token endpoint does, after mod has changed its claims.
func (e *env) idToken(mod func(c map[string]any)) string {
	e.t.Helper()
	now := e.clock.Now()
	c := map[string]any{
		"iss": testIssuer, "sub": e.alice.ID, "aud": "web",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix(),
	}
	if mod != nil {
		mod(c)
	}
	return e.sign(keys.ES256, "JWT", c)
}

func (e *env) sign(alg, typ string, claims map[string]any) string {
	e.t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := e.keys.Sign(alg, typ, payload)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// sessionOf returns the browser's session cookie value.
func (e *env) sessionOf(c *http.Client) string {
	e.t.Helper()
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			return ck.Value
		}
	}
	e.t.Fatal("browser has no session cookie")
	return ""
}

func (e *env) sessionStored(cookie string) bool {
	e.t.Helper()
	_, err := e.db.Session(context.Background(), hashToken(cookie))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

// logoutParams builds an RP-Initiated Logout request; an empty value leaves
// the parameter out.
func logoutParams(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Add(kv[i], kv[i+1])
		}
	}
	return v
}

// TestRPInitiatedLogout drives OpenID Connect RP-Initiated Logout 1.0 through
// the confirmation form: the user is always signed out, and sent back to the
// relying party only when the request validates (§2, §3, §4).
func TestRPInitiatedLogout(t *testing.T) {
	e := newEnv(t, testIssuer)
	hint := e.idToken(nil)
	expired := e.idToken(func(c map[string]any) {
		c["iat"] = e.clock.Now().Add(-30 * 24 * time.Hour).Unix()
		c["exp"] = e.clock.Now().Add(-29 * 24 * time.Hour).Unix()
	})
	firstHint := e.idToken(func(c map[string]any) { c["aud"] = "first" })
	audList := e.idToken(func(c map[string]any) { c["aud"] = []string{"web"} })
	otherIssuer := e.idToken(func(c map[string]any) { c["iss"] = "https://evil.example" })
	noSub := e.idToken(func(c map[string]any) { delete(c, "sub") })
	twoAuds := e.idToken(func(c map[string]any) { c["aud"] = []string{"web", "first"} })
	accessToken := e.sign(keys.ES256, "at+jwt", map[string]any{"iss": testIssuer, "sub": e.alice.ID, "aud": "web", "client_id": "web"})
	// The first client's token with its payload swapped for one naming "web".
	parts := strings.Split(firstHint, ".")
	parts[1] = strings.Split(hint, ".")[1]
	tampered := strings.Join(parts, ".")
	// A well-formed token under a key authd never published.
	stranger := newKeys(t, openStore(t), e.clock.Now)
	payload, _ := json.Marshal(map[string]any{"iss": testIssuer, "sub": e.alice.ID, "aud": "web", "exp": e.clock.Now().Add(time.Hour).Unix()})
	unknownKey, err := stranger.Sign(keys.ES256, "JWT", payload)
	if err != nil {
		t.Fatal(err)
	}
	algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload) + "."

	const bye = "https://app.example/bye"
	tests := []struct {
		name     string
		params   url.Values
		wantBack string // the exact Location after sign-out; "" for the signed-out page
	}{
		{"hint, registered URI and state", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye, "state", "st-1"), bye + "?state=st-1"},
		{"hint and matching client_id, URI with a query", logoutParams("id_token_hint", hint, "client_id", "web",
			"post_logout_redirect_uri", "https://app.example/bye2?x=1", "state", "a b&c=d"), "https://app.example/bye2?x=1&state=a+b%26c%3Dd"},
		{"no state", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye), bye},
		{"expired hint still accepted", logoutParams("id_token_hint", expired, "post_logout_redirect_uri", bye, "state", "s"), bye + "?state=s"},
		{"aud as a one-element array", logoutParams("id_token_hint", audList, "post_logout_redirect_uri", bye), bye},
		{"client_id without a hint", logoutParams("client_id", "first", "post_logout_redirect_uri", "https://first.example/signed-out", "state", "s"),
			"https://first.example/signed-out?state=s"},
		{"ui_locales and logout_hint ignored", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye,
			"ui_locales", "fr-CA en", "logout_hint", "alice"), bye},

		{"no parameters", nil, ""},
		{"hint alone", logoutParams("id_token_hint", hint), ""},
		{"unregistered URI", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", "https://evil.example/", "state", "s"), ""},
		{"URI differing by a slash", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye+"/"), ""},
		{"URI with an extra query", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye+"?next=https://evil.example"), ""},
		{"login redirect URI is not a logout one", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", "https://app.example/cb"), ""},
		{"another client's URI", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", "https://first.example/signed-out"), ""},
		{"URI without hint or client_id", logoutParams("post_logout_redirect_uri", bye, "state", "s"), ""},
		{"hint from another issuer", logoutParams("id_token_hint", otherIssuer, "post_logout_redirect_uri", bye), ""},
		{"hint with a tampered payload", logoutParams("id_token_hint", tampered, "post_logout_redirect_uri", bye), ""},
		{"hint under an unknown key", logoutParams("id_token_hint", unknownKey, "post_logout_redirect_uri", bye), ""},
		{"unsigned hint", logoutParams("id_token_hint", algNone, "post_logout_redirect_uri", bye), ""},
		{"access token as hint", logoutParams("id_token_hint", accessToken, "post_logout_redirect_uri", bye), ""},
		{"hint without sub", logoutParams("id_token_hint", noSub, "post_logout_redirect_uri", bye), ""},
		{"hint for two audiences", logoutParams("id_token_hint", twoAuds, "post_logout_redirect_uri", bye), ""},
		{"garbage hint", logoutParams("id_token_hint", "not.a.jwt", "post_logout_redirect_uri", bye), ""},
		{"client_id is not the hint's aud", logoutParams("id_token_hint", hint, "client_id", "first",
			"post_logout_redirect_uri", "https://first.example/signed-out"), ""},
		{"client_id mismatch, hint client's URI", logoutParams("id_token_hint", hint, "client_id", "first", "post_logout_redirect_uri", bye), ""},
		{"bad hint with a matching client_id", logoutParams("id_token_hint", otherIssuer, "client_id", "web", "post_logout_redirect_uri", bye), ""},
		{"unknown client_id", logoutParams("client_id", "ghost", "post_logout_redirect_uri", bye), ""},
		{"malformed client_id", logoutParams("client_id", "web app", "post_logout_redirect_uri", bye), ""},
		{"repeated URI", url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {bye, bye}}, ""},
		{"state with a control character", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye, "state", "a\nb"), ""},
		{"state too long", logoutParams("id_token_hint", hint, "post_logout_redirect_uri", bye, "state", strings.Repeat("s", 1025)), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := e.newBrowser()
			e.signIn(br)
			cookie := e.sessionOf(br)

			page := e.get(br, PathLogout+"?"+tc.params.Encode())
			wantPage(t, page, http.StatusOK, `action="/logout"`)
			if !e.sessionStored(cookie) {
				t.Fatal("the GET signed out")
			}
			form := formOf(t, page.body)
			if tc.wantBack == "" && form.Has(pPostLogoutRedirectURI) {
				t.Errorf("form carries a post_logout_redirect_uri that did not validate: %v", form)
			}
			if tc.wantBack != "" && !strings.Contains(page.body, "return to <strong>") {
				t.Error("confirmation does not say where the user returns")
			}

			r := e.post(br, PathLogout, form)
			if e.sessionStored(cookie) {
				t.Error("session still stored after confirming")
			}
			if c := findCookie(t, r.cookies, sessionCookie); c.MaxAge >= 0 {
				t.Error("session cookie not cleared")
			}
			if tc.wantBack == "" {
				wantPage(t, r, http.StatusOK, "You are signed out")
				return
			}
			if r.status != http.StatusSeeOther || r.location == nil || r.location.String() != tc.wantBack {
				t.Fatalf("got %d Location %v, want 303 to %s\n%s", r.status, r.location, tc.wantBack, r.body)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("redirect Cache-Control = %q", r.header.Get("Cache-Control"))
			}
		})
	}
}

// TestLogoutNeedsCSRF: only our confirmation form, with its CSRF token, signs
// out; the session survives a confirmation without one or with another
// browser's.
func TestLogoutNeedsCSRF(t *testing.T) {
	e := newEnv(t, testIssuer)
	params := logoutParams("id_token_hint", e.idToken(nil), "post_logout_redirect_uri", "https://app.example/bye", "state", "s")
	e.signIn(e.client)
	cookie := e.sessionOf(e.client)
	good := formOf(t, e.get(e.client, PathLogout+"?"+params.Encode()).body)
	otherBrowser := formOf(t, e.get(e.newBrowser(), PathLogout+"?"+params.Encode()).body).Get(csrfField)

	without := url.Values{}
	for k, v := range good {
		if k != csrfField {
			without[k] = v
		}
	}
	foreign := url.Values{}
	for k, v := range good {
		foreign[k] = v
	}
	foreign.Set(csrfField, otherBrowser)
	tests := []struct {
		name string
		form url.Values
	}{
		{"CSRF token missing", without},
		{"another browser's token", foreign},
		{"empty form", url.Values{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantPage(t, e.post(e.client, PathLogout, tc.form), http.StatusForbidden, "Form expired")
			if !e.sessionStored(cookie) {
				t.Fatal("session deleted without a valid CSRF token")
			}
		})
	}
	r := e.post(e.client, PathLogout, good)
	if r.status != http.StatusSeeOther || r.location.String() != "https://app.example/bye?state=s" || e.sessionStored(cookie) {
		t.Fatalf("valid confirmation: %d %v", r.status, r.location)
	}
}

// TestLogoutRequestByPost: §2 lets the relying party send its request as a
// form POST. That is asked about like a GET, and the confirmation that
// follows validates everything again: editing the form does not open a
// redirect.
func TestLogoutRequestByPost(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	cookie := e.sessionOf(e.client)
	params := logoutParams("id_token_hint", e.idToken(nil), "post_logout_redirect_uri", "https://app.example/bye", "state", "s")

	page := e.post(e.client, PathLogout, params)
	wantPage(t, page, http.StatusOK, `action="/logout"`)
	if !e.sessionStored(cookie) {
		t.Fatal("the relying party's POST signed out")
	}
	form := formOf(t, page.body)
	for k := range params {
		if form.Get(k) != params.Get(k) {
			t.Errorf("form carries %s = %q, want %q", k, form.Get(k), params.Get(k))
		}
	}
	if !strings.Contains(page.body, "Web App") {
		t.Error("confirmation does not name the relying party")
	}

	form.Set(pPostLogoutRedirectURI, "https://evil.example/")
	wantPage(t, e.post(e.client, PathLogout, form), http.StatusOK, "You are signed out")
	if e.sessionStored(cookie) {
		t.Error("session still stored")
	}
}

// TestLogoutWithoutSession: logout is idempotent (§4): a browser that is no
// longer signed in still goes back to the relying party.
func TestLogoutWithoutSession(t *testing.T) {
	e := newEnv(t, testIssuer)
	params := logoutParams("id_token_hint", e.idToken(nil), "post_logout_redirect_uri", "https://app.example/bye")
	page := e.get(e.client, PathLogout+"?"+params.Encode())
	wantPage(t, page, http.StatusOK, `action="/logout"`)
	r := e.post(e.client, PathLogout, formOf(t, page.body))
	if r.status != http.StatusSeeOther || r.location.String() != "https://app.example/bye" {
		t.Fatalf("got %d %v", r.status, r.location)
	}
}

// FuzzParseLogoutRequest: whatever arrives, a redirection only ever goes to a
// post_logout_redirect_uri registered for the client the request names, and
// never contradicts an id_token_hint.
func FuzzParseLogoutRequest(f *testing.F) {
	db := openStore(f)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	km := newKeys(f, db, func() time.Time { return now })
	h, err := New(Deps{Clients: db, Accounts: &countingAccounts{}, Sessions: db, Consents: db, Codes: db, IDTokens: km},
		Options{Issuer: testIssuer, CSRFKey: make([]byte, 32)})
	if err != nil {
		f.Fatal(err)
	}
	hint := func(aud string) string {
		p, _ := json.Marshal(map[string]any{"iss": testIssuer, "sub": "u1", "aud": aud, "exp": now.Unix()})
		tok, err := km.Sign(keys.ES256, "JWT", p)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	for _, v := range []url.Values{
		logoutParams("id_token_hint", hint("web"), "post_logout_redirect_uri", "https://app.example/bye", "state", "s"),
		logoutParams("id_token_hint", hint("first"), "client_id", "first", "post_logout_redirect_uri", "https://first.example/signed-out"),
		logoutParams("id_token_hint", hint("web"), "client_id", "first", "post_logout_redirect_uri", "https://first.example/signed-out"),
		logoutParams("client_id", "web", "post_logout_redirect_uri", "https://app.example/bye2?x=1", "state", "a&b"),
		logoutParams("post_logout_redirect_uri", "https://app.example/bye"),
		logoutParams("id_token_hint", "a.b.c", "client_id", "web", "post_logout_redirect_uri", "https://app.example/bye"),
		nil,
	} {
		f.Add(v.Encode())
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := parseParams(raw)
		if err != nil {
			return
		}
		req, err := h.parseLogoutRequest(ctx, v)
		if err != nil {
			t.Fatalf("error from a healthy store: %v", err)
		}
		if req.redirect == "" {
			if req.client != nil || len(req.params) != 0 {
				t.Fatalf("no redirection, but a client or parameters: %+v", req)
			}
			return
		}
		uri := v.Get(pPostLogoutRedirectURI)
		if req.client == nil || !req.client.HasPostLogoutRedirectURI(uri) || !strings.HasPrefix(req.redirect, uri) {
			t.Fatalf("redirect %q for %q is not registered for %+v", req.redirect, uri, req.client)
		}
		if id := v.Get(pClientID); id != "" && id != req.client.ID {
			t.Fatalf("client_id %q but redirecting for %q", id, req.client.ID)
		}
		if v.Get(pIDTokenHint) == "" && v.Get(pClientID) == "" {
			t.Fatal("redirect without id_token_hint or client_id")
		}
	})
}
