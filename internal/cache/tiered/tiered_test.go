package tiered_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/cachetest"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/cache/redis"
	"github.com/authd/authd/internal/cache/tiered"
	"github.com/authd/authd/internal/testenv/metrictest"
	"github.com/authd/authd/internal/testenv/redistest"
)

// replica is one authd replica's view: its own L1, a client to the shared L2.
type replica struct {
	*tiered.Cache
	l1  *memory.Cache
	l2  *redis.Cache
	reg *prometheus.Registry
}

type config struct {
	url, prefix string
	l2          redis.Options
	tiered      tiered.Options
	noWait      bool // do not wait for the subscription
}

func newReplica(t testing.TB, cfg config) *replica {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	l1 := memory.New(memory.Options{Registerer: reg, Tier: "l1"})
	t.Cleanup(l1.Close)
	opts := cfg.l2
	opts.URL, opts.Prefix, opts.Registerer = cfg.url, cfg.prefix, reg
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second // a loaded CI machine is not an outage
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l2, err := redis.New(ctx, opts)
	if err != nil {
		t.Fatalf("redis.New: %v", err)
	}
	t.Cleanup(l2.Close)
	topts := cfg.tiered
	topts.L1, topts.L2, topts.Registerer = l1, l2, reg
	c, err := tiered.New(topts)
	if err != nil {
		t.Fatalf("tiered.New: %v", err)
	}
	t.Cleanup(c.Close) // runs before l2.Close
	if !cfg.noWait {
		if err := c.WaitSubscribed(ctx); err != nil {
			t.Fatalf("WaitSubscribed: %v", err)
		}
	}
	return &replica{Cache: c, l1: l1, l2: l2, reg: reg}
}

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		url, prefix := redistest.Setup(t)
		return newReplica(t, config{url: url, prefix: prefix})
	})
}

func TestNewRequiresTiers(t *testing.T) {
	if _, err := tiered.New(tiered.Options{}); err == nil {
		t.Fatal("New without L1 and L2 succeeded")
	}
}

// TestCrossReplicaInvalidation: a Delete on one replica removes the key from
// another replica's L1 well within the staleness bound, by message (the L1
// TTL here is an hour, so expiry cannot be what removes it).
func TestCrossReplicaInvalidation(t *testing.T) {
	url, prefix := redistest.Setup(t)
	cfg := config{url: url, prefix: prefix, tiered: tiered.Options{L1MaxTTL: time.Hour}}
	a, b := newReplica(t, cfg), newReplica(t, cfg)

	cachetest.MustSet(t, a, "intro:k", []byte("active"), time.Hour)
	cachetest.MustSet(t, a, "intro:other", []byte("kept"), time.Hour)
	cachetest.WantValue(t, b, "intro:k", []byte("active"))    // fills b's L1
	cachetest.WantValue(t, b, "intro:other", []byte("kept"))  // fills b's L1
	cachetest.WantValue(t, b.l1, "intro:k", []byte("active")) // proves it is in L1

	start := time.Now()
	if err := a.Delete(context.Background(), "intro:k"); err != nil {
		t.Fatal(err)
	}
	cachetest.Eventually(t, tiered.DefaultL1MaxTTL, "b's L1 still holds a key a deleted", func() bool {
		_, ok := cachetest.MustGet(t, b.l1, "intro:k")
		return !ok
	})
	t.Logf("invalidation reached the other replica in %v", time.Since(start))
	cachetest.WantMiss(t, b, "intro:k")
	cachetest.WantMiss(t, a, "intro:k")
	cachetest.WantValue(t, b.l1, "intro:other", []byte("kept")) // only the deleted key went
}

// TestStalenessBoundWithoutMessages: with no invalidation at all (the message
// was lost), a mutable kind leaves L1 within L1MaxTTL; an immutable kind stays.
func TestStalenessBoundWithoutMessages(t *testing.T) {
	url, prefix := redistest.Setup(t)
	const bound = 200 * time.Millisecond
	r := newReplica(t, config{url: url, prefix: prefix, tiered: tiered.Options{
		L1MaxTTL:       bound,
		L1MaxTTLByKind: map[string]time.Duration{"client": time.Hour},
		ImmutableKinds: []string{"jwks"},
	}})
	for _, k := range []string{"intro:m", "jwks:kid1", "client:c"} {
		cachetest.MustSet(t, r, k, []byte("v"), time.Hour)
	}
	// Deleting straight from L2 is what a lost message looks like to L1.
	if err := r.l2.Delete(context.Background(), "intro:m", "jwks:kid1", "client:c"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cachetest.Eventually(t, 2*bound, "mutable entry outlived the L1 bound", func() bool {
		_, ok := cachetest.MustGet(t, r, "intro:m")
		return !ok
	})
	if d := time.Since(start); d > bound+100*time.Millisecond {
		t.Fatalf("stale for %v, bound %v", d, bound)
	}
	cachetest.WantValue(t, r.l1, "jwks:kid1", []byte("v"))
	cachetest.WantValue(t, r.l1, "client:c", []byte("v"))

	// An L1 fill from L2 is capped the same way.
	cachetest.MustSet(t, r.l2, "intro:f", []byte("v"), time.Hour)
	cachetest.WantValue(t, r, "intro:f", []byte("v"))
	if err := r.l2.Delete(context.Background(), "intro:f"); err != nil {
		t.Fatal(err)
	}
	cachetest.Eventually(t, 2*bound, "entry filled from L2 outlived the L1 bound", func() bool {
		_, ok := cachetest.MustGet(t, r, "intro:f")
		return !ok
	})
}

// TestFillUsesRemainingL2TTL: an entry filled from L2 leaves L1 when it
// expires in L2, even if the kind could stay longer.
func TestFillUsesRemainingL2TTL(t *testing.T) {
	url, prefix := redistest.Setup(t)
	r := newReplica(t, config{url: url, prefix: prefix, tiered: tiered.Options{ImmutableKinds: []string{"jwks"}}})
	cachetest.MustSet(t, r.l2, "jwks:short", []byte("v"), 150*time.Millisecond)
	cachetest.WantValue(t, r, "jwks:short", []byte("v"))
	cachetest.WantValue(t, r.l1, "jwks:short", []byte("v"))
	cachetest.Eventually(t, time.Second, "L1 copy outlived the L2 entry", func() bool {
		_, ok := cachetest.MustGet(t, r.l1, "jwks:short")
		return !ok
	})
}

// TestFallbackToL1WhenL2Down: with Redis gone, Gets are served from L1 and
// never fail; Set still fills L1 but reports the L2 failure; Delete clears L1
// and reports the failure.
func TestFallbackToL1WhenL2Down(t *testing.T) {
	url, prefix := redistest.Setup(t)
	proxy := redistest.NewProxy(t, redistest.Target(t, url))
	r := newReplica(t, config{
		url: redistest.WithHost(t, url, proxy.Addr()), prefix: prefix,
		l2:     redis.Options{Timeout: 100 * time.Millisecond, TripAfter: 2},
		tiered: tiered.Options{L1MaxTTL: time.Hour},
	})
	ctx := context.Background()
	cachetest.MustSet(t, r, "client:a", []byte("cached"), time.Hour)
	cachetest.MustSet(t, r, "client:b", []byte("cached"), time.Hour)

	proxy.SetMode(redistest.Refuse)
	for range 5 {
		cachetest.WantValue(t, r, "client:a", []byte("cached"))
		cachetest.WantMiss(t, r, "client:absent") // no error: a miss
	}
	got, err := r.MGet(ctx, []string{"client:a", "client:absent"})
	if err != nil || string(got[0]) != "cached" || got[1] != nil {
		t.Fatalf("MGet with L2 down = %q, %v", got, err)
	}
	if errs := metrictest.Value(t, r.reg, "authd_cache_errors_total", "tier", "tiered"); errs < 5 {
		t.Fatalf("tiered errors = %v, want the L2 failures counted", errs)
	}
	if err := r.Set(ctx, "client:new", []byte("fresh"), time.Hour); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Set with L2 down: err = %v, want ErrUnavailable", err)
	}
	cachetest.WantValue(t, r, "client:new", []byte("fresh"))
	if err := r.Delete(ctx, "client:b"); !errors.Is(err, redis.ErrUnavailable) {
		t.Fatalf("Delete with L2 down: err = %v, want ErrUnavailable", err)
	}
	cachetest.WantMiss(t, r.l1, "client:b")

	// Once Redis is back, the tier recovers by itself.
	proxy.SetMode(redistest.Forward)
	cachetest.Eventually(t, 5*time.Second, "L2 never came back", func() bool {
		return r.Set(ctx, "client:c", []byte("v"), time.Hour) == nil
	})
}

// TestReconnectFlushesL1: a replica whose subscription dropped misses what was
// published meanwhile; when it resubscribes it flushes L1, so the entry
// another replica deleted during the outage is gone.
func TestReconnectFlushesL1(t *testing.T) {
	url, prefix := redistest.Setup(t)
	proxy := redistest.NewProxy(t, redistest.Target(t, url))
	cut := newReplica(t, config{
		url: redistest.WithHost(t, url, proxy.Addr()), prefix: prefix,
		l2:     redis.Options{OpenFor: 100 * time.Millisecond},
		tiered: tiered.Options{L1MaxTTL: time.Hour}, // only the flush can remove it
	})
	other := newReplica(t, config{url: url, prefix: prefix, tiered: tiered.Options{L1MaxTTL: time.Hour}})

	cachetest.MustSet(t, cut, "intro:revoked", []byte("active"), time.Hour)
	cachetest.MustSet(t, cut, "jwks:k", []byte("key"), time.Hour)
	raw, channel := redistest.Raw(t, url), prefix+tiered.Channel
	if n := subscribers(t, raw, channel); n != 2 {
		t.Fatalf("%d subscribers before the cut, want both replicas", n)
	}

	proxy.SetMode(redistest.Refuse) // drops the subscription too
	// Redis, another process, drops cut's subscription once it sees the
	// connection close; from then on nothing published can reach cut.
	cachetest.Eventually(t, 5*time.Second, "Redis still counts cut's subscription", func() bool {
		return subscribers(t, raw, channel) == 1
	})
	if err := other.Delete(context.Background(), "intro:revoked"); err != nil {
		t.Fatal(err)
	}
	// The message is lost: cut still serves its L1 copy (for at most its L1
	// TTL, an hour in this test, a second by default).
	cachetest.WantValue(t, cut.l1, "intro:revoked", []byte("active"))

	proxy.SetMode(redistest.Forward)
	cachetest.Eventually(t, 5*time.Second, "L1 not flushed after the subscription came back", func() bool {
		_, ok := cachetest.MustGet(t, cut.l1, "intro:revoked")
		return !ok
	})
	cachetest.WantMiss(t, cut, "intro:revoked")
	cachetest.WantMiss(t, cut.l1, "jwks:k")              // everything was flushed…
	cachetest.WantValue(t, cut, "jwks:k", []byte("key")) // …and refills from L2
}

// subscribers is how many clients Redis counts on channel.
func subscribers(t *testing.T, raw rueidis.Client, channel string) int64 {
	t.Helper()
	n, err := raw.Do(t.Context(), raw.B().PubsubNumsub().Channel(channel).Build()).AsIntMap()
	if err != nil {
		t.Fatalf("PUBSUB NUMSUB: %v", err)
	}
	return n[channel]
}

func TestMetrics(t *testing.T) {
	url, prefix := redistest.Setup(t)
	r := newReplica(t, config{url: url, prefix: prefix})
	cachetest.MustSet(t, r, "intro:a", []byte("v"), time.Hour)
	cachetest.MustSet(t, r.l2, "intro:b", []byte("v"), time.Hour)
	cachetest.WantValue(t, r, "intro:a", []byte("v")) // L1 hit
	cachetest.WantValue(t, r, "intro:b", []byte("v")) // L2 hit
	cachetest.WantMiss(t, r, "intro:c")
	tests := []struct {
		metric, tier string
		want         float64
	}{
		{"authd_cache_hits_total", "tiered", 2},
		{"authd_cache_misses_total", "tiered", 1},
		{"authd_cache_hits_total", "l1", 1},
		{"authd_cache_misses_total", "l1", 2},
		{"authd_cache_hits_total", "redis", 1},
		{"authd_cache_misses_total", "redis", 1},
	}
	for _, tc := range tests {
		if got := metrictest.Value(t, r.reg, tc.metric, "tier", tc.tier, "kind", "intro"); got != tc.want {
			t.Errorf("%s{tier=%q} = %v, want %v", tc.metric, tc.tier, got, tc.want)
		}
	}
	if up := metrictest.Value(t, r.reg, "authd_cache_redis_up"); up != 1 {
		t.Errorf("authd_cache_redis_up = %v, want 1", up)
	}
}
