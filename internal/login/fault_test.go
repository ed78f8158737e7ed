package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

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
