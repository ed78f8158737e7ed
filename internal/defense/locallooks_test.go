package defense_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/testenv/clocktest"
)

// counting counts the calls that reach the shared limiter, by cost.
type counting struct {
	defense.Limiter
	looks, charges atomic.Int64
}

func (c *counting) Allow(ctx context.Context, key string, l ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	if cost == 0 {
		c.looks.Add(1)
	} else {
		c.charges.Add(1)
	}
	return c.Limiter.Allow(ctx, key, l, cost)
}

// TestLocalLooks: looks never reach the shared limiter; a key is refused
// once a charge finds its budget empty, for no longer than one event takes
// to fit again; a refused large charge with budget left refuses nothing;
// Reset forgets; the request limits keep their bound over it to within one
// request.
func TestLocalLooks(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	shared := &counting{Limiter: newLimiter(t, clk)}
	l := defense.LocalLooks(shared, clk.Now)
	lim := ratelimit.PerSecond(10, 3) // an event per 100 ms, burst 3

	for range 100 {
		if d, _ := l.Allow(ctx, "k", lim, 0); !d.Allowed {
			t.Fatal("a look at an unused key refused")
		}
	}
	if n := shared.looks.Load(); n != 0 {
		t.Fatalf("%d looks reached the shared limiter", n)
	}
	for i := range 3 {
		if d, _ := l.Allow(ctx, "k", lim, 1); !d.Allowed {
			t.Fatalf("charge %d of the burst refused", i+1)
		}
	}
	d, _ := l.Allow(ctx, "k", lim, 0)
	if d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
		t.Fatalf("a look at an empty budget: %+v", d)
	}
	clk.Advance(100 * time.Millisecond)
	if d, _ := l.Allow(ctx, "k", lim, 0); !d.Allowed {
		t.Fatalf("a look once an event fits again: %+v", d)
	}
	// A charge of more than is left is refused but leaves the budget: looks allow.
	clk.Advance(time.Second)
	if d, _ := l.Allow(ctx, "big", lim, 1); !d.Allowed {
		t.Fatal(d)
	}
	if d, _ := l.Allow(ctx, "big", lim, 3); d.Allowed || d.Remaining == 0 {
		t.Fatalf("a charge above what is left: %+v", d)
	}
	if d, _ := l.Allow(ctx, "big", lim, 0); !d.Allowed {
		t.Fatalf("a look after a refused large charge with budget left: %+v", d)
	}
	// Reset forgets here and there.
	for range 3 {
		_, _ = l.Allow(ctx, "r", lim, 1)
	}
	if d, _ := l.Allow(ctx, "r", lim, 0); d.Allowed {
		t.Fatal("empty key allowed")
	}
	if err := l.Reset(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Allow(ctx, "r", lim, 0); !d.Allowed {
		t.Fatal("a look after Reset refused")
	}

	// The request limits over it: junk from one address is refused once past
	// its budget, at most one request late.
	r := defense.NewRequests(l, defense.RequestPolicy{PerIP: ratelimit.PerSecond(1, 5)}, nil, nil)
	answered := 0
	for range 20 {
		if r.CheckIP(ctx, "192.0.2.7") != nil {
			continue
		}
		answered++
		r.ChargeIP(ctx, "192.0.2.7")
	}
	if answered < 5 || answered > 6 {
		t.Fatalf("%d junk requests answered with a burst of 5", answered)
	}
}

// TestLocalLooksConcurrent: looks and charges from many goroutines share
// its memory safely (the race detector runs it in CI).
func TestLocalLooksConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := clocktest.New(time.Unix(1_800_000_000, 0))
	l := defense.LocalLooks(newLimiter(t, clk), clk.Now)
	lim := ratelimit.PerSecond(1, 1)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Sprintf("k%d-%d", g, i%50)
				_, _ = l.Allow(ctx, k, lim, i%2)
			}
		}()
	}
	wg.Wait()
}
