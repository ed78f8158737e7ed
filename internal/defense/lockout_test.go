package defense_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	rlredis "github.com/authd/authd/internal/ratelimit/redis"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/redistest"
)

// eachLimiter runs f against the in-process limiter (on a fake clock) and the
// Redis one (on Redis time; skipped without AUTHD_TEST_REDIS_URL, failed
// under AUTHD_REQUIRE_SERVERS). The cases need no time to pass: every window
// is minutes long, so the milliseconds a Redis round trip takes change
// nothing.
func eachLimiter(t *testing.T, f func(t *testing.T, lim defense.Limiter)) {
	t.Run("memory", func(t *testing.T) {
		f(t, newLimiter(t, clocktest.New(time.Unix(1_800_000_000, 0))))
	})
	t.Run("redis", func(t *testing.T) {
		url, prefix := redistest.Setup(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		l, err := rlredis.New(ctx, rlredis.Options{URL: url, Prefix: prefix, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		f(t, l)
	})
}

const (
	attacker = "127.0.0.2"
	owner    = "127.0.0.1"
)

// fail makes n failed attempts, each allowed first.
func fail(t *testing.T, g *defense.LoginGuard, a account.Attempt, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if err := g.Allow(ctx, a); err != nil {
			t.Fatalf("%+v: failure %d refused early: %v", a, i+1, err)
		}
		g.Fail(ctx, a)
	}
}

// refusal returns the 429 an attempt gets, or nil when it is allowed.
func refusal(t *testing.T, g *defense.LoginGuard, a account.Attempt) *oauth.Error {
	t.Helper()
	err := g.Allow(context.Background(), a)
	if err == nil {
		return nil
	}
	e, ok := oauth.As(err)
	if !ok || e.Status != 429 || e.RetryAfter < 1 {
		t.Fatalf("%+v: refused with %v, want a 429 with Retry-After", a, err)
	}
	return e
}

// TestMaliciousLockout is the attack: ten wrong passwords from one address,
// then one try every five minutes, must not keep the owner out.
func TestMaliciousLockout(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lim defense.Limiter) {
		g := defense.NewLoginGuard(lim, defense.DefaultLoginPolicy(), testKey, nil, nil)
		for _, user := range []string{"alice", "ghost"} { // an account, and a name no one has
			fail(t, g, account.Attempt{Username: user, IP: attacker}, 10)
			if e := refusal(t, g, account.Attempt{Username: user, IP: attacker}); e == nil || e.RetryAfter > 300 {
				t.Fatalf("%s: the attacker's address is not locked: %+v", user, e)
			}
			// The owner, from their own address, with no history at all.
			if e := refusal(t, g, account.Attempt{Username: user, IP: owner}); e != nil {
				t.Fatalf("%s: owner locked out by someone else's failures: %+v", user, e)
			}
			// The owner's browser with a device cookie, even from the
			// attacker's address (one NAT).
			if e := refusal(t, g, account.Attempt{Username: user, IP: attacker, Device: "owner-device"}); e != nil {
				t.Fatalf("%s: trusted device refused: %+v", user, e)
			}
		}
	})
}

// TestAccountBackstop: guessing spread over many addresses is stopped by the
// account-wide bound, which strangers meet and the owner's trusted sources do
// not; a success does not reset it, Unlock does.
func TestAccountBackstop(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lim defense.Limiter) {
		g := defense.NewLoginGuard(lim, defense.DefaultLoginPolicy(), testKey, nil, nil)
		ctx := context.Background()
		// alice logged in from home before the attack; ghost does not exist.
		g.Succeed(ctx, account.Attempt{Username: "alice", IP: "198.51.100.7"})
		for _, user := range []string{"alice", "ghost"} {
			for i := range 10 { // 10 addresses × 10 failures = the backstop's 100
				fail(t, g, account.Attempt{Username: user, IP: fmt.Sprintf("203.0.113.%d", i)}, 10)
			}
			stranger := account.Attempt{Username: user, IP: "192.0.2.200"}
			if e := refusal(t, g, stranger); e == nil || e.RetryAfter > 300 {
				t.Fatalf("%s: a fresh address after 100 failures on the account: %+v", user, e)
			}
			if e := refusal(t, g, account.Attempt{Username: user, IP: "192.0.2.201", Device: "dev-1"}); e != nil {
				t.Fatalf("%s: trusted device refused by the backstop: %+v", user, e)
			}
		}
		home := account.Attempt{Username: "alice", IP: "198.51.100.7"}
		if e := refusal(t, g, home); e != nil {
			t.Fatalf("the owner's recent address refused by the backstop: %+v", e)
		}
		// The owner logging in does not give the guessers a fresh budget.
		g.Succeed(ctx, home)
		if refusal(t, g, account.Attempt{Username: "alice", IP: "192.0.2.200"}) == nil {
			t.Fatal("a success reset the account-wide bound")
		}
		// Unlock forgets everything: the backstop and every source.
		if err := g.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		for _, a := range []account.Attempt{{Username: "alice", IP: "192.0.2.200"}, {Username: "alice", IP: "203.0.113.3"}} {
			if e := refusal(t, g, a); e != nil {
				t.Fatalf("after Unlock, %+v refused: %+v", a, e)
			}
		}
		// ghost was not unlocked.
		if refusal(t, g, account.Attempt{Username: "ghost", IP: "192.0.2.200"}) == nil {
			t.Fatal("Unlock of alice unlocked another account")
		}
	})
}

// TestTrustedDeviceBound: a trusted device has a failure bound of its own,
// which does not touch the owner's other devices or addresses.
func TestTrustedDeviceBound(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lim defense.Limiter) {
		g := defense.NewLoginGuard(lim, defense.DefaultLoginPolicy(), testKey, nil, nil)
		ctx := context.Background()
		stolen := account.Attempt{Username: "alice", IP: attacker, Device: "stolen"}
		fail(t, g, stolen, 10)
		if refusal(t, g, stolen) == nil {
			t.Fatal("a device past its failure bound allowed")
		}
		// Nor does it help from another address.
		if refusal(t, g, account.Attempt{Username: "alice", IP: "192.0.2.9", Device: "stolen"}) == nil {
			t.Fatal("the device's bound is per address")
		}
		for _, a := range []account.Attempt{
			{Username: "alice", IP: attacker, Device: "laptop"},
			{Username: "alice", IP: attacker},
			{Username: "alice", IP: owner},
		} {
			if e := refusal(t, g, a); e != nil {
				t.Fatalf("%+v refused for another device's failures: %+v", a, e)
			}
		}
		// The device's success clears it; a fresh start for its owner.
		g.Succeed(ctx, account.Attempt{Username: "alice", IP: owner, Device: "stolen"})
		if e := refusal(t, g, stolen); e != nil {
			t.Fatalf("after the device's success: %+v", e)
		}
		// Unlock clears device buckets too.
		fail(t, g, stolen, 10)
		if err := g.Unlock(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if e := refusal(t, g, stolen); e != nil {
			t.Fatalf("after Unlock: %+v", e)
		}
	})
}

// TestUnlockGenerations: repeated unlocks keep working, each one forgetting
// the failures since the last.
func TestUnlockGenerations(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lim defense.Limiter) {
		p := defense.DefaultLoginPolicy()
		// Only the account's bounds are under test, not the address's.
		p.AttemptsPerIP, p.FailuresPerIP = ratelimit.PerSecond(1000, 1000), ratelimit.PerSecond(1000, 1000)
		g := defense.NewLoginGuard(lim, p, testKey, nil, nil)
		a := account.Attempt{Username: "alice", IP: attacker}
		for round := range 5 {
			fail(t, g, a, 10)
			if refusal(t, g, a) == nil {
				t.Fatalf("round %d: not locked", round)
			}
			if err := g.Unlock(context.Background(), "alice"); err != nil {
				t.Fatal(err)
			}
			if e := refusal(t, g, a); e != nil {
				t.Fatalf("round %d: still locked after Unlock: %+v", round, e)
			}
		}
	})
}

// TestTrustedAddressExpires: a success trusts its address for TrustAddress,
// then the address is a stranger's again.
func TestTrustedAddressExpires(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	p := defense.DefaultLoginPolicy()
	p.AccountBackstop = ratelimit.Limit{Rate: 1.0 / (24 * 3600), Burst: 20} // no refill within the test
	p.TrustAddress = time.Hour
	g := defense.NewLoginGuard(newLimiter(t, clk), p, testKey, nil, nil)
	home := account.Attempt{Username: "alice", IP: "198.51.100.7"}
	g.Succeed(context.Background(), home)
	for i := range 2 {
		fail(t, g, account.Attempt{Username: "alice", IP: fmt.Sprintf("203.0.113.%d", i)}, 10)
	}
	if e := refusal(t, g, home); e != nil {
		t.Fatalf("trusted address refused: %+v", e)
	}
	clk.Advance(59 * time.Minute)
	if e := refusal(t, g, home); e != nil {
		t.Fatalf("trusted address refused before TrustAddress: %+v", e)
	}
	clk.Advance(2 * time.Minute)
	if refusal(t, g, home) == nil {
		t.Fatal("address still trusted after TrustAddress")
	}
}

// resetRecorder records the keys of every limiter call.
type resetRecorder struct {
	keyRecorder
}

func (r *resetRecorder) Reset(ctx context.Context, key string) error {
	r.keys = append(r.keys, key)
	return r.Limiter.Reset(ctx, key)
}

// TestLimiterKeysOfSources: no limiter key shows the username, the device
// cookie's identifier is only ever a key part, and every key fits.
func TestLimiterKeysOfSources(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	rec := &resetRecorder{keyRecorder{Limiter: newLimiter(t, clk)}}
	g := defense.NewLoginGuard(rec, defense.DefaultLoginPolicy(), testKey, nil, nil)
	ctx := context.Background()
	for _, a := range []account.Attempt{
		{Username: "tr0ub4dor&3!", IP: "2001:db8:1:2:aaaa::1"},
		{Username: "tr0ub4dor&3!", IP: "2001:db8:1:2:aaaa::1", Device: "d3v1c3"},
	} {
		_ = g.Allow(ctx, a)
		g.Fail(ctx, a)
		g.Succeed(ctx, a)
	}
	if err := g.Unlock(ctx, "tr0ub4dor&3!"); err != nil {
		t.Fatal(err)
	}
	if len(rec.keys) < 10 {
		t.Fatalf("only %d limiter calls recorded", len(rec.keys))
	}
	for _, k := range rec.keys {
		if strings.Contains(k, "tr0ub4dor") || strings.Contains(k, "aaaa") || len(k) > 128 {
			t.Errorf("limiter key %q shows the username or the whole IPv6 address, or is too long", k)
		}
	}
}
