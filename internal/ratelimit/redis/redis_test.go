package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/limitertest"
	"github.com/authd/authd/internal/ratelimit/redis"
	"github.com/authd/authd/internal/testenv/metrictest"
	"github.com/authd/authd/internal/testenv/redistest"
)

// open returns a Limiter on the test Redis; opts.URL and opts.Prefix default
// to the test's own. Tests allow a generous Timeout: the suite checks
// decisions, not latency, on a machine that may be busy.
func open(t testing.TB, opts redis.Options) *redis.Limiter {
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
	l, err := redis.New(ctx, opts)
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

func TestConformance(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, _ func() time.Time) ratelimit.Limiter {
		// Redis keeps its own time: the suite sees that the clock it
		// offers goes unread and checks this limiter in real time.
		return open(t, redis.Options{})
	})
}

// TestKeyLayout: a charged key holds its TAT in µs of Redis time with a TTL
// until its bucket is full again; looks and denials write nothing.
func TestKeyLayout(t *testing.T) {
	url, prefix := redistest.Setup(t)
	raw := redistest.Raw(t, url)
	l := open(t, redis.Options{URL: url, Prefix: prefix})
	ctx := context.Background()
	lim := ratelimit.PerSecond(1, 10)

	if _, err := l.Allow(ctx, "look", lim, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Allow(ctx, "deny", lim, 11); err != nil {
		t.Fatal(err)
	}
	if keys := redistest.Keys(t, raw, prefix); len(keys) != 0 {
		t.Fatalf("looks and denials wrote keys: %q", keys)
	}

	d, err := l.Allow(ctx, "acct:alice", lim, 3)
	if err != nil || !d.Allowed {
		t.Fatalf("Allow = %+v, %v", d, err)
	}
	key := prefix + "acct:alice"
	pttl, err := raw.Do(ctx, raw.B().Pttl().Key(key).Build()).AsInt64()
	if err != nil || pttl <= 2900 || pttl > 3000 {
		t.Fatalf("PTTL = %d, %v; want just under 3000 (time until the bucket is full)", pttl, err)
	}
	tat, err := raw.Do(ctx, raw.B().Get().Key(key).Build()).AsInt64()
	if err != nil {
		t.Fatalf("stored TAT is not an integer: %v", err)
	}
	tm, err := raw.Do(ctx, raw.B().Time().Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := strconv.ParseInt(tm[0], 10, 64)
	usec, _ := strconv.ParseInt(tm[1], 10, 64)
	if left := time.Duration(tat-(sec*1e6+usec)) * time.Microsecond; left <= 2900*time.Millisecond || left > 3*time.Second {
		t.Fatalf("stored TAT is %v after Redis's TIME; want just under 3s", left)
	}

	// A denial leaves the key and its TTL alone.
	if d, err := l.Allow(ctx, "acct:alice", lim, 8); err != nil || d.Allowed {
		t.Fatalf("cost 8 on 7 left = %+v, %v; want denied", d, err)
	}
	if tat2, _ := raw.Do(ctx, raw.B().Get().Key(key).Build()).AsInt64(); tat2 != tat {
		t.Fatalf("a denial moved the TAT from %d to %d", tat, tat2)
	}
	if err := l.Reset(ctx, "acct:alice"); err != nil {
		t.Fatal(err)
	}
	if keys := redistest.Keys(t, raw, prefix); len(keys) != 0 {
		t.Fatalf("Reset left keys: %q", keys)
	}
}

// TestUsesRedisTime: the bucket is read against Redis's clock. A TAT written
// 5 s past Redis's TIME is 5 s of debt to every replica, whatever its clock.
func TestUsesRedisTime(t *testing.T) {
	url, prefix := redistest.Setup(t)
	raw := redistest.Raw(t, url)
	l := open(t, redis.Options{URL: url, Prefix: prefix})
	ctx := context.Background()
	tm, err := raw.Do(ctx, raw.B().Time().Build()).AsStrSlice()
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := strconv.ParseInt(tm[0], 10, 64)
	usec, _ := strconv.ParseInt(tm[1], 10, 64)
	tat := sec*1e6 + usec + 5e6
	if err := raw.Do(ctx, raw.B().Set().Key(prefix+"k").Value(strconv.FormatInt(tat, 10)).Build()).Error(); err != nil {
		t.Fatal(err)
	}
	d, err := l.Allow(ctx, "k", ratelimit.PerSecond(1, 10), 0)
	if err != nil || d.Remaining != 5 || d.ResetAfter > 5*time.Second || d.ResetAfter < 4900*time.Millisecond {
		t.Fatalf("look = %+v, %v; want Remaining 5 and ResetAfter just under 5s", d, err)
	}
}

// TestReplicasShareBudget: two limiters with their own connections (two
// replicas) charge one bucket, exactly.
func TestReplicasShareBudget(t *testing.T) {
	url, prefix := redistest.Setup(t)
	a := open(t, redis.Options{URL: url, Prefix: prefix})
	b := open(t, redis.Options{URL: url, Prefix: prefix})
	lim := ratelimit.PerHour(1, 20)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for i := range 100 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			d, err := l.Allow(context.Background(), "client:shared", lim, 1)
			if err != nil {
				t.Error(err)
				return
			}
			if d.Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 20 {
		t.Fatalf("two replicas allowed %d events on a burst of 20", allowed)
	}
}

func TestPrefixIsolation(t *testing.T) {
	url, prefix := redistest.Setup(t)
	a := open(t, redis.Options{URL: url, Prefix: prefix + "a:"})
	b := open(t, redis.Options{URL: url, Prefix: prefix + "b:"})
	ctx := context.Background()
	lim := ratelimit.PerHour(1, 1)
	if d, _ := a.Allow(ctx, "k", lim, 1); !d.Allowed {
		t.Fatal("first event denied")
	}
	if d, err := b.Allow(ctx, "k", lim, 1); err != nil || !d.Allowed {
		t.Fatalf("another prefix shares the bucket: %+v, %v", d, err)
	}
}

// TestFaults runs the outage suite against the limiter, through Allow. On
// top of the suite, a failed Allow must return a zero Decision, and with the
// breaker open Reset fails too, bad arguments are reported as such, not as
// Redis trouble, and every failed decision is counted.
func TestFaults(t *testing.T) {
	redistest.RunFaults(t, redis.ErrUnavailable, func(t *testing.T, o redistest.Options) redistest.Subject {
		reg := prometheus.NewPedanticRegistry()
		l := open(t, redis.Options{
			URL: o.URL, Prefix: o.Prefix, Timeout: o.Timeout, TripAfter: o.TripAfter, OpenFor: o.OpenFor,
			Registerer: reg,
		})
		lim := ratelimit.PerHour(1, 100)
		allow := func(ctx context.Context) error {
			d, err := l.Allow(ctx, "k", lim, 1)
			switch {
			case err != nil && d != (ratelimit.Decision{}):
				t.Fatalf("Allow = %+v, %v; want a zero Decision with an error", d, err)
			case err == nil && !d.Allowed:
				return fmt.Errorf("Allow = %+v; want allowed, well within the burst", d)
			}
			return err
		}
		return redistest.Subject{
			Write:   allow,
			Read:    allow,
			Healthy: l.Healthy,
			BreakerOpen: func(t *testing.T) {
				ctx := context.Background()
				if err := l.Reset(ctx, "k"); !errors.Is(err, redis.ErrUnavailable) {
					t.Fatalf("Reset: err = %v, want ErrUnavailable", err)
				}
				if _, err := l.Allow(ctx, "", lim, 1); !errors.Is(err, ratelimit.ErrInvalid) || errors.Is(err, redis.ErrUnavailable) {
					t.Fatalf("empty key: err = %v, want ErrInvalid only", err)
				}
				if errs := metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", "redis", "result", "error"); errs < redistest.OpenCalls {
					t.Fatalf("error decisions = %v, want >= %d", errs, redistest.OpenCalls)
				}
			},
		}
	})
}

func TestInvalidURL(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/notanumber"} {
		if l, err := redis.New(context.Background(), redis.Options{URL: u}); err == nil {
			l.Close()
			t.Errorf("New(%q) succeeded, want an error", u)
		}
	}
}
