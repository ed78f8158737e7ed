package defense_test

import (
	"sync"
	"testing"

	"github.com/authd/authd/internal/defense"
	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/secevent"
)

type countedEvents struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countedEvents) Emit(e secevent.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[e.Type]++
}

func (c *countedEvents) count(typ string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[typ]
}

// RFC 8628 §5.1: wrong user codes are bounded per address (an IPv6 /64
// counts as one), on every limiter; other addresses keep their budget.
func TestUserCodes(t *testing.T) {
	eachLimiter(t, func(t *testing.T, lim defense.Limiter) {
		ctx := t.Context()
		ev := &countedEvents{}
		g := defense.NewUserCodes(lim, ratelimit.PerHour(3, 3), ev, nil)
		steps := []struct {
			name      string
			ip        string
			fail      bool
			wantRetry bool // refused with Retry-After
		}{
			{"first", "2001:db8::1", true, false},
			{"second, same /64", "2001:db8::2", true, false},
			{"third", "2001:db8::3", true, false},
			{"spent for the /64", "2001:db8::ffff", false, true},
			{"another address", "192.0.2.7", false, false},
			{"another /64", "2001:db8:0:1::1", false, false},
		}
		for _, s := range steps {
			err := g.Allow(ctx, s.ip)
			retry, refused := is429(err)
			if refused != s.wantRetry || (refused && retry < 1) || (!refused && err != nil) {
				t.Fatalf("%s: Allow(%s) = %v", s.name, s.ip, err)
			}
			if s.fail {
				g.Fail(ctx, s.ip)
			}
		}
		if n := ev.count(secevent.DeviceUserCodeFailed); n != 3 {
			t.Fatalf("%d failures recorded, want 3", n)
		}
		if n := ev.count(secevent.RateLimitExceeded); n != 1 {
			t.Fatalf("%d refusals recorded, want 1", n)
		}
		off := defense.NewUserCodes(lim, ratelimit.Limit{}, nil, nil)
		if err := off.Allow(ctx, "2001:db8::1"); err != nil {
			t.Fatalf("a zero limit refused: %v", err)
		}
	})
}
