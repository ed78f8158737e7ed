package login

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/secevent"
)

// recordedEvents is a secevent.Emitter that keeps what it is given.
type recordedEvents struct {
	mu     sync.Mutex
	events []secevent.Event
}

func (r *recordedEvents) Emit(e secevent.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recordedEvents) of(typ string) []secevent.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []secevent.Event
	for _, e := range r.events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// A password reset ends the browser's session; signing in again with the new
// password issues a code that carries the user's new generation, which the
// token endpoint requires.
func TestPasswordResetEndsSession(t *testing.T) {
	e := newEnv(t, "https://auth.example")
	e.signIn(e.client)
	ctx := context.Background()
	const newPassword = "a different fine passphrase"
	if err := e.svc.SetPassword(ctx, e.alice.ID, newPassword); err != nil {
		t.Fatal(err)
	}
	page := e.authorize(e.client, authParams("first"))
	wantPage(t, page, http.StatusOK, `action="/login"`) // signed out
	r := e.login(e.client, page, "alice", newPassword)
	code := r.location.Query().Get("code")
	if r.status != http.StatusSeeOther || code == "" {
		t.Fatalf("sign-in with the new password: %d %v", r.status, r.location)
	}
	c, err := e.db.RedeemAuthCode(ctx, hashToken(code), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.db.User(ctx, e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Generation == 0 || c.UserGeneration != u.Generation {
		t.Fatalf("code generation %d, user generation %d", c.UserGeneration, u.Generation)
	}
}

// passwordForm loads the password change form in browser c and fills it in.
func (e *env) passwordForm(c *http.Client, current, pw, again string) url.Values {
	e.t.Helper()
	page := e.get(c, PathAccountPassword)
	wantPage(e.t, page, http.StatusOK, `action="/account/password"`)
	f := formOf(e.t, page.body)
	f.Set("current_password", current)
	f.Set("new_password", pw)
	f.Set("new_password2", again)
	return f
}

// signedIn reports whether browser c has a live session: a first-party
// authorization goes straight to the client.
func (e *env) signedIn(c *http.Client) bool {
	e.t.Helper()
	r := e.authorize(c, authParams("first"))
	return r.status == http.StatusFound && r.location.Query().Get("code") != ""
}

// TestChangePassword: a user changes their own password from session A;
// session B (another browser) is signed out, A stays signed in, the old
// password no longer works and the new one does.
func TestChangePassword(t *testing.T) {
	events := &recordedEvents{}
	e := newEnvConfig(t, envConfig{issuer: testIssuer, opts: func(o *Options) { o.Events = events }})
	a, b := e.newBrowser(), e.newBrowser()
	e.signIn(a)
	e.signIn(b)
	const newPassword = "a different fine passphrase"

	r := e.post(a, PathAccountPassword, e.passwordForm(a, testPassword, newPassword, newPassword))
	wantPage(t, r, http.StatusOK, "Your password has been changed")
	if !e.signedIn(a) {
		t.Error("the session that changed the password was signed out")
	}
	if e.signedIn(b) {
		t.Error("another session survived the password change")
	}
	wantPage(t, e.loginFrom(e.newBrowser(), "192.0.2.1", "alice", testPassword), http.StatusUnauthorized, msgInvalidCredentials)
	wantPage(t, e.loginFrom(e.newBrowser(), "192.0.2.1", "alice", newPassword), http.StatusOK, "You are signed in as alice")
	if got := events.of("user.password_changed"); len(got) != 1 || got[0].Subject != e.alice.ID || got[0].Detail["by"] != "self" {
		t.Errorf("events = %+v", got)
	}
	if logs := e.logs.String(); strings.Contains(logs, newPassword) || strings.Contains(logs, testPassword) {
		t.Errorf("log holds a password:\n%s", logs)
	}
}

// TestChangePasswordRefused: what the form refuses, and that each refusal
// changes nothing and never echoes a password.
func TestChangePasswordRefused(t *testing.T) {
	e := newEnv(t, testIssuer)
	e.signIn(e.client)
	other := e.newBrowser()
	e.signIn(other)
	const good = "a different fine passphrase"
	otherToken := formOf(t, e.get(other, PathAccountPassword).body).Get(csrfField)
	tests := []struct {
		name       string
		form       func() url.Values
		wantStatus int
		want       string
	}{
		{"wrong current password", func() url.Values { return e.passwordForm(e.client, "not it", good, good) }, http.StatusUnauthorized, msgWrongPassword},
		{"new passwords differ", func() url.Values { return e.passwordForm(e.client, testPassword, good, good+"!") }, http.StatusBadRequest, msgPasswordsMismatch},
		{"new password missing", func() url.Values { return e.passwordForm(e.client, testPassword, "", "") }, http.StatusBadRequest, msgPasswordsMissing},
		{"policy: too short", func() url.Values { return e.passwordForm(e.client, testPassword, "short", "short") }, http.StatusBadRequest, "at least 8 characters"},
		{"policy: the username", func() url.Values { return e.passwordForm(e.client, testPassword, "alice-alice", "alice-alice") }, http.StatusBadRequest, "username"},
		{"no CSRF token", func() url.Values {
			f := e.passwordForm(e.client, testPassword, good, good)
			f.Del(csrfField)
			return f
		}, http.StatusForbidden, "Form expired"},
		{"another session's token", func() url.Values {
			f := e.passwordForm(e.client, testPassword, good, good)
			f.Set(csrfField, otherToken)
			return f
		}, http.StatusForbidden, "Form expired"},
		{"repeated field", func() url.Values {
			f := e.passwordForm(e.client, testPassword, good, good)
			f.Add("new_password", "x")
			return f
		}, http.StatusBadRequest, "repeated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.form()
			r := e.post(e.client, PathAccountPassword, f)
			wantPage(t, r, tc.wantStatus, tc.want)
			for _, pw := range []string{testPassword, good, "not it", "short", "alice-alice"} {
				if strings.Contains(r.body, pw) {
					t.Errorf("page echoes %q", pw)
				}
			}
			if !e.signedIn(e.client) || !e.signedIn(other) {
				t.Fatal("a refused change signed someone out")
			}
		})
	}
	wantPage(t, e.loginFrom(e.newBrowser(), "192.0.2.1", "alice", testPassword), http.StatusOK, "You are signed in as alice")
}

// TestChangePasswordGuarded: a wrong current password is a failed login the
// brute-force defences count; once they refuse, the form says for how long.
func TestChangePasswordGuarded(t *testing.T) {
	lim := memory.New(memory.Options{})
	t.Cleanup(lim.Close)
	e := guardedEnv(t, testIssuer, lim)
	e.signIn(e.client)
	var r *response
	for i := range 20 {
		r = e.post(e.client, PathAccountPassword, e.passwordForm(e.client, "guess "+strconv.Itoa(i), "new fine passphrase", "new fine passphrase"))
		if r.status != http.StatusUnauthorized {
			break
		}
	}
	wantPage(t, r, http.StatusTooManyRequests, "Too many sign-in attempts. Try again in")
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Even the right password is refused now, and nothing changed.
	r = e.post(e.client, PathAccountPassword, e.passwordForm(e.client, testPassword, "new fine passphrase", "new fine passphrase"))
	wantPage(t, r, http.StatusTooManyRequests, "Too many sign-in attempts")
	if !e.signedIn(e.client) {
		t.Error("signed out by the refusals")
	}
}

// TestChangePasswordNeedsSession: without a session the page sends the
// browser to sign in, and the sign-in comes back to the page; the return
// address is ours only.
func TestChangePasswordNeedsSession(t *testing.T) {
	e := newEnv(t, testIssuer)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var r *response
		if method == http.MethodGet {
			r = e.get(e.client, PathAccountPassword)
		} else {
			r = e.post(e.client, PathAccountPassword, url.Values{"current_password": {testPassword}, "new_password": {"x"}, "new_password2": {"x"}})
		}
		if r.status != http.StatusSeeOther || r.location.String() != "/login?next=%2Faccount%2Fpassword" {
			t.Fatalf("%s without a session: %d %v", method, r.status, r.location)
		}
	}
	page := e.get(e.client, "/login?next=%2Faccount%2Fpassword")
	if f := formOf(t, page.body); f.Get(pNext) != PathAccountPassword {
		t.Fatalf("login form does not carry next: %v", f)
	}
	r := e.login(e.client, page, "alice", testPassword)
	if r.status != http.StatusSeeOther || r.location.String() != PathAccountPassword {
		t.Fatalf("after sign-in: %d %v", r.status, r.location)
	}
	wantPage(t, e.get(e.client, PathAccountPassword), http.StatusOK, "Signed in as <strong>alice</strong>")

	for _, next := range []string{"https://evil.example/", "//evil.example", "/account/password/../../logout", "/oauth2/authorize"} {
		b := e.newBrowser()
		page := e.get(b, "/login?"+url.Values{pNext: {next}}.Encode())
		if strings.Contains(page.body, `name="next"`) {
			t.Errorf("next=%q carried", next)
		}
		f := formOf(t, page.body)
		f.Set(pNext, next) // and forged into the form
		f.Set("username", "alice")
		f.Set("password", testPassword)
		if r := e.post(b, PathLogin, f); r.status != http.StatusOK || r.location != nil {
			t.Errorf("next=%q: %d %v", next, r.status, r.location)
		}
	}
	// A wrong password shows the form again, still returning to the page.
	b := e.newBrowser()
	r = e.login(b, e.get(b, "/login?next=%2Faccount%2Fpassword"), "alice", "wrong")
	if f := formOf(t, r.body); r.status != http.StatusUnauthorized || f.Get(pNext) != PathAccountPassword {
		t.Errorf("after a wrong password: %d %v", r.status, f)
	}
}
