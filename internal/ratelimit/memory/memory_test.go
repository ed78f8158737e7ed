package memory_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/limitertest"
	"github.com/authd/authd/internal/ratelimit/memory"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/metrictest"
)

func newLimiter(t *testing.T, opts memory.Options) *memory.Limiter {
	l := memory.New(opts)
	t.Cleanup(l.Close)
	return l
}

func TestConformance(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, now func() time.Time) ratelimit.Limiter {
		return newLimiter(t, memory.Options{Now: now})
	})
}

// TestConformanceRealClock runs the suite on the real clock, as authd does.
func TestConformanceRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time suite takes seconds")
	}
	limitertest.Run(t, func(t *testing.T, _ func() time.Time) ratelimit.Limiter {
		return newLimiter(t, memory.Options{})
	})
}

// TestKeysExpireWhenFull: memory stays bounded in time, not only in size. A
// key is held while its bucket is not full, and dropped at most one window
// (plus a little slack) after it is full again.
func TestKeysExpireWhenFull(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	l := newLimiter(t, memory.Options{Now: clk.Now})
	ctx := context.Background()
	lim := ratelimit.PerSecond(1, 10) // window 10 s
	for i := range 100 {
		if _, err := l.Allow(ctx, "ip:"+strconv.Itoa(i), lim, 5); err != nil {
			t.Fatal(err)
		}
	}
	// Looks and denials store nothing.
	for i := range 100 {
		_, _ = l.Allow(ctx, "look:"+strconv.Itoa(i), lim, 0)
		_, _ = l.Allow(ctx, "deny:"+strconv.Itoa(i), lim, 11)
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("Len = %d after charging 100 keys; want 100", n)
	}
	// Buckets are full again after 5 s; the history must still be there at
	// 4.9 s, and gone by 5 s + window + slack.
	clk.Advance(4900 * time.Millisecond)
	if d, _ := l.Allow(ctx, "ip:0", lim, 0); d.Remaining != 9 {
		t.Fatalf("history lost before the bucket was full: %+v", d)
	}
	clk.Advance(20 * time.Second)
	if n := l.Len(); n != 0 {
		t.Fatalf("Len = %d long after every bucket was full; want 0", n)
	}
}

// TestSizeBound: a flood of distinct keys never holds more than MaxKeys, and
// what was forgotten is counted.
func TestSizeBound(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	const maxKeys = 1000
	l := newLimiter(t, memory.Options{MaxKeys: maxKeys, Registerer: reg, Name: "local"})
	ctx := context.Background()
	lim := ratelimit.PerHour(1, 5)
	for i := range 20 * maxKeys {
		if d, err := l.Allow(ctx, "ip:"+strconv.Itoa(i), lim, 1); err != nil || !d.Allowed {
			t.Fatalf("Allow = %+v, %v", d, err)
		}
	}
	if n := l.Len(); n > maxKeys {
		t.Fatalf("Len = %d; want at most MaxKeys = %d", n, maxKeys)
	}
	if ev := metrictest.Value(t, reg, "authd_ratelimit_evictions_total", "limiter", "local"); ev < 19*maxKeys {
		t.Fatalf("evictions = %v; want about %d", ev, 19*maxKeys)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	l := newLimiter(t, memory.Options{Registerer: reg})
	// A second limiter on the same registry shares the collectors.
	_ = newLimiter(t, memory.Options{Registerer: reg, Name: "other"})
	ctx := context.Background()
	lim := ratelimit.PerHour(1, 2)
	for range 5 {
		_, _ = l.Allow(ctx, "k", lim, 1)
	}
	_, _ = l.Allow(ctx, "", lim, 1)
	for result, want := range map[string]float64{"allowed": 2, "denied": 3, "error": 1} {
		if got := metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", "memory", "result", result); got != want {
			t.Errorf("decisions{result=%q} = %v; want %v", result, got, want)
		}
	}
	if got := metrictest.Value(t, reg, "authd_ratelimit_decisions_total", "limiter", "other", "result", "allowed"); got != 0 {
		t.Errorf("the other limiter counted %v decisions; want 0", got)
	}
}
