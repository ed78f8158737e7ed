package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/replay"
	"github.com/authd/authd/internal/replay/redis"
	"github.com/authd/authd/internal/replay/replaytest"
	"github.com/authd/authd/internal/testenv/redistest"
)

// open returns a Cache on the test Redis; opts.URL and opts.Prefix default
// to the test's own. Tests allow a generous Timeout: the suite checks
// decisions, not latency, on a machine that may be busy.
func open(t testing.TB, opts redis.Options) *redis.Cache {
	t.Helper()
	if opts.URL == "" {
		url, prefix := redistest.Setup(t)
		opts.URL = url
		if opts.Prefix == "" {
			opts.Prefix = prefix
		}
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := redis.New(ctx, opts)
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T, _ func() time.Time) replay.Cache {
		// Records expire on Redis's clock: the suite sees that the clock
		// it offers goes unread and checks this cache in real time.
		return open(t, redis.Options{})
	})
}

// TestKeyLayout: a first use writes one key under the prefix whose TTL runs
// to until; a replay leaves it (and its TTL) alone.
func TestKeyLayout(t *testing.T) {
	url, prefix := redistest.Setup(t)
	raw := redistest.Raw(t, url)
	c := open(t, redis.Options{URL: url, Prefix: prefix})
	ctx := context.Background()

	if first, err := c.Use(ctx, "dpop:abc", time.Now().Add(10*time.Second)); err != nil || !first {
		t.Fatalf("Use = %v, %v; want a first use", first, err)
	}
	keys := redistest.Keys(t, raw, prefix)
	if len(keys) != 1 || keys[0] != prefix+"dpop:abc" {
		t.Fatalf("keys = %q; want just %q", keys, prefix+"dpop:abc")
	}
	pttl := func() int64 {
		t.Helper()
		ms, err := raw.Do(ctx, raw.B().Pttl().Key(prefix+"dpop:abc").Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	if ms := pttl(); ms <= 9000 || ms > 10000 {
		t.Fatalf("PTTL = %d ms; want just under 10000", ms)
	}
	// A replay asking for an hour changes nothing.
	if first, err := c.Use(ctx, "dpop:abc", time.Now().Add(time.Hour)); err != nil || first {
		t.Fatalf("replay = %v, %v; want false, nil", first, err)
	}
	if ms := pttl(); ms > 10000 {
		t.Fatalf("PTTL = %d ms after a replay; a replay must not extend the record", ms)
	}
}

// TestReplicasRace: two caches with their own connections (two replicas)
// racing on one key give exactly one first use between them.
func TestReplicasRace(t *testing.T) {
	url, prefix := redistest.Setup(t)
	a := open(t, redis.Options{URL: url, Prefix: prefix})
	b := open(t, redis.Options{URL: url, Prefix: prefix})
	until := time.Now().Add(time.Minute)
	for round := range 5 {
		key := fmt.Sprintf("dpop:shared%d", round)
		var firsts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 50 {
			c := a
			if i%2 == 1 {
				c = b
			}
			wg.Go(func() {
				<-start
				first, err := c.Use(context.Background(), key, until)
				if err != nil {
					t.Error(err)
				}
				if first {
					firsts.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := firsts.Load(); n != 1 {
			t.Fatalf("round %d: two replicas gave %d first uses of one key; want 1", round, n)
		}
	}
}

func TestPrefixIsolation(t *testing.T) {
	url, prefix := redistest.Setup(t)
	a := open(t, redis.Options{URL: url, Prefix: prefix + "a:"})
	b := open(t, redis.Options{URL: url, Prefix: prefix + "b:"})
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	if first, err := a.Use(ctx, "k", until); err != nil || !first {
		t.Fatalf("first use = %v, %v", first, err)
	}
	if first, err := b.Use(ctx, "k", until); err != nil || !first {
		t.Fatalf("another prefix shares the record: %v, %v", first, err)
	}
}

// TestFaults runs the outage suite against the cache. On top of it, a failed
// Use reports first=false, wraps replay.ErrUnavailable (what callers check),
// and bad arguments are reported as such even with the breaker open.
func TestFaults(t *testing.T) {
	redistest.RunFaults(t, redis.ErrUnavailable, func(t *testing.T, o redistest.Options) redistest.Subject {
		c := open(t, redis.Options{
			URL: o.URL, Prefix: o.Prefix, Timeout: o.Timeout, TripAfter: o.TripAfter, OpenFor: o.OpenFor,
		})
		use := func(ctx context.Context, wantFirst bool) error {
			first, err := c.Use(ctx, "k", time.Now().Add(time.Minute))
			switch {
			case err != nil && first:
				t.Fatalf("Use = true, %v; want false with an error", err)
			case err != nil && !errors.Is(err, replay.ErrUnavailable) && ctx.Err() == nil:
				t.Fatalf("Use: err = %v; want it to wrap replay.ErrUnavailable", err)
			case err == nil && !wantFirst && first:
				return errors.New("Use = true; want the key Write recorded")
			}
			return err
		}
		return redistest.Subject{
			// Write records the key (a first use, or a replay of one
			// recorded before: either way it is there afterwards).
			Write: func(ctx context.Context) error { return use(ctx, true) },
			// Read succeeds only if Redis answered and found the key.
			Read:    func(ctx context.Context) error { return use(ctx, false) },
			Healthy: c.Healthy,
			BreakerOpen: func(t *testing.T) {
				_, err := c.Use(context.Background(), "", time.Now().Add(time.Minute))
				if !errors.Is(err, replay.ErrInvalid) || errors.Is(err, redis.ErrUnavailable) {
					t.Fatalf("empty key: err = %v, want ErrInvalid only", err)
				}
			},
		}
	})
}

func TestInvalidURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber"} {
		if c, err := redis.New(context.Background(), redis.Options{URL: u}); err == nil {
			c.Close()
			t.Errorf("New(%q) succeeded, want an error", u)
		}
	}
}
