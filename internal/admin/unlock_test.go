package admin_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/admin"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/testenv/dbtest"
)

// TestUnlockUser: POST /admin/users/{id}/unlock clears the lockout of a user
// named by id or username; an unknown one is a 404 problem.
func TestUnlockUser(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	now := time.Unix(1_800_000_000, 0)
	lim := memory.New(memory.Options{Now: func() time.Time { return now }})
	t.Cleanup(lim.Close)
	guard := defense.NewLoginGuard(lim, defense.DefaultLoginPolicy(), []byte("0123456789abcdef0123456789abcdef"), nil, nil)
	hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
	acct := account.New(db, hasher, password.Policy{}, account.Options{Guard: guard, Logger: slog.New(slog.DiscardHandler)})
	alice, err := acct.Create(ctx, "alice", "correct horse battery staple", "")
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, srv: admin.New(admin.Deps{Users: db, Accounts: acct}, slog.New(slog.NewTextHandler(io.Discard, nil)), admin.Options{Token: adminToken})}
	from := account.WithClientIP(ctx, "192.0.2.66")
	lockOut := func() {
		t.Helper()
		for range 10 {
			_, _ = acct.Authenticate(from, "alice", "guess")
		}
		if _, err := acct.Authenticate(from, "alice", "correct horse battery staple"); err == nil {
			t.Fatal("not locked out")
		} else if e, ok := oauth.As(err); !ok || e.Status != 429 {
			t.Fatalf("locked out with %v", err)
		}
	}
	tests := []struct {
		name, ref  string
		token      string
		wantStatus int
	}{
		{"by id", alice.ID, adminToken, 204},
		{"by username", "alice", adminToken, 204},
		{"unknown user", "nobody", adminToken, 404},
		{"no admin token", alice.ID, "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lockOut()
			w, m := h.do("POST", "/admin/users/"+tc.ref+"/unlock", "", tc.token)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", w.Code, tc.wantStatus, m)
			}
			_, err := acct.Authenticate(from, "alice", "correct horse battery staple")
			if tc.wantStatus == 204 {
				if err != nil {
					t.Fatalf("still locked out after unlock: %v", err)
				}
				return
			}
			if w.Header().Get("Content-Type") != "application/problem+json" || m["status"] != float64(tc.wantStatus) {
				t.Errorf("not a problem: %s %v", w.Header().Get("Content-Type"), m)
			}
			if err == nil {
				t.Fatal("a refused unlock unlocked")
			}
			// Clean up for the next case.
			if err := acct.Unlock(ctx, alice.ID); err != nil {
				t.Fatal(err)
			}
		})
	}
}
