package login

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/store/sqlite"
)

// nopPoster never delivers; the tests read the outbox instead.
type nopPoster struct{}

func (nopPoster) Post(context.Context, string, url.Values) (*outbound.Response, error) {
	return nil, errors.New("not in this test")
}

// failingLogouts cannot enqueue (a store that is down).
type failingLogouts struct{ SessionLogouts }

func (failingLogouts) SessionEnding(context.Context, string, []byte) ([]logoutnotify.FrontChannel, error) {
	return nil, store.ErrUnavailable
}

// newLogoutEnv is an env whose handler tells relying parties of logouts;
// client "first" registered both logout URIs.
func newLogoutEnv(t *testing.T, failing bool) *env {
	t.Helper()
	e := newEnvWith(t, testIssuer, func(d *Deps) {
		db := d.Clients.(*sqlite.DB)
		n, err := logoutnotify.New(db, db, nil, nopPoster{}, logoutnotify.Options{Issuer: testIssuer})
		if err != nil {
			t.Fatal(err)
		}
		d.Logouts = n
		if failing {
			d.Logouts = failingLogouts{n}
		}
	})
	ctx := context.Background()
	first, err := e.db.Client(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	first.Metadata.FrontchannelLogoutURI = "https://first.example/fc?tenant=a"
	first.Metadata.FrontchannelLogoutSessionRequired = true
	first.Metadata.BackchannelLogoutURI = "https://first.example/bc"
	if err := e.db.UpdateClient(ctx, first); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLogoutTellsRelyingParties: signing out enqueues a back-channel
// notification for the client the session issued a code to, and the
// signed-out page frames its frontchannel_logout_uri with iss and sid
// (Front-Channel §3), allowed by frame-src and nothing else.
func TestLogoutTellsRelyingParties(t *testing.T) {
	for _, withRedirect := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "with a post_logout_redirect_uri"}[withRedirect], func(t *testing.T) {
			e := newLogoutEnv(t, false)
			e.signIn(e.client)
			sid := logoutnotify.SessionID(hashToken(e.sessionOf(e.client)))
			params := url.Values{}
			if withRedirect {
				params = logoutParams("client_id", "first", "post_logout_redirect_uri", "https://first.example/signed-out", "state", "s")
			}
			page := e.get(e.client, PathLogout+"?"+params.Encode())
			r := e.post(e.client, PathLogout, formOf(t, page.body))
			if r.status != http.StatusOK {
				t.Fatalf("got %d %v", r.status, r.location)
			}
			wantFrame := `<iframe src="https://first.example/fc?iss=` + url.QueryEscape(testIssuer) + `&amp;sid=` + sid + `&amp;tenant=a"`
			if !strings.Contains(r.body, wantFrame) {
				t.Fatalf("no iframe %s in\n%s", wantFrame, r.body)
			}
			wantCSP := htmlCSP + "; frame-src https://first.example"
			if got := r.header.Get("Content-Security-Policy"); got != wantCSP {
				t.Fatalf("CSP %q, want %q", got, wantCSP)
			}
			if back := `href="https://first.example/signed-out?state=s"`; withRedirect != strings.Contains(r.body, back) {
				t.Fatalf("link back %v:\n%s", withRedirect, r.body)
			}
			// The notifier runs on the real clock here.
			got, err := e.db.ClaimLogouts(context.Background(), time.Now().Add(time.Second), time.Minute, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ClientID != "first" || got[0].SID != sid || got[0].Subject != e.alice.ID {
				t.Fatalf("outbox %+v", got)
			}
		})
	}
}

// TestLogoutKeepsSessionWhenNobodyCanBeTold: if the notifications cannot be
// written, the session is not ended (and the page says it failed).
func TestLogoutKeepsSessionWhenNobodyCanBeTold(t *testing.T) {
	e := newLogoutEnv(t, true)
	e.signIn(e.client)
	cookie := e.sessionOf(e.client)
	page := e.get(e.client, PathLogout)
	r := e.post(e.client, PathLogout, formOf(t, page.body))
	if r.status < 500 {
		t.Fatalf("got %d, want a failure page", r.status)
	}
	if !e.sessionStored(cookie) {
		t.Fatal("the session ended though its relying parties were not told")
	}
}

// FuzzCSPSource: an origin accepted into frame-src can neither end the
// directive nor add a source or keyword.
func FuzzCSPSource(f *testing.F) {
	f.Add("https://first.example")
	f.Add("https://a.example; script-src *")
	f.Add("http://[::1]:8080")
	f.Fuzz(func(t *testing.T, origin string) {
		if cspSource(origin) && strings.ContainsAny(origin, "; ,'\"\t\n\r*") {
			t.Fatalf("accepted %q", origin)
		}
	})
}

// TestReloginEndsTheOldSession: signing in again in the same browser
// replaces the session, and the old one's clients are told.
func TestReloginEndsTheOldSession(t *testing.T) {
	e := newLogoutEnv(t, false)
	e.signIn(e.client)
	old := logoutnotify.SessionID(hashToken(e.sessionOf(e.client)))
	// prompt=login forces the form although the session is live.
	r := e.login(e.client, e.authorize(e.client, authParams("first", "prompt", "login")), "alice", testPassword)
	if r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d\n%s", r.status, r.body)
	}
	if now := logoutnotify.SessionID(hashToken(e.sessionOf(e.client))); now == old {
		t.Fatal("the session was not replaced")
	}
	got, err := e.db.ClaimLogouts(context.Background(), time.Now().Add(time.Second), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SID != old {
		t.Fatalf("outbox %+v, want the old session's notification", got)
	}
}
