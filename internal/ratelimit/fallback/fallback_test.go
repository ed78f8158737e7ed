package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/fallback"
	"github.com/authd/authd/internal/ratelimit/limitertest"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/ratelimit/redis"
	"github.com/authd/authd/internal/testenv/metrictest"
	"github.com/authd/authd/internal/testenv/redistest"
)

var errDown = errors.New("injected: redis down")

// faulty is a primary limiter whose failure is injected: while fail is set
// every call fails with it; otherwise calls go to an in-process limiter.
type faulty struct {
	ratelimit.Limiter
	fail  atomic.Bool
	calls atomic.Int64
}

func (f *faulty) Allow(ctx context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	f.calls.Add(1)
	if f.fail.Load() {
		if err := ratelimit.CheckArgs(key, limit, cost); err != nil {
			return ratelimit.Decision{}, err
		}
		return ratelimit.Decision{}, fmt.Errorf("%w: %w", redis.ErrUnavailable, errDown)
	}
	return f.Limiter.Allow(ctx, key, limit, cost)
}

func (f *faulty) Reset(ctx context.Context, key string) error {
	f.calls.Add(1)
	if f.fail.Load() {
		return fmt.Errorf("%w: %w", redis.ErrUnavailable, errDown)
	}
	return f.Limiter.Reset(ctx, key)
}

func newMemory(t *testing.T, opts memory.Options) *memory.Limiter {
	l := memory.New(opts)
	t.Cleanup(l.Close)
	return l
}

// TestConformancePrimaryDown: with the shared limiter down, the local one
// must keep the whole contract.
func TestConformancePrimaryDown(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, now func() time.Time) ratelimit.Limiter {
		primary := &faulty{Limiter: newMemory(t, memory.Options{})}
		primary.fail.Store(true)
		return fallback.New(primary, newMemory(t, memory.Options{Now: now}), fallback.Options{})
	})
}

// TestConformanceRedis: with Redis up, the composition is the Redis limiter.
func TestConformanceRedis(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, now func() time.Time) ratelimit.Limiter {
		url, prefix := redistest.Setup(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		primary, err := redis.New(ctx, redis.Options{URL: url, Prefix: prefix, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(primary.Close)
		return fallback.New(primary, newMemory(t, memory.Options{Now: now}), fallback.Options{})
	})
}

type syncBuffer = testenv.Buffer

func TestFallsBackAndRecovers(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	var logs syncBuffer
	shared := newMemory(t, memory.Options{Name: "shared", Registerer: reg})
	primary := &faulty{Limiter: shared}
	local := newMemory(t, memory.Options{Name: "local", Registerer: reg})
	l := fallback.New(primary, local, fallback.Options{
		Registerer: reg,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	ctx := context.Background()
	lim := ratelimit.PerHour(1, 3)
	fallbacks := func() float64 { return metrictest.Value(t, reg, "authd_ratelimit_fallback_total") }
	decided := func(limiter string) float64 {
		return metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", limiter, "result", "allowed") +
			metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", limiter, "result", "denied")
	}

	// Healthy: the shared limiter decides.
	if d, err := l.Allow(ctx, "k", lim, 1); err != nil || !d.Allowed || d.Remaining != 2 {
		t.Fatalf("healthy Allow = %+v, %v", d, err)
	}
	if decided("shared") != 1 || decided("local") != 0 || fallbacks() != 0 || l.Degraded() {
		t.Fatal("the local limiter decided while the shared one was healthy")
	}

	// Down: the local limiter decides, and still limits (its own bucket
	// starts full: limits are per replica now).
	primary.fail.Store(true)
	for i := range 3 {
		if d, err := l.Allow(ctx, "k", lim, 1); err != nil || !d.Allowed || d.Remaining != 2-i {
			t.Fatalf("fallback Allow %d = %+v, %v", i+1, d, err)
		}
	}
	if d, err := l.Allow(ctx, "k", lim, 1); err != nil || d.Allowed {
		t.Fatalf("fallback did not limit: %+v, %v", d, err)
	}
	if fallbacks() != 4 || decided("local") != 4 || !l.Degraded() {
		t.Fatalf("fallbacks = %v, local decisions = %v, degraded %v; want 4, 4, true", fallbacks(), decided("local"), l.Degraded())
	}
	// Reset while down clears what decides now, and does not fail the caller.
	if err := l.Reset(ctx, "k"); err != nil {
		t.Fatalf("Reset while down: %v", err)
	}
	if d, _ := l.Allow(ctx, "k", lim, 0); d.Remaining != 3 {
		t.Fatalf("after Reset while down: %+v; want a full local bucket", d)
	}

	// Back: the shared limiter decides again, with the budget it had.
	primary.fail.Store(false)
	if d, err := l.Allow(ctx, "k", lim, 1); err != nil || !d.Allowed || d.Remaining != 1 {
		t.Fatalf("Allow after recovery = %+v, %v; want the shared bucket (1 left)", d, err)
	}
	if l.Degraded() || fallbacks() != 6 {
		t.Fatalf("degraded %v, fallbacks %v after recovery; want false, 6", l.Degraded(), fallbacks())
	}

	out := logs.String()
	if strings.Count(out, "level=WARN") != 1 || strings.Count(out, "level=INFO") != 1 {
		t.Fatalf("want one log line per change of state, got:\n%s", out)
	}
}

// TestPassesThrough: bad arguments and callers that have gone are the
// caller's errors, not Redis's; the local limiter is not asked.
func TestPassesThrough(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	primary := &faulty{Limiter: newMemory(t, memory.Options{})}
	primary.fail.Store(true)
	local := newMemory(t, memory.Options{Name: "local", Registerer: reg})
	l := fallback.New(primary, local, fallback.Options{Registerer: reg})

	if _, err := l.Allow(context.Background(), "", ratelimit.PerSecond(1, 1), 1); !errors.Is(err, ratelimit.ErrInvalid) {
		t.Fatalf("empty key: %v; want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k", ratelimit.PerSecond(1, 1), 1); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("cancelled caller: %v; want the primary's error", err)
	}
	if n := metrictest.Value(t, reg, "authd_ratelimit_fallback_total"); n != 0 {
		t.Fatalf("fallbacks = %v; want 0", n)
	}
}

// TestRedisDown is the deployment case: a Redis limiter on a port nobody
// listens on. authd starts, limits hold per replica, and the breaker keeps
// each call cheap.
func TestRedisDown(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	ctx := context.Background()
	primary, err := redis.New(ctx, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 2, OpenFor: time.Minute, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(primary.Close)
	l := fallback.New(primary, newMemory(t, memory.Options{Name: "local", Registerer: reg}), fallback.Options{Registerer: reg})
	lim := ratelimit.PerHour(1, 5)
	allowed := 0
	start := time.Now()
	for range 1000 {
		d, err := l.Allow(ctx, "ip:192.0.2.1", lim, 1)
		if err != nil {
			t.Fatalf("Allow with Redis down: %v", err)
		}
		if d.Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("allowed %d of 1000 with Redis down; want the burst of 5 (fail closed to the local limit)", allowed)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("1000 calls with Redis down took %v", d)
	}
	if n := metrictest.Value(t, reg, "authd_ratelimit_fallback_total"); n != 1000 {
		t.Fatalf("fallbacks = %v; want 1000", n)
	}
	if n := metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", "redis", "result", "error"); n != 1000 {
		t.Fatalf("redis errors = %v; want 1000", n)
	}
}
