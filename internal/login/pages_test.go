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

// TestLogoutPageWithoutSession: a browser that is not signed in is told so,
// not asked to confirm a sign-out of nothing; with a relying party's request
// that validates, it is offered the way back (TestLogoutWithoutSession goes
// through it).
func TestLogoutPageWithoutSession(t *testing.T) {
	e := newEnv(t, testIssuer)
	expired := e.newBrowser()
	e.signIn(expired)
	e.clock.Advance(13 * time.Hour) // past the 12h session lifetime
	defer e.clock.Advance(-13 * time.Hour)

	rp := logoutParams("id_token_hint", e.idToken(nil), "post_logout_redirect_uri", "https://app.example/bye")
	tests := []struct {
		name     string
		browser  *http.Client
		params   url.Values
		wantForm bool // a form that returns to the relying party
	}{
		{"no cookie", e.newBrowser(), nil, false},
		{"expired session", expired, nil, false},
		{"request that does not validate", e.newBrowser(), logoutParams("post_logout_redirect_uri", "https://evil.example/"), false},
		{"relying party's request", e.newBrowser(), rp, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(tc.browser, PathLogout+"?"+tc.params.Encode())
			wantPage(t, r, http.StatusOK, "You are signed out")
			if strings.Contains(r.body, "Sign out?") || strings.Contains(r.body, `value="cancel"`) {
				t.Errorf("asks to confirm a sign-out without a session:\n%s", r.body)
			}
			hasForm := strings.Contains(r.body, `action="/logout"`)
			if hasForm != tc.wantForm {
				t.Fatalf("form to return to the relying party: %v, want %v\n%s", hasForm, tc.wantForm, r.body)
			}
			if tc.wantForm && !strings.Contains(r.body, "Return to <strong>Web App</strong>") && !strings.Contains(r.body, "Return to Web App") {
				t.Errorf("does not name the relying party:\n%s", r.body)
			}
		})
	}
}

// sessionFailing fails reads of sessions on demand, as a store that is down.
type sessionFailing struct {
	store.Sessions
	fail bool
}

func (s *sessionFailing) Session(ctx context.Context, hash []byte) (*store.Session, error) {
	if s.fail {
		return nil, errors.Join(store.ErrUnavailable, errors.New("injected"))
	}
	return s.Sessions.Session(ctx, hash)
}

// TestLogoutPageStoreDown: when the store cannot say whether there is a
// session, the confirmation is asked as before, so a signed-in user can
// still sign out once it is back.
func TestLogoutPageStoreDown(t *testing.T) {
	var sessions *sessionFailing
	e := newEnvWith(t, testIssuer, func(d *Deps) {
		sessions = &sessionFailing{Sessions: d.Sessions}
		d.Sessions = sessions
	})
	e.signIn(e.client)
	sessions.fail = true
	wantPage(t, e.get(e.client, PathLogout), http.StatusOK, "Sign out?")
	sessions.fail = false
	signOut(t, e, e.client)
}

// TestLogoutCancel: the confirmation has a Cancel that changes nothing, even
// from a forged form.
func TestLogoutCancel(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	cookie := e.sessionOf(e.client)
	params := logoutParams("id_token_hint", e.idToken(nil), "post_logout_redirect_uri", "https://app.example/bye", "state", "s")
	page := e.get(e.client, PathLogout+"?"+params.Encode())
	wantPage(t, page, http.StatusOK, `name="decision" value="cancel"`)
	form := formOf(t, page.body)

	cancel := url.Values{}
	for k, v := range form {
		cancel[k] = v
	}
	cancel.Set("decision", "cancel")
	forged := url.Values{"decision": {"cancel"}}
	for _, f := range []url.Values{cancel, forged} {
		r := e.post(e.client, PathLogout, f)
		wantPage(t, r, http.StatusOK, "You are still signed in as alice")
		if !e.sessionStored(cookie) {
			t.Fatal("Cancel signed out")
		}
		for _, c := range r.cookies {
			if c.Name == sessionCookie {
				t.Errorf("Cancel touched the session cookie: %v", c)
			}
		}
	}
	// The form still signs out afterwards.
	r := e.post(e.client, PathLogout, form)
	if r.status != http.StatusSeeOther || e.sessionStored(cookie) {
		t.Fatalf("sign-out after a cancel: %d %v", r.status, r.location)
	}
	// Cancel without a session says so.
	wantPage(t, e.post(e.client, PathLogout, cancel), http.StatusOK, "You are signed out")
}

// TestErrorPagesShowRequestID: an error page carries the request id the
// middleware put on the response, and a way back; other pages do not.
func TestErrorPagesShowRequestID(t *testing.T) {
	e := newEnv(t, testIssuer)
	tests := []struct {
		name       string
		do         func() *response
		wantStatus int
		wantID     bool
	}{
		{"unknown client", func() *response { return e.authorize(e.client, authParams("ghost")) }, http.StatusBadRequest, true},
		{"unregistered redirect URI", func() *response {
			return e.authorize(e.client, authParams("web", "redirect_uri", "https://evil.example/cb"))
		}, http.StatusBadRequest, true},
		{"form expired", func() *response { return e.post(e.client, PathLogin, url.Values{"username": {"alice"}}) }, http.StatusForbidden, true},
		{"not a form", func() *response {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+PathLogin, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			return e.do(e.client, req)
		}, http.StatusUnsupportedMediaType, true},
		{"signed out page", func() *response { return e.get(e.client, PathLogout) }, http.StatusOK, false},
		{"login form", func() *response { return e.get(e.client, PathLogin) }, http.StatusOK, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			wantPage(t, r, tc.wantStatus, "")
			hasID := strings.Contains(r.body, "request id <code>test</code>")
			if hasID != tc.wantID {
				t.Errorf("shows the request id: %v, want %v\n%s", hasID, tc.wantID, r.body)
			}
			if tc.wantID && !strings.Contains(r.body, `<a href="/login">`) {
				t.Errorf("error page has no way back:\n%s", r.body)
			}
		})
	}
}

// TestNotFoundPage is the page httpapi serves browsers for an unknown path.
func TestNotFoundPage(t *testing.T) {
	e := newEnv(t, testIssuer)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		w := httptest.NewRecorder()
		w.Header().Set("X-Request-Id", "rid-404")
		e.h.NotFound(w, httptest.NewRequest(method, "/no/such/page", nil))
		res := &response{status: w.Code, header: w.Header(), body: w.Body.String()}
		wantPage(t, res, http.StatusNotFound, "Page not found")
		for _, want := range []string{`href="/assets/login.css"`, "request id <code>rid-404</code>", `<a href="/login">`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("%s: page lacks %q:\n%s", method, want, res.body)
			}
		}
	}
}
