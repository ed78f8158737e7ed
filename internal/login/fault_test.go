package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authd/authd/internal/httpapi"
	"github.com/authd/authd/internal/store"
)

// failingCodes stores codes through the real store until fail is set, then
// fails as a backend that is down would.
type failingCodes struct {
	Codes
	fail atomic.Bool
}

func (f *failingCodes) CreateAuthCode(ctx context.Context, c *store.AuthCode) error {
	if f.fail.Load() {
		return errors.Join(store.ErrUnavailable, errors.New("injected: connection refused"))
	}
	return f.Codes.CreateAuthCode(ctx, c)
}

// TestStoreFault: a failure after the request is trusted goes to the client
// as temporarily_unavailable (a redirect cannot carry a 5xx, RFC 6749
// §4.1.2.1); it is logged with the request id, and no log line holds a
// password, code or cookie value.
func TestStoreFault(t *testing.T) {
	var codes *failingCodes
	e := newEnvWith(t, testIssuer, func(d *Deps) {
		codes = &failingCodes{Codes: d.Codes}
		d.Codes = codes
	})
	e.signIn(e.client)
	r := e.authorize(e.client, authParams("first"))
	code := r.location.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %v", r.location)
	}

	codes.fail.Store(true)
	r = e.authorize(e.client, authParams("first"))
	wantRedirect(t, r, http.StatusFound, "https://first.example/callback", map[string]string{
		"error": "temporarily_unavailable", "state": "st-123", "code": "",
	})
	// And after a login POST, too.
	r = e.login(e.client, e.authorize(e.client, authParams("first", "prompt", "login")), "alice", testPassword)
	wantRedirect(t, r, http.StatusSeeOther, "https://first.example/callback", map[string]string{"error": "temporarily_unavailable"})

	logs := e.logs.String()
	if !strings.Contains(logs, "injected: connection refused") || !strings.Contains(logs, `"request_id":"test"`) {
		t.Errorf("fault not logged with the request id:\n%s", logs)
	}
	u, _ := url.Parse(e.srv.URL)
	secrets := []string{testPassword, code}
	for _, c := range e.client.Jar.Cookies(u) {
		secrets = append(secrets, c.Value)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log holds a secret %q:\n%s", s, logs)
		}
	}
}

// hangUpCodes cancels the request's context when asked to store a code, as
// net/http does when the browser's connection closes mid-request, and fails
// as the store then does.
type hangUpCodes struct {
	Codes
	cancel atomic.Pointer[context.CancelFunc]
}

func (c *hangUpCodes) CreateAuthCode(ctx context.Context, code *store.AuthCode) error {
	if f := c.cancel.Load(); f != nil {
		(*f)()
		return fmt.Errorf("sqlite: interrupted: %w", ctx.Err())
	}
	return c.Codes.CreateAuthCode(ctx, code)
}

// TestClientHangUp: a browser that went away is not a server fault: the
// failure it causes is logged at debug level, not as an error, and recorded
// as 499 (httpapi.StatusClientClosedRequest), with no page or redirect.
func TestClientHangUp(t *testing.T) {
	var codes *hangUpCodes
	e := newEnvConfig(t, envConfig{issuer: testIssuer, debug: true, wrap: func(d *Deps) {
		codes = &hangUpCodes{Codes: d.Codes}
		d.Codes = codes
	}})
	e.signIn(e.client)
	u, _ := url.Parse(e.srv.URL)
	mux := http.NewServeMux()
	e.h.Register(mux)
	tests := []struct {
		name string
		// early: gone before the request is read (the client lookup fails);
		// else gone while the code is stored (the redirect is not sent).
		early bool
	}{
		{"gone before the client lookup (a page)", true},
		{"gone while the code is stored (a redirect)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			since := len(e.logs.String())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.early {
				cancel()
			} else {
				codes.cancel.Store(&cancel)
				defer codes.cancel.Store(nil)
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, PathAuthorize+"?"+authParams("first").Encode(), nil)
			for _, c := range e.client.Jar.Cookies(u) {
				r.AddCookie(c)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != httpapi.StatusClientClosedRequest || w.Body.Len() != 0 || w.Header().Get("Location") != "" {
				t.Errorf("got %d Location %q body %q, want a bare 499", w.Code, w.Header().Get("Location"), w.Body)
			}
			logs := e.logs.String()[since:]
			if strings.Contains(logs, `"level":"ERROR"`) || !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, `"kind":"canceled"`) {
				t.Errorf("hang-up logged as:\n%s", logs)
			}
		})
	}
	// A real failure is still an error.
	e.db.Close()
	since := len(e.logs.String())
	r := e.authorize(e.client, authParams("first"))
	wantPage(t, r, http.StatusInternalServerError, "Something went wrong")
	if !strings.Contains(e.logs.String()[since:], `"level":"ERROR"`) {
		t.Errorf("store failure not logged as an error:\n%s", e.logs.String()[since:])
	}
}
