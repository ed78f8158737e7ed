package admin_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/logoutnotify"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/outbound"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
)

type noPoster struct{}

func (noPoster) Post(context.Context, string, url.Values) (*outbound.Response, error) {
	return nil, errors.New("not in this test")
}

// TestEndUserSessions: DELETE /admin/users/{id}/sessions ends every session
// of the user (204), enqueues a logout token for each client of them, and
// leaves other users alone; an unknown user is a 404 problem.
func TestEndUserSessions(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	now := time.Now()
	n, err := logoutnotify.New(db, db, nil, noPoster{}, logoutnotify.Options{Issuer: "https://authd.example"})
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
	acct := account.New(db, hasher, password.Policy{}, account.Options{Logger: slog.New(slog.DiscardHandler), Logouts: n})
	h := &harness{t: t, db: db, srv: admin.New(admin.Deps{Users: db, Accounts: acct}, slog.New(slog.NewTextHandler(io.Discard, nil)), admin.Options{Token: adminToken})}
	if err := db.CreateClient(ctx, &oauth.Client{ID: "rp", CreatedAt: now, UpdatedAt: now,
		Metadata: oauth.ClientMetadata{BackchannelLogoutURI: "https://rp.example/bc"}}); err != nil {
		t.Fatal(err)
	}
	users := map[string]*store.User{}
	for _, name := range []string{"alice", "bob"} {
		u, err := acct.Create(ctx, name, "correct horse battery staple", "")
		if err != nil {
			t.Fatal(err)
		}
		users[name] = u
		for _, s := range []string{"1", "2"} {
			hash := sha256.Sum256([]byte(name + s))
			if err := db.CreateSession(ctx, &store.Session{Hash: hash[:], Subject: u.ID, AuthTime: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Joined(ctx, hash[:], u.ID, "rp", now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	alive := func(name string) (n int) {
		for _, s := range []string{"1", "2"} {
			hash := sha256.Sum256([]byte(name + s))
			if _, err := db.Session(ctx, hash[:]); err == nil {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name, ref, token string
		wantStatus       int
		wantAlice        int // sessions of alice left
		wantQueued       int // notifications in the outbox, in all
	}{
		{"no admin token", users["alice"].ID, "", 401, 2, 0},
		{"unknown user", "nobody", adminToken, 404, 2, 0},
		{"by username", "alice", adminToken, 204, 0, 2},
		{"again: nothing left to end", users["alice"].ID, adminToken, 204, 0, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, m := h.do("DELETE", "/admin/users/"+tc.ref+"/sessions", "", tc.token)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", w.Code, tc.wantStatus, m)
			}
			if got := alive("alice"); got != tc.wantAlice {
				t.Fatalf("alice has %d sessions, want %d", got, tc.wantAlice)
			}
			if got := alive("bob"); got != 2 {
				t.Fatalf("bob has %d sessions, want 2", got)
			}
			// Peek at the outbox without taking the rows: claim, then release.
			queued, err := db.ClaimLogouts(ctx, time.Now().Add(time.Second), time.Nanosecond, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(queued) != tc.wantQueued {
				t.Fatalf("%d notifications queued, want %d", len(queued), tc.wantQueued)
			}
			for _, q := range queued {
				if q.Subject != users["alice"].ID || q.ClientID != "rp" {
					t.Fatalf("queued %+v", q)
				}
				if err := db.RetryLogout(ctx, q, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
