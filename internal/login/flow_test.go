package login

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
)

func TestLoginIssuesCode(t *testing.T) {
	tests := []struct {
		name            string
		params          url.Values
		wantBase        string
		wantQuery       map[string]string
		wantRedirectURI string // AuthCode.RedirectURI: the parameter as sent
		wantScope       string
	}{
		{
			name:            "redirect_uri sent",
			params:          authParams("web", "redirect_uri", "https://app.example/cb2?x=1", "prompt", "consent"),
			wantBase:        "https://app.example/cb2",
			wantQuery:       map[string]string{"x": "1", "state": "st-123"},
			wantRedirectURI: "https://app.example/cb2?x=1",
			wantScope:       "openid profile",
		},
		{
			name:            "redirect_uri absent, scope defaulted, no state",
			params:          authParams("first", "state", ""),
			wantBase:        "https://first.example/callback",
			wantQuery:       map[string]string{"tenant": "a", "state": ""},
			wantRedirectURI: "",
			wantScope:       "openid profile",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testIssuer)
			r := e.login(e.client, e.authorize(e.client, tc.params), "ALICE", testPassword)
			if strings.Contains(r.body, "Allow access") {
				// Third-party client: approve.
				f := formOf(t, r.body)
				f.Set("decision", "approve")
				r = e.post(e.client, PathConsent, f)
			}
			want := map[string]string{"code": "*", "error": ""}
			for k, v := range tc.wantQuery {
				want[k] = v
			}
			q := wantRedirect(t, r, http.StatusSeeOther, tc.wantBase, want)
			code := q.Get("code")
			if len(code) != 43 {
				t.Errorf("code %q is not 256 bits base64url", code)
			}
			ctx := context.Background()
			// Only the hash is stored: the code itself is not a key.
			if _, err := e.db.RedeemAuthCode(ctx, []byte(code), e.clock.Now()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("code stored in the clear: %v", err)
			}
			c, err := e.db.RedeemAuthCode(ctx, hashToken(code), e.clock.Now())
			if err != nil {
				t.Fatalf("redeem: %v", err)
			}
			now := e.clock.Now()
			if c.ClientID != tc.params.Get("client_id") || c.RedirectURI != tc.wantRedirectURI ||
				c.Subject != e.alice.ID || c.Scope != tc.wantScope || c.Nonce != "n-456" ||
				c.CodeChallenge != testChallenge || !c.AuthTime.Equal(now) ||
				!c.ExpiresAt.Equal(now.Add(60*time.Second)) || len(c.GrantID) != 22 {
				t.Errorf("stored code = %+v", c)
			}
			if !oauth.VerifyPKCE(testVerifier, c.CodeChallenge) {
				t.Error("stored challenge does not match the verifier")
			}
		})
	}
}

func TestGrantIDsDiffer(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	var grants []string
	for range 2 {
		r := e.authorize(e.client, authParams("first"))
		q := wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*"})
		c, err := e.db.RedeemAuthCode(context.Background(), hashToken(q.Get("code")), e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		grants = append(grants, c.GrantID)
	}
	if grants[0] == grants[1] {
		t.Errorf("two codes share grant id %q", grants[0])
	}
}

// TestLoginCSRF: a forged or stale form is refused before any password is
// checked.
func TestLoginCSRF(t *testing.T) {
	e := newEnv(t, testIssuer)
	page := e.authorize(e.client, authParams("first"))
	good := formOf(t, page.body)
	good.Set("username", "alice")
	good.Set("password", testPassword)
	// A browser with no session gets a logout form (with a token) only for
	// a relying party's request to go back to.
	rpLogout := logoutParams("client_id", "first", "post_logout_redirect_uri", "https://first.example/signed-out")
	logoutToken := formOf(t, e.get(e.client, PathLogout+"?"+rpLogout.Encode()).body).Get(csrfField)
	tests := []struct {
		name    string
		browser *http.Client // nil: the one that loaded the form
		token   string       // "-" deletes it
	}{
		{"missing token", nil, "-"},
		{"empty token", nil, ""},
		{"garbage token", nil, "123.abc"},
		{"token for another form", nil, logoutToken},
		{"tampered timestamp", nil, "1" + good.Get(csrfField)},
		{"other browser (no cookie)", e.newBrowser(), good.Get(csrfField)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			if tc.token == "-" {
				f.Del(csrfField)
			} else {
				f.Set(csrfField, tc.token)
			}
			b := tc.browser
			if b == nil {
				b = e.client
			}
			before := e.accounts.calls.Load()
			r := e.post(b, PathLogin, f)
			wantPage(t, r, http.StatusForbidden, "Form expired")
			if n := e.accounts.calls.Load() - before; n != 0 {
				t.Errorf("%d login attempts made for a forged form", n)
			}
			for _, c := range r.cookies {
				if c.Name == sessionCookie {
					t.Error("session cookie set for a forged form")
				}
			}
		})
	}
	// A repeated field is refused too.
	f := url.Values{}
	for k, v := range good {
		f[k] = v
	}
	f.Add("password", "again")
	wantPage(t, e.post(e.client, PathLogin, f), http.StatusBadRequest, "repeated")
	// And the untouched form works.
	r := e.post(e.client, PathLogin, good)
	wantRedirect(t, r, http.StatusSeeOther, "https://first.example/callback", map[string]string{"code": "*"})
}

func TestLoginFailures(t *testing.T) {
	e := newEnv(t, testIssuer)
	tests := []struct {
		name, username, password string
		fault                    error
		wantStatus               int
		wantText                 string
		wantRetryAfter           string
	}{
		{"wrong password", "alice", "wrong horse battery staple", nil, 401, "Invalid username or password", ""},
		{"unknown user", "zed", testPassword, nil, 401, "Invalid username or password", ""},
		{"disabled user", "dora", testPassword, nil, 401, "Invalid username or password", ""},
		{"malformed username", "a b", testPassword, nil, 401, "Invalid username or password", ""},
		{"hasher busy", "alice", testPassword, password.ErrBusy, 503, "server is busy", "1"},
		{"guard refuses", "alice", testPassword, oauth.TooManyRequests(30), 429, "Too many sign-in attempts", "30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.accounts.setFault(tc.fault)
			defer e.accounts.setFault(nil)
			r := e.login(e.client, e.authorize(e.client, authParams("first")), tc.username, tc.password)
			wantPage(t, r, tc.wantStatus, tc.wantText)
			if got := r.header.Get("Retry-After"); got != tc.wantRetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.wantRetryAfter)
			}
			if !strings.Contains(r.body, `value="`+tc.username+`"`) {
				t.Error("username not kept in the form")
			}
			if strings.Contains(r.body, tc.password) {
				t.Error("password echoed in the page")
			}
			// The form still carries the request, so the user can retry.
			if f := formOf(t, r.body); f.Get("code_challenge") != testChallenge {
				t.Error("request lost from the retry form")
			}
			for _, c := range r.cookies {
				if c.Name == sessionCookie {
					t.Error("session cookie set after a failed login")
				}
			}
		})
	}
}

// TestSession: a live session skips the form; it is stored hashed; it ends
// when it expires or its user is disabled.
func TestSession(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	u, _ := url.Parse(e.srv.URL)
	var cookie string
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			cookie = c.Value
		}
	}
	ctx := context.Background()
	if _, err := e.db.Session(ctx, []byte(cookie)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session stored under the cookie value itself: %v", err)
	}
	s, err := e.db.Session(ctx, hashToken(cookie))
	if err != nil || s.Subject != e.alice.ID || !s.ExpiresAt.Equal(s.AuthTime.Add(12*time.Hour)) {
		t.Fatalf("stored session = %+v, %v", s, err)
	}

	calls := e.accounts.calls.Load()
	r := e.authorize(e.client, authParams("first"))
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*", "state": "st-123"})
	if e.accounts.calls.Load() != calls {
		t.Error("a live session still checked a password")
	}

	e.clock.Advance(12*time.Hour + time.Second)
	wantPage(t, e.authorize(e.client, authParams("first")), http.StatusOK, `action="/login"`)

	e.signIn(e.client)
	if err := e.db.SetUserDisabled(ctx, e.alice.ID, true, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	wantPage(t, e.authorize(e.client, authParams("first")), http.StatusOK, `action="/login"`)
}

func TestPromptAndMaxAge(t *testing.T) {
	tests := []struct {
		name     string
		signedIn bool
		age      time.Duration // how long ago the user signed in
		params   url.Values
		want     string // "code", "form", "consent" or an error code
	}{
		{"none, no session", false, 0, authParams("first", "prompt", "none"), "login_required"},
		{"none, session", true, 0, authParams("first", "prompt", "none"), "code"},
		{"none, consent needed", true, 0, authParams("web", "prompt", "none"), "consent_required"},
		{"login, session", true, 0, authParams("first", "prompt", "login"), "form"},
		{"select_account, session", true, 0, authParams("first", "prompt", "select_account"), "form"},
		{"consent, first party", true, 0, authParams("first", "prompt", "consent"), "consent"},
		{"max_age satisfied", true, 10 * time.Minute, authParams("first", "max_age", "3600"), "code"},
		{"max_age exceeded", true, 10 * time.Minute, authParams("first", "max_age", "60"), "form"},
		{"max_age exceeded, prompt none", true, 10 * time.Minute, authParams("first", "max_age", "60", "prompt", "none"), "login_required"},
		{"max_age 0", true, time.Second, authParams("first", "max_age", "0"), "form"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testIssuer)
			if tc.signedIn {
				e.signIn(e.client)
				e.clock.Advance(tc.age)
			}
			r := e.authorize(e.client, tc.params)
			switch tc.want {
			case "code":
				if r.status != http.StatusFound || r.location.Query().Get("code") == "" {
					t.Fatalf("want a code, got %d %v", r.status, r.location)
				}
			case "form":
				wantPage(t, r, http.StatusOK, `action="/login"`)
				// Signing in again satisfies prompt=login / max_age: no loop.
				r = e.login(e.client, r, "alice", testPassword)
				if r.status != http.StatusSeeOther || r.location.Query().Get("code") == "" {
					t.Fatalf("after a fresh login: %d %v\n%s", r.status, r.location, r.body)
				}
			case "consent":
				wantPage(t, r, http.StatusOK, `action="/consent"`)
			default:
				if r.status != http.StatusFound || r.location.Query().Get("error") != tc.want {
					t.Fatalf("want error %s, got %d %v", tc.want, r.status, r.location)
				}
				if r.location.Query().Get("state") != "st-123" {
					t.Error("state not echoed")
				}
			}
		})
	}
}

func TestConsent(t *testing.T) {
	e := newEnv(t, testIssuer)
	ctx := context.Background()
	r := e.login(e.client, e.authorize(e.client, authParams("web")), "alice", testPassword)
	wantPage(t, r, http.StatusOK, `action="/consent"`)
	for _, s := range []string{"Web App", "Confirm who you are", "See your username", "alice"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("consent page lacks %q", s)
		}
	}
	if got, _ := e.db.Consent(ctx, e.alice.ID, "web"); len(got) != 0 {
		t.Fatalf("consent recorded before approval: %q", got)
	}
	f := formOf(t, r.body)
	f.Set("decision", "approve")
	r = e.post(e.client, PathConsent, f)
	wantRedirect(t, r, http.StatusSeeOther, "https://app.example/cb", map[string]string{"code": "*", "state": "st-123"})
	if got, _ := e.db.Consent(ctx, e.alice.ID, "web"); strings.Join(got, " ") != "openid profile" {
		t.Errorf("recorded consent = %q", got)
	}

	// Remembered: the same scopes, or fewer, go straight through.
	for _, scope := range []string{"openid profile", "openid"} {
		r = e.authorize(e.client, authParams("web", "scope", scope))
		wantRedirect(t, r, http.StatusFound, "https://app.example/cb", map[string]string{"code": "*"})
	}

	// A new scope asks again; denying sends access_denied.
	r = e.authorize(e.client, authParams("web", "scope", "openid api"))
	wantPage(t, r, http.StatusOK, `action="/consent"`)
	f = formOf(t, r.body)
	f.Set("decision", "deny")
	r = e.post(e.client, PathConsent, f)
	wantRedirect(t, r, http.StatusSeeOther, "https://app.example/cb", map[string]string{
		"error": "access_denied", "state": "st-123", "code": "",
	})
	if got, _ := e.db.Consent(ctx, e.alice.ID, "web"); strings.Join(got, " ") != "openid profile" {
		t.Errorf("denial changed the recorded consent: %q", got)
	}
}

func TestConsentForm(t *testing.T) {
	e := newEnv(t, testIssuer)
	page := e.login(e.client, e.authorize(e.client, authParams("web")), "alice", testPassword)
	good := formOf(t, page.body)
	good.Set("decision", "approve")
	loginToken := formOf(t, e.get(e.client, PathLogin).body).Get(csrfField)
	tests := []struct {
		name       string
		edit       func(url.Values)
		advance    time.Duration
		wantStatus int
		wantText   string
	}{
		{"login token", func(f url.Values) { f.Set(csrfField, loginToken) }, 0, 403, "Form expired"},
		{"no token", func(f url.Values) { f.Del(csrfField) }, 0, 403, "Form expired"},
		{"expired", func(url.Values) {}, consentTicketTTL + time.Second, 403, "Form expired"},
		{"no decision", func(f url.Values) { f.Del("decision") }, 0, 400, "decision"},
		{"tampered request", func(f url.Values) { f.Set("scope", "openid admin") }, 0, 303, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range good {
				f[k] = v
			}
			tc.edit(f)
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)
			r := e.post(e.client, PathConsent, f)
			if tc.wantStatus == 303 {
				// Hidden fields are re-validated: the tampered scope is refused.
				wantRedirect(t, r, http.StatusSeeOther, "https://app.example/cb", map[string]string{"error": "invalid_scope", "code": ""})
				return
			}
			wantPage(t, r, tc.wantStatus, tc.wantText)
		})
	}
	// The form is bound to the session: after signing in again it is void.
	if r := e.login(e.client, e.authorize(e.client, authParams("first", "prompt", "login")), "alice", testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.status)
	}
	wantPage(t, e.post(e.client, PathConsent, good), http.StatusForbidden, "Form expired")
	// Without a session it asks the user to sign in for the same request.
	other := e.newBrowser()
	r := e.post(other, PathConsent, good)
	wantPage(t, r, http.StatusOK, `action="/login"`)
	if formOf(t, r.body).Get("scope") != "openid profile" {
		t.Error("request not carried to the login form")
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	u, _ := url.Parse(e.srv.URL)
	var cookie string
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			cookie = c.Value
		}
	}

	page := e.get(e.client, PathLogout)
	wantPage(t, page, http.StatusOK, `action="/logout"`)
	if !strings.Contains(page.body, "alice") {
		t.Error("logout page does not say who is signed in")
	}
	// Neither the GET nor a forged POST signs out.
	wantPage(t, e.post(e.client, PathLogout, url.Values{}), http.StatusForbidden, "Form expired")
	if _, err := e.db.Session(context.Background(), hashToken(cookie)); err != nil {
		t.Fatalf("session gone before a valid logout: %v", err)
	}

	r := e.post(e.client, PathLogout, formOf(t, page.body))
	wantPage(t, r, http.StatusOK, "You are signed out")
	cleared := false
	for _, c := range r.cookies {
		cleared = cleared || c.Name == sessionCookie && c.MaxAge < 0
	}
	if !cleared {
		t.Error("session cookie not cleared")
	}
	if _, err := e.db.Session(context.Background(), hashToken(cookie)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session still stored: %v", err)
	}
	wantPage(t, e.authorize(e.client, authParams("first")), http.StatusOK, `action="/login"`)
}

func TestStandaloneLogin(t *testing.T) {
	e := newEnv(t, testIssuer)
	page := e.get(e.client, PathLogin)
	wantPage(t, page, http.StatusOK, `action="/login"`)
	if f := formOf(t, page.body); len(f) != 1 {
		t.Errorf("standalone form carries %v", f)
	}
	wantPage(t, e.login(e.client, page, "alice", testPassword), http.StatusOK, "You are signed in as alice")
	r := e.authorize(e.client, authParams("first"))
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"code": "*"})
}

// TestCookieAttributes drives the handler directly so Secure cookies are
// visible whatever the test server's scheme. Under an https issuer every
// cookie carries the __Host- prefix (RFC 6265bis §4.1.3.2: Secure, Path=/,
// no Domain); under plain http the names stay bare.
func TestCookieAttributes(t *testing.T) {
	for _, issuer := range []string{"http://authd.test", "https://authd.test"} {
		t.Run(issuer, func(t *testing.T) {
			e := newEnv(t, issuer)
			wantSecure := strings.HasPrefix(issuer, "https:")
			prefix := ""
			if wantSecure {
				prefix = "__Host-"
			}
			mux := http.NewServeMux()
			e.h.Register(mux)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathAuthorize+"?"+authParams("first").Encode(), nil))
			csrf := findCookie(t, rec.Result().Cookies(), prefix+csrfCookie)
			f := formOf(t, rec.Body.String())
			f.Set("username", "alice")
			f.Set("password", testPassword)
			req := httptest.NewRequest(http.MethodPost, PathLogin, strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: csrf.Name, Value: csrf.Value})
			rec = httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("login: %d\n%s", rec.Code, rec.Body)
			}
			sess := findCookie(t, rec.Result().Cookies(), prefix+sessionCookie)
			dev := findCookie(t, rec.Result().Cookies(), prefix+deviceCookie)
			for _, c := range []*http.Cookie{csrf, sess, dev} {
				wantSameSite := http.SameSiteLaxMode
				if c == dev {
					wantSameSite = http.SameSiteStrictMode
				}
				if !c.HttpOnly || c.SameSite != wantSameSite || c.Path != "/" || c.Domain != "" || c.Secure != wantSecure {
					t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q Domain=%q Secure=%v (want Secure=%v)",
						c.Name, c.HttpOnly, c.SameSite, c.Path, c.Domain, c.Secure, wantSecure)
				}
			}
			for _, c := range []*http.Cookie{csrf, sess} {
				if len(c.Value) != 43 {
					t.Errorf("cookie %s value is not 256 bits base64url", c.Name)
				}
			}
			if sess.MaxAge != 12*60*60 {
				t.Errorf("session Max-Age = %d", sess.MaxAge)
			}
			if csrf.MaxAge != 0 {
				t.Errorf("csrf cookie Max-Age = %d, want a browser-session cookie", csrf.MaxAge)
			}
			if dev.MaxAge != 365*24*60*60 {
				t.Errorf("device cookie Max-Age = %d, want a year", dev.MaxAge)
			}
			if strings.Contains(dev.Value, "alice") {
				t.Errorf("device cookie %q shows the username", dev.Value)
			}
		})
	}
}

func findCookie(t *testing.T, cs []*http.Cookie, name string) *http.Cookie {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie set", name)
	return nil
}

func TestStylesheet(t *testing.T) {
	e := newEnv(t, testIssuer)
	r := e.get(e.client, PathCSS)
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") ||
		!strings.HasPrefix(r.header.Get("Cache-Control"), "public, max-age=") || r.header.Get("ETag") == "" ||
		!strings.Contains(r.body, ".card") {
		t.Fatalf("stylesheet: %d %v", r.status, r.header)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+PathCSS, nil)
	req.Header.Set("If-None-Match", r.header.Get("ETag"))
	if got := e.do(e.client, req); got.status != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", got.status)
	}
}

func TestNewValidates(t *testing.T) {
	db := openStore(t)
	deps := Deps{Clients: db, Accounts: &countingAccounts{}, Sessions: db, Consents: db, Codes: db, IDTokens: newKeys(t, db, nil)}
	key := make([]byte, 32)
	tests := []struct {
		name string
		deps Deps
		opts Options
		ok   bool
	}{
		{"ok", deps, Options{Issuer: "https://id.example", CSRFKey: key}, true},
		{"missing dependency", Deps{Clients: db}, Options{Issuer: "https://id.example", CSRFKey: key}, false},
		{"missing id_token verifier", func() Deps { d := deps; d.IDTokens = nil; return d }(), Options{Issuer: "https://id.example", CSRFKey: key}, false},
		{"short key", deps, Options{Issuer: "https://id.example", CSRFKey: key[:16]}, false},
		{"relative issuer", deps, Options{Issuer: "/id", CSRFKey: key}, false},
		{"other scheme", deps, Options{Issuer: "ftp://id.example", CSRFKey: key}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.deps, tc.opts); (err == nil) != tc.ok {
				t.Errorf("New err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// A new login replaces the browser's session: the old identifier is deleted
// server-side, so a cookie captured before the login (session fixation, or a
// copy left on a shared machine) is worthless afterwards.
func TestLoginReplacesSession(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	u, _ := url.Parse(e.srv.URL)
	first := ""
	for _, c := range e.client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			first = c.Value
		}
	}
	ctx := context.Background()
	if _, err := e.db.Session(ctx, hashToken(first)); err != nil {
		t.Fatalf("first session not stored: %v", err)
	}
	// Sign in again with the same browser (prompt=login forces the form).
	r := e.authorize(e.client, authParams("first", "prompt", "login"))
	wantPage(t, r, http.StatusOK, `action="/login"`)
	if r = e.login(e.client, r, "alice", testPassword); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.status)
	}
	if _, err := e.db.Session(ctx, hashToken(first)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the previous session survived a new login: %v", err)
	}
}

// TestDPoPJKTBindsTheCode: dpop_jkt at the authorization endpoint (RFC 9449
// §10) is kept on the code, for the token endpoint to check; a value that is
// not a thumbprint is invalid_request at the redirect URI.
func TestDPoPJKTBindsTheCode(t *testing.T) {
	const jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" // RFC 7638 §3.1
	e := newEnv(t, testIssuer)
	r := e.login(e.client, e.authorize(e.client, authParams("first", "dpop_jkt", jkt)), "ALICE", testPassword)
	q := wantRedirect(t, r, http.StatusSeeOther, "https://first.example/callback", map[string]string{"code": "*", "error": ""})
	c, err := e.db.RedeemAuthCode(context.Background(), hashToken(q.Get("code")), e.clock.Now())
	if err != nil || c.DPoPJKT != jkt {
		t.Fatalf("stored code %+v, %v; want dpop_jkt %s", c, err, jkt)
	}
	r = e.authorize(e.client, authParams("first", "dpop_jkt", "not-a-thumbprint"))
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{"error": "invalid_request"})
}

// TestPKCEExemptClient: a confidential client registered with require_pkce
// false may leave PKCE out when it sends an OpenID Connect nonce (RFC 9700
// §2.1.1); without the nonce it may not, and no public client may.
func TestPKCEExemptClient(t *testing.T) {
	e := newEnv(t, testIssuer)
	no := false
	if err := e.db.CreateClient(context.Background(), &oauth.Client{ID: "legacy", Name: "Legacy", TokenEndpointAuthMethod: oauth.AuthMethodBasic,
		SecretHash: make([]byte, 32), GrantTypes: []string{oauth.GrantAuthorizationCode}, RedirectURIs: []string{"https://legacy.example/cb"},
		Scopes: []string{"openid"}, FirstParty: true, Metadata: oauth.ClientMetadata{RequirePKCE: &no}}); err != nil {
		t.Fatal(err)
	}
	legacy := func(overrides ...string) url.Values {
		return authParams("legacy", append([]string{"redirect_uri", "https://legacy.example/cb", "scope", "openid",
			"code_challenge", "", "code_challenge_method", ""}, overrides...)...)
	}
	r := e.login(e.client, e.authorize(e.client, legacy()), "alice", testPassword)
	q := wantRedirect(t, r, http.StatusSeeOther, "https://legacy.example/cb", map[string]string{"code": "*", "error": ""})
	if c, err := e.db.RedeemAuthCode(context.Background(), hashToken(q.Get("code")), e.clock.Now()); err != nil || c.CodeChallenge != "" {
		t.Fatalf("stored code %+v, %v", c, err)
	}
	wantRedirect(t, e.authorize(e.client, legacy("nonce", "")), http.StatusFound, "https://legacy.example/cb", map[string]string{"error": "invalid_request"})
	wantRedirect(t, e.authorize(e.client, authParams("first", "code_challenge", "", "code_challenge_method", "")), http.StatusFound,
		"https://first.example/callback", map[string]string{"error": "invalid_request"})
}
