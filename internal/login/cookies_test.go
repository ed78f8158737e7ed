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

	"github.com/authd/authd/internal/store"
)

// direct drives the handler without a test server, so https cookie names
// and attributes are visible; cookies are sent as given.
type direct struct {
	t   *testing.T
	mux *http.ServeMux
}

func newDirect(e *env) *direct {
	mux := http.NewServeMux()
	e.h.Register(mux)
	return &direct{t: e.t, mux: mux}
}

func (d *direct) do(method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	d.t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	d.mux.ServeHTTP(w, r)
	return w
}

// storeSession puts a session for alice in the store as if issued at authTime
// and returns its cookie value.
func (e *env) storeSession(authTime time.Time) string {
	e.t.Helper()
	v := e.h.randomToken(32)
	if err := e.db.CreateSession(context.Background(), &store.Session{
		Hash: hashToken(v), Subject: e.alice.ID, AuthTime: authTime, ExpiresAt: authTime.Add(12 * time.Hour),
	}); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// TestLegacySessionCookie: under an https issuer, a session cookie issued
// under the bare name before the upgrade keeps working for its lifetime; a
// session planted under the bare name after it (cookie tossing from a sibling
// domain) does not.
func TestLegacySessionCookie(t *testing.T) {
	e := newEnv(t, "https://authd.test")
	d := newDirect(e)
	before := e.storeSession(e.clock.Now().Add(-time.Hour)) // issued by the previous version
	e.clock.Advance(time.Minute)
	after := e.storeSession(e.clock.Now()) // a session of today, in someone's hands
	prompt := PathAuthorize + "?" + authParams("first", "prompt", "none").Encode()
	tests := []struct {
		name     string
		cookies  []*http.Cookie
		wantCode bool
	}{
		{"no cookie", nil, false},
		{"pre-upgrade session, bare name", []*http.Cookie{{Name: sessionCookie, Value: before}}, true},
		{"post-upgrade session, bare name", []*http.Cookie{{Name: sessionCookie, Value: after}}, false},
		{"post-upgrade session, __Host- name", []*http.Cookie{{Name: "__Host-" + sessionCookie, Value: after}}, true},
		{"__Host- cookie wins over the bare one", []*http.Cookie{{Name: "__Host-" + sessionCookie, Value: "junk"}, {Name: sessionCookie, Value: before}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := d.do(http.MethodGet, prompt, nil, tc.cookies...)
			loc, _ := url.Parse(w.Header().Get("Location"))
			if w.Code != http.StatusFound || loc == nil {
				t.Fatalf("authorize: %d", w.Code)
			}
			if got := loc.Query().Get("code") != ""; got != tc.wantCode {
				t.Errorf("signed in = %v, want %v (%s)", got, tc.wantCode, loc)
			}
		})
	}
	// The bare-name cookie stays honoured only for what it was: a plain-http
	// issuer, which never used the prefix, honours any session under it.
	plain := newEnv(t, testIssuer)
	v := plain.storeSession(plain.clock.Now().Add(time.Minute))
	plain.clock.Advance(2 * time.Minute)
	w := newDirect(plain).do(http.MethodGet, prompt, nil, &http.Cookie{Name: sessionCookie, Value: v})
	if loc, _ := url.Parse(w.Header().Get("Location")); loc == nil || loc.Query().Get("code") == "" {
		t.Errorf("plain-http issuer ignored its session cookie: %d %s", w.Code, w.Header().Get("Location"))
	}
}

// TestLegacySessionEnds: signing out, or in again, deletes a pre-upgrade
// session and clears its bare-name cookie.
func TestLegacySessionEnds(t *testing.T) {
	e := newEnv(t, "https://authd.test")
	d := newDirect(e)
	ctx := context.Background()
	for _, action := range []string{"logout", "login"} {
		t.Run(action, func(t *testing.T) {
			legacy := &http.Cookie{Name: sessionCookie, Value: e.storeSession(e.clock.Now().Add(-time.Hour))}
			page := d.do(http.MethodGet, PathLogin, nil, legacy)
			csrf := findCookie(t, page.Result().Cookies(), "__Host-"+csrfCookie)
			f := formOf(t, page.Body.String())
			path := PathLogin
			if action == "logout" {
				page = d.do(http.MethodGet, PathLogout, nil, legacy, csrf)
				f = formOf(t, page.Body.String())
				path = PathLogout
			} else {
				f.Set("username", "alice")
				f.Set("password", testPassword)
			}
			w := d.do(http.MethodPost, path, f, legacy, csrf)
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d\n%s", action, w.Code, w.Body)
			}
			if _, err := e.db.Session(ctx, hashToken(legacy.Value)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("legacy session survives %s: %v", action, err)
			}
			if c := findCookie(t, w.Result().Cookies(), sessionCookie); c.MaxAge >= 0 {
				t.Errorf("bare-name cookie not cleared: %+v", c)
			}
		})
	}
}

// TestLegacyCSRFCookieRefused: the CSRF cookie is read under its __Host-
// name only. A form drawn before the upgrade fails once, and the page that
// says so sets the new cookie, so the next form works.
func TestLegacyCSRFCookieRefused(t *testing.T) {
	e := newEnv(t, "https://authd.test")
	d := newDirect(e)
	v := e.h.randomToken(32)
	f := url.Values{csrfField: {e.h.csrfToken(v, purposeLogin, "", e.clock.Now())}, "username": {"alice"}, "password": {testPassword}}
	if w := d.do(http.MethodPost, PathLogin, f, &http.Cookie{Name: csrfCookie, Value: v}); w.Code != http.StatusForbidden {
		t.Fatalf("bare-name CSRF cookie accepted: %d", w.Code)
	}
	if w := d.do(http.MethodPost, PathLogin, f, &http.Cookie{Name: "__Host-" + csrfCookie, Value: v}); w.Code != http.StatusOK {
		t.Fatalf("__Host- CSRF cookie refused: %d", w.Code)
	}
	// Drawing a form for a browser with only the old cookie replaces it.
	w := d.do(http.MethodGet, PathLogin, nil, &http.Cookie{Name: csrfCookie, Value: v})
	if c := findCookie(t, w.Result().Cookies(), "__Host-"+csrfCookie); c.Value == v || !c.Secure {
		t.Errorf("new CSRF cookie %+v", c)
	}
	if c := findCookie(t, w.Result().Cookies(), csrfCookie); c.MaxAge >= 0 {
		t.Errorf("bare-name CSRF cookie not cleared: %+v", c)
	}
}
