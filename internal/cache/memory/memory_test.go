package memory_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/cachetest"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/testenv/clocktest"
	"github.com/authd/authd/internal/testenv/metrictest"
)

func newCache(t *testing.T, opts memory.Options) *memory.Cache {
	c := memory.New(opts)
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache { return newCache(t, memory.Options{}) })
}

func TestConformanceByEntries(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache { return newCache(t, memory.Options{MaxEntries: 10_000}) })
}

func TestExpiryFollowsInjectedClock(t *testing.T) {
	clk := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	c := newCache(t, memory.Options{Now: clk.Now})
	cachetest.MustSet(t, c, "intro:a", []byte("a"), time.Minute)
	cachetest.MustSet(t, c, "intro:b", []byte("b"), time.Hour)

	clk.Advance(time.Minute - time.Nanosecond)
	cachetest.WantValue(t, c, "intro:a", []byte("a"))
	// Reads do not extend an entry's life.
	clk.Advance(time.Nanosecond)
	cachetest.WantMiss(t, c, "intro:a")
	cachetest.WantValue(t, c, "intro:b", []byte("b"))

	// An overwrite restarts the TTL from the write.
	clk.Advance(50 * time.Minute)
	cachetest.MustSet(t, c, "intro:b", []byte("b2"), time.Minute)
	clk.Advance(30 * time.Second)
	cachetest.WantValue(t, c, "intro:b", []byte("b2"))
	clk.Advance(30 * time.Second)
	cachetest.WantMiss(t, c, "intro:b")
}

func TestSizeBound(t *testing.T) {
	tests := []struct {
		name    string
		opts    memory.Options
		maxLen  int
		valSize int
	}{
		{"entries", memory.Options{MaxEntries: 100}, 100, 10},
		// 1 KiB values, 64 KiB bound: at most 64 entries even before overhead.
		{"bytes", memory.Options{MaxBytes: 64 << 10}, 64, 1 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			tc.opts.Registerer = reg
			c := newCache(t, tc.opts)
			v := make([]byte, tc.valSize)
			for i := range 2000 {
				cachetest.MustSet(t, c, fmt.Sprintf("intro:%d", i), v, time.Hour)
			}
			cachetest.Eventually(t, 5*time.Second, "cache did not shrink to its bound", func() bool {
				return c.Len() <= tc.maxLen
			})
			evicted := metrictest.Value(t, reg, "authd_cache_evictions_total", "tier", "memory", "kind", "intro")
			if evicted < float64(2000-tc.maxLen) {
				t.Fatalf("evictions = %v, want >= %d", evicted, 2000-tc.maxLen)
			}
		})
	}
}

func TestClear(t *testing.T) {
	c := newCache(t, memory.Options{})
	for i := range 10 {
		cachetest.MustSet(t, c, fmt.Sprintf("intro:%d", i), []byte("v"), time.Hour)
	}
	c.Clear()
	for i := range 10 {
		cachetest.WantMiss(t, c, fmt.Sprintf("intro:%d", i))
	}
}

func TestSetOwnedDoesNotCopy(t *testing.T) {
	c := newCache(t, memory.Options{})
	v := []byte("mine")
	c.SetOwned("intro:o", v, time.Hour)
	got, _ := cachetest.MustGet(t, c, "intro:o")
	if &got[0] != &v[0] {
		t.Fatal("SetOwned copied the value")
	}
	c.SetOwned("intro:none", v, 0)
	cachetest.WantMiss(t, c, "intro:none")
}

func TestMetricsPerKind(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c := newCache(t, memory.Options{Registerer: reg})
	// A second cache on the same registry shares the collectors.
	_ = newCache(t, memory.Options{Registerer: reg, Tier: "l1"})
	ctx := context.Background()
	cachetest.MustSet(t, c, "intro:a", []byte("v"), time.Hour)
	for range 3 {
		_, _, _ = c.Get(ctx, "intro:a")
	}
	_, _, _ = c.Get(ctx, "intro:b")
	_, _, _ = c.Get(ctx, "jwks:x")
	_, _, _ = c.Get(ctx, "nokind")
	_, _ = c.MGet(ctx, []string{"intro:a", "jwks:y"})
	tests := []struct {
		name, metric, kind string
		want               float64
	}{
		{"intro hits", "authd_cache_hits_total", "intro", 4},
		{"intro misses", "authd_cache_misses_total", "intro", 1},
		{"jwks misses", "authd_cache_misses_total", "jwks", 2},
		{"no kind", "authd_cache_misses_total", "other", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := metrictest.Value(t, reg, tc.metric, "tier", "memory", "kind", tc.kind); got != tc.want {
				t.Fatalf("%s{kind=%q} = %v, want %v", tc.metric, tc.kind, got, tc.want)
			}
		})
	}
}

// TestLoaderMergesConcurrentMisses: callers that miss while a load is in
// flight share it. The bubble's synctest.Wait returns only once every caller
// is blocked, the first in the load and the others waiting for its flight, so
// the load is released with all of them merged into it: a caller that came
// after the load would find the value cached and prove nothing.
func TestLoaderMergesConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, memory.Options{})
		l := cache.NewLoader(c)
		var calls atomic.Int32
		release := make(chan struct{})
		load := func(context.Context) ([]byte, time.Duration, error) {
			calls.Add(1)
			<-release
			return []byte("v"), time.Hour, nil
		}
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				v, err := l.Get(t.Context(), "intro:hot", load)
				if err == nil && string(v) != "v" {
					err = fmt.Errorf("got %q", v)
				}
				errs <- err
			})
		}
		synctest.Wait() // all n callers are in the flight
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("load ran %d times for %d concurrent misses, want 1", got, n)
		}
	})
}

func TestLoaderDoesNotCacheErrors(t *testing.T) {
	c := newCache(t, memory.Options{})
	l := cache.NewLoader(c)
	ctx := context.Background()
	boom := fmt.Errorf("store down")
	if _, err := l.Get(ctx, "intro:e", func(context.Context) ([]byte, time.Duration, error) {
		return nil, time.Hour, boom
	}); err != boom {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	cachetest.WantMiss(t, c, "intro:e")
	v, err := l.Get(ctx, "intro:e", func(context.Context) ([]byte, time.Duration, error) {
		return []byte("ok"), time.Hour, nil
	})
	if err != nil || string(v) != "ok" {
		t.Fatalf("after an error, Get = %q, %v; want a fresh load", v, err)
	}
}

// TestLoaderCached: Cached answers what the cache holds and loads nothing;
// Load fills it.
func TestLoaderCached(t *testing.T) {
	c := newCache(t, memory.Options{})
	l := cache.NewLoader(c)
	ctx := context.Background()
	if v, ok := l.Cached(ctx, "intro:c"); ok {
		t.Fatalf("Cached on an empty cache = %q, true", v)
	}
	cachetest.WantMiss(t, c, "intro:c")
	// Load, for a caller that has just missed, loads and caches.
	if v, err := l.Load(ctx, "intro:c", func(context.Context) ([]byte, time.Duration, error) {
		return []byte("v1"), time.Hour, nil
	}); err != nil || string(v) != "v1" {
		t.Fatalf("Load = %q, %v", v, err)
	}
	if v, ok := l.Cached(ctx, "intro:c"); !ok || string(v) != "v1" {
		t.Fatalf("Cached = %q, %v; want the loaded v1", v, ok)
	}
}

func TestLoaderNonPositiveTTLNotCached(t *testing.T) {
	c := newCache(t, memory.Options{})
	l := cache.NewLoader(c)
	v, err := l.Get(context.Background(), "intro:z", func(context.Context) ([]byte, time.Duration, error) {
		return []byte("expired already"), 0, nil
	})
	if err != nil || string(v) != "expired already" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	cachetest.WantMiss(t, c, "intro:z")
}

// TestLoaderCallerCancelDoesNotFailOthers: the caller that started a load
// gives up; another caller waiting for the same flight still gets its value,
// because the load does not run under the first caller's cancellation. The
// load signals when it is entered, so the first caller is known to own the
// flight, and synctest.Wait knows when the second is waiting for it.
func TestLoaderCallerCancelDoesNotFailOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCache(t, memory.Options{})
		l := cache.NewLoader(c)
		entered, release := make(chan struct{}), make(chan struct{})
		var calls atomic.Int32
		load := func(ctx context.Context) ([]byte, time.Duration, error) {
			if calls.Add(1) == 1 {
				close(entered)
			}
			<-release
			return []byte("v"), time.Hour, ctx.Err()
		}
		ctx1, cancel1 := context.WithCancel(t.Context())
		first := make(chan error, 1)
		go func() { _, err := l.Get(ctx1, "intro:c", load); first <- err }()
		<-entered // the first caller's flight is loading
		second := make(chan error, 1)
		go func() { _, err := l.Get(t.Context(), "intro:c", load); second <- err }()
		synctest.Wait() // the second caller waits for that flight
		cancel1()
		if err := <-first; err != context.Canceled {
			t.Fatalf("cancelled caller: err = %v, want context.Canceled", err)
		}
		close(release)
		if err := <-second; err != nil {
			t.Fatalf("other caller: err = %v, want nil", err)
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("load ran %d times, want once for both callers", got)
		}
		cachetest.WantValue(t, c, "intro:c", []byte("v"))
	})
}

// Maintenance runs on the caller (memory.go's Executor): once Set returns,
// an entry over the bound has been evicted already, with no goroutine left
// to do it later.
func TestMaintenanceOnTheCaller(t *testing.T) {
	c := memory.New(memory.Options{MaxEntries: 10})
	defer c.Close()
	ctx := context.Background()
	for i := range 1000 {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := c.Len(); n > 10 {
			t.Fatalf("after %d sets: %d entries, bound 10", i+1, n)
		}
	}
}
