package account_test

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/password"
	"github.com/authd/authd/internal/ratelimit/memory"
	rlredis "github.com/authd/authd/internal/ratelimit/redis"
	"github.com/authd/authd/internal/store"
	"github.com/authd/authd/internal/testenv/dbtest"
	"github.com/authd/authd/internal/testenv/redistest"
)

const goodPassword = "correct horse battery staple"

// TestLockoutThroughAuthenticate is the attack on the one door both the
// login form and the password grant use (the grant has no device cookie, so
// only the address rules apply): ten wrong passwords from 127.0.0.2 must not
// lock the owner out at 127.0.0.1, the attacker stays refused, an unknown
// username is answered exactly as an existing one, and Unlock clears it.
func TestLockoutThroughAuthenticate(t *testing.T) {
	limiters := map[string]func(t *testing.T) defense.Limiter{
		"memory": func(t *testing.T) defense.Limiter {
			now := time.Unix(1_800_000_000, 0)
			l := memory.New(memory.Options{Now: func() time.Time { return now }})
			t.Cleanup(l.Close)
			return l
		},
		"redis": func(t *testing.T) defense.Limiter {
			url, prefix := redistest.Setup(t)
			l, err := rlredis.New(context.Background(), rlredis.Options{URL: url, Prefix: prefix, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(l.Close)
			return l
		},
	}
	for name, newLimiter := range limiters {
		t.Run(name, func(t *testing.T) {
			db := dbtest.SQLite(t)
			guard := defense.NewLoginGuard(newLimiter(t), defense.DefaultLoginPolicy(), []byte("0123456789abcdef0123456789abcdef"), nil, nil)
			hasher := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, password.Limits{})
			svc := account.New(db, hasher, password.Policy{}, account.Options{Guard: guard, Logger: slog.New(slog.DiscardHandler)})
			ctx := context.Background()
			alice, err := svc.Create(ctx, "alice", goodPassword, "")
			if err != nil {
				t.Fatal(err)
			}
			from := func(ip string) context.Context { return account.WithClientIP(ctx, ip) }

			answers := map[string]error{}
			for _, user := range []string{"alice", "ghost"} {
				for i := range 10 {
					if _, err := svc.Authenticate(from("127.0.0.2"), user, "guess"); !errors.Is(err, account.ErrInvalidCredentials) {
						t.Fatalf("%s: guess %d: %v", user, i+1, err)
					}
				}
				// The attacker is refused now, even with the right password,
				// and stays refused.
				for range 2 {
					_, err := svc.Authenticate(from("127.0.0.2"), user, goodPassword)
					if e, ok := oauth.As(err); !ok || e.Status != 429 || e.RetryAfter < 1 || e.RetryAfter > 300 {
						t.Fatalf("%s: attacker after 10 failures: %v", user, err)
					}
					answers[user] = err
				}
			}
			if !reflect.DeepEqual(answers["alice"], answers["ghost"]) && name == "memory" {
				t.Errorf("existing and unknown accounts answered differently: %v / %v", answers["alice"], answers["ghost"])
			}
			if a, b := answers["alice"].Error(), answers["ghost"].Error(); a != b {
				t.Errorf("existing and unknown accounts answered differently: %q / %q", a, b)
			}
			// The owner, elsewhere, gets in.
			if u, err := svc.Authenticate(from("127.0.0.1"), "alice", goodPassword); err != nil || u.ID != alice.ID {
				t.Fatalf("owner locked out: %v, %v", u, err)
			}
			// An unknown name from elsewhere is answered as a wrong password.
			if _, err := svc.Authenticate(from("127.0.0.1"), "ghost", goodPassword); !errors.Is(err, account.ErrInvalidCredentials) {
				t.Fatalf("ghost from elsewhere: %v", err)
			}
			// An administrator unlocks alice: the attacker's address too.
			if err := svc.Unlock(ctx, alice.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(from("127.0.0.2"), "alice", goodPassword); err != nil {
				t.Fatalf("after Unlock: %v", err)
			}
			if err := svc.Unlock(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Unlock of an unknown name = %v", err)
			}
		})
	}
}
