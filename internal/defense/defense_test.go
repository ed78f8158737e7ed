package defense_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/account"
	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/oauth"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/testenv/clocktest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type recorder struct {
	mu     sync.Mutex
	events []secevent.Event
}

func (r *recorder) Emit(e secevent.Event) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) count(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func newLimiter(t *testing.T, clk *clocktest.Clock) *memory.Limiter {
	l := memory.New(memory.Options{Now: clk.Now})
	t.Cleanup(l.Close)
	return l
}

func is429(err error) (int, bool) {
	e, ok := oauth.As(err)
	if !ok || e.Status != 429 {
		return 0, false
	}
	return e.RetryAfter, true
}

// TestLoginGuardAccountLockout: failures lock the account for the source
// they come from, which one try per interval keeps locked; a success from
// there clears them. (Before per-source counting this test had the second
// address refused too: that was the malicious-lockout bug.)
func TestLoginGuardAccountLockout(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	ev := &recorder{}
	p := defense.LoginPolicy{
		AttemptsPerIP:      ratelimit.PerSecond(1000, 1000),
		FailuresPerIP:      ratelimit.PerSecond(1000, 1000),
		FailuresPerAccount: ratelimit.Limit{Rate: 1.0 / 300, Burst: 3},
	}
	g := defense.NewLoginGuard(newLimiter(t, clk), p, testKey, ev, nil)
	ctx := context.Background()
	alice := account.Attempt{Username: "alice", IP: "198.51.100.1"}
	for i := range 3 {
		if err := g.Allow(ctx, alice); err != nil {
			t.Fatalf("attempt %d refused: %v", i, err)
		}
		g.Fail(ctx, alice)
	}
	// That address is out of failures for alice.
	retry, ok := is429(g.Allow(ctx, alice))
	if !ok || retry < 1 || retry > 300 {
		t.Fatalf("locked source: retry %d, ok %v", retry, ok)
	}
	// An account limit is recorded as a lockout.
	if ev.count(secevent.LoginLockedOut) != 1 || ev.count(secevent.RateLimitExceeded) != 0 {
		t.Errorf("events = %v", ev.events)
	}
	// Another address, and another account, are unaffected.
	if err := g.Allow(ctx, account.Attempt{Username: "alice", IP: "203.0.113.9"}); err != nil {
		t.Fatalf("alice from elsewhere refused: %v", err)
	}
	if err := g.Allow(ctx, account.Attempt{Username: "bob", IP: "198.51.100.1"}); err != nil {
		t.Fatalf("bob refused: %v", err)
	}
	// After one emission interval one more try is allowed, and a failure
	// locks the source again.
	clk.Advance(301 * time.Second)
	if err := g.Allow(ctx, alice); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	g.Fail(ctx, alice)
	if _, ok := is429(g.Allow(ctx, alice)); !ok {
		t.Fatal("one try per interval unlocked the source")
	}
	// A success clears the failures.
	clk.Advance(301 * time.Second)
	g.Succeed(ctx, alice)
	for i := range 3 {
		if err := g.Allow(ctx, alice); err != nil {
			t.Fatalf("after success, attempt %d refused: %v", i, err)
		}
		g.Fail(ctx, alice)
	}
}

func TestLoginGuardPerIP(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	p := defense.LoginPolicy{
		AttemptsPerIP:      ratelimit.PerMinute(5, 5),
		FailuresPerIP:      ratelimit.PerHour(1000, 1000),
		FailuresPerAccount: ratelimit.PerHour(1000, 1000),
	}
	g := defense.NewLoginGuard(newLimiter(t, clk), p, testKey, nil, nil)
	ctx := context.Background()
	// A stuffing run from one address: many accounts, one guess each.
	refused := 0
	for i := range 50 {
		a := account.Attempt{Username: "user" + string(rune('a'+i%26)), IP: "192.0.2.66"}
		if err := g.Allow(ctx, a); err != nil {
			if _, ok := is429(err); !ok {
				t.Fatalf("refusal is not a 429: %v", err)
			}
			refused++
			continue
		}
		g.Fail(ctx, a)
	}
	if refused != 45 {
		t.Fatalf("refused %d of 50 attempts from one address, want 45", refused)
	}
	// Someone else, elsewhere, logs in as usual.
	if err := g.Allow(ctx, account.Attempt{Username: "carol", IP: "198.51.100.20"}); err != nil {
		t.Fatalf("legitimate user refused: %v", err)
	}
}

func TestLoginGuardUndecidedAllows(t *testing.T) {
	g := defense.NewLoginGuard(brokenLimiter{}, defense.DefaultLoginPolicy(), testKey, nil, nil)
	if err := g.Allow(context.Background(), account.Attempt{Username: "a", IP: "192.0.2.1"}); err != nil {
		t.Fatalf("a limiter that cannot decide must not lock everyone out: %v", err)
	}
}

type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("down")
}
func (brokenLimiter) Reset(context.Context, string) error { return errors.New("down") }

func TestRequests(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	ev := &recorder{}
	r := defense.NewRequests(newLimiter(t, clk), defense.RequestPolicy{
		PerIP:             ratelimit.PerSecond(2, 2),
		PerClient:         ratelimit.PerSecond(1, 1),
		InactivePerCaller: ratelimit.PerMinute(10, 10),
	}, ev, nil)
	ctx := context.Background()
	// The check before a request charges nothing: an address whose
	// requests all authenticate is never refused.
	for i := range 100 {
		if err := r.CheckIP(ctx, "192.0.2.1"); err != nil {
			t.Fatalf("check %d without charges: %v", i, err)
		}
	}
	// Unauthenticated requests are charged after they are answered; once
	// the budget is spent the next check refuses.
	for i := range 2 {
		if err := r.CheckIP(ctx, "192.0.2.1"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		r.ChargeIP(ctx, "192.0.2.1")
	}
	retry, ok := is429(r.CheckIP(ctx, "192.0.2.1"))
	if !ok {
		t.Fatal("third unauthenticated request in a second allowed")
	}
	if retry < 1 || ev.count(secevent.RateLimitExceeded) != 1 {
		t.Fatalf("refusal: Retry-After %d, events %d", retry, ev.count(secevent.RateLimitExceeded))
	}
	if err := r.CheckIP(ctx, "192.0.2.2"); err != nil {
		t.Fatalf("another address: %v", err)
	}
	clk.Advance(time.Second)
	if err := r.CheckIP(ctx, "192.0.2.1"); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	c := &oauth.Client{ID: "svc"}
	if err := r.AllowClient(ctx, c, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := is429(r.AllowClient(ctx, c, "")); !ok {
		t.Fatal("client over its limit allowed")
	}
	// Enumeration: a batch of junk spends the caller's inactive budget at once.
	if err := r.AllowIntrospection(ctx, "rs", ""); err != nil {
		t.Fatal(err)
	}
	r.Inactive(ctx, "rs", 100)
	if _, ok := is429(r.AllowIntrospection(ctx, "rs", "")); !ok {
		t.Fatal("caller with 100 inactive answers not throttled")
	}
	if ev.count(secevent.TokenEnumeration) != 1 {
		t.Errorf("enumeration events = %d", ev.count(secevent.TokenEnumeration))
	}
	// Other callers are unaffected; the budget refills.
	if err := r.AllowIntrospection(ctx, "other", ""); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10 * time.Second)
	if err := r.AllowIntrospection(ctx, "rs", ""); err != nil {
		t.Fatalf("after refill: %v", err)
	}
	// Open registration keeps its own budget, charged on every registration
	// whatever the address's request budget says.
	reg := defense.NewRequests(newLimiter(t, clk), defense.RequestPolicy{RegistrationPerIP: ratelimit.Limit{Rate: 2.0 / 3600, Burst: 2}}, nil, nil)
	for i := range 2 {
		if err := reg.AllowRegistration(ctx, "192.0.2.9"); err != nil {
			t.Fatalf("registration %d: %v", i, err)
		}
	}
	if _, ok := is429(reg.AllowRegistration(ctx, "192.0.2.9")); !ok {
		t.Fatal("third registration in an hour allowed")
	}
	// A zero limit is off.
	off := defense.NewRequests(newLimiter(t, clk), defense.RequestPolicy{}, nil, nil)
	for range 100 {
		off.ChargeIP(ctx, "192.0.2.1")
		if err := off.CheckIP(ctx, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoginGuardLongUsernameAndOffLimits(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	g := defense.NewLoginGuard(newLimiter(t, clk), defense.LoginPolicy{
		FailuresPerAccount: ratelimit.Limit{Rate: 1.0 / 300, Burst: 2},
		// AttemptsPerIP and FailuresPerIP off.
	}, testKey, nil, nil)
	ctx := context.Background()
	long := account.Attempt{Username: strings.Repeat("𝄞", 64), IP: "192.0.2.1"} // 256 bytes of UTF-8: prefixed, over the limiter's key bound
	for range 2 {
		if err := g.Allow(ctx, long); err != nil {
			t.Fatal(err)
		}
		g.Fail(ctx, long)
	}
	if _, ok := is429(g.Allow(ctx, long)); !ok {
		t.Fatal("a long username escaped the account limit")
	}
}

// Limiter keys never carry what was typed as a username (it may be a
// password), and IPv6 addresses count per /64.
func TestLimiterKeys(t *testing.T) {
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	rec := &keyRecorder{Limiter: newLimiter(t, clk)}
	g := defense.NewLoginGuard(rec, defense.DefaultLoginPolicy(), testKey, nil, nil)
	ctx := context.Background()
	a := account.Attempt{Username: "tr0ub4dor&3!", IP: "2001:db8:1:2:aaaa::1"}
	_ = g.Allow(ctx, a)
	g.Fail(ctx, a)
	for _, k := range rec.keys {
		if strings.Contains(k, "tr0ub4dor") {
			t.Fatalf("limiter key %q shows the username", k)
		}
		if strings.Contains(k, "aaaa") {
			t.Fatalf("limiter key %q is per IPv6 address, not per /64", k)
		}
	}
	// Another address in the same /64 shares the budget.
	lim := defense.NewRequests(newLimiter(t, clk), defense.RequestPolicy{PerIP: ratelimit.PerSecond(1, 1)}, nil, nil)
	lim.ChargeIP(ctx, "2001:db8:1:2::1")
	if _, ok := is429(lim.CheckIP(ctx, "2001:db8:1:2::ffff")); !ok {
		t.Fatal("a neighbour in the same /64 got a fresh budget")
	}
	if err := lim.CheckIP(ctx, "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
}

type keyRecorder struct {
	defense.Limiter
	keys []string
}

func (k *keyRecorder) Allow(ctx context.Context, key string, l ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	k.keys = append(k.keys, key)
	return k.Limiter.Allow(ctx, key, l, cost)
}
