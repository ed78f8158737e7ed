package memory

import (
	"context"
	"math"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/internal/metrics"
)

// DefaultMaxBytes bounds a cache whose Options set neither MaxBytes nor MaxEntries.
const DefaultMaxBytes = 64 << 20

// entryOverhead approximates what an entry costs beyond its key and value
// (otter's node, the string and slice headers), so that MaxBytes tracks memory
// use rather than payload alone.
const entryOverhead = 96

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the approximate memory held by keys and values. It wins
	// over MaxEntries when both are set. Zero with MaxEntries zero means
	// DefaultMaxBytes.
	MaxBytes uint64
	// MaxEntries bounds the number of entries when MaxBytes is zero.
	MaxEntries int
	// Registerer receives the tier's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Tier labels the metrics (default "memory"); a tiered cache's L1 may say "l1".
	Tier string
	// Now replaces the clock, for tests: expiry then follows Now, and the
	// periodic clean-up is off (expired entries are dropped when read or
	// evicted). Nil uses the real clock.
	Now func() time.Time
}

// Cache is an in-process cache.Cache. It is safe for concurrent use.
type Cache struct {
	c *otter.Cache[string, item]
	m *metrics.Tier
}

var (
	_ cache.Cache       = (*Cache)(nil)
	_ cache.MultiGetter = (*Cache)(nil)
)

// item carries the entry's TTL to the expiry calculator.
type item struct {
	v   []byte
	ttl time.Duration
}

// New returns an empty cache.
func New(opts Options) *Cache {
	if opts.Tier == "" {
		opts.Tier = "memory"
	}
	c := &Cache{m: metrics.New(opts.Registerer, opts.Tier)}
	o := &otter.Options[string, item]{
		// The TTL is reset on every write and untouched by reads: a read must
		// never extend an entry's life past the TTL its writer chose.
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, item]) time.Duration {
			return e.Value.ttl
		}),
		// Maintenance (draining the read and write buffers, evicting) runs
		// on the goroutine whose read or write called for it, a few
		// microseconds now and then, instead of a goroutine started for it:
		// a batch introspection (a hundred reads) started one almost every
		// time, and on a saturated core those new goroutines kept the run
		// queue from draining, so connections the network woke waited in
		// the global queue up to 130 ms (an execution trace showed it).
		// Safe here: nothing runs under otter's locks but OnAtomicDeletion,
		// which only counts, and no Compute is used.
		Executor: func(fn func()) { fn() },
		// Runs under otter's bucket lock: it may only touch counters.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, item]) {
			// Expiry is the expected end of every entry; only evictions to
			// stay within the bound say the cache is too small.
			if e.Cause == otter.CauseOverflow {
				c.m.Kind(e.Key).Evictions.Inc()
			}
		},
	}
	switch {
	case opts.MaxBytes > 0 || opts.MaxEntries <= 0:
		if opts.MaxBytes == 0 {
			opts.MaxBytes = DefaultMaxBytes
		}
		o.MaximumWeight = opts.MaxBytes
		o.Weigher = func(k string, it item) uint32 {
			return uint32(min(uint64(len(k))+uint64(len(it.v))+entryOverhead, math.MaxUint32))
		}
	default:
		o.MaximumSize = opts.MaxEntries
	}
	if opts.Now != nil {
		o.Clock = clock{now: opts.Now}
	}
	c.c = otter.Must(o)
	return c
}

// Get implements cache.Cache. It never fails.
func (c *Cache) Get(_ context.Context, key string) ([]byte, bool, error) {
	it, ok := c.c.GetIfPresent(key)
	if !ok {
		c.m.Kind(key).Misses.Inc()
		return nil, false, nil
	}
	c.m.Kind(key).Hits.Inc()
	return it.v, true, nil
}

// MGet implements cache.MultiGetter. It never fails.
func (c *Cache) MGet(_ context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if it, ok := c.c.GetIfPresent(k); ok {
			c.m.Kind(k).Hits.Inc()
			out[i] = it.v
		} else {
			c.m.Kind(k).Misses.Inc()
		}
	}
	return out, nil
}

// Set implements cache.Cache: it stores a copy of value. It never fails.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	c.SetOwned(key, append(make([]byte, 0, len(value)), value...), ttl)
	return nil
}

// SetOwned stores value without copying it: the cache takes ownership, and
// nobody may mutate value afterwards. It exists for callers that already hold
// a private copy (a value just read from Redis). A ttl <= 0 stores nothing.
func (c *Cache) SetOwned(key string, value []byte, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	if value == nil {
		value = []byte{} // a present empty value is not a miss
	}
	c.c.Set(key, item{v: value, ttl: ttl})
}

// Delete implements cache.Cache. It never fails.
func (c *Cache) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		c.c.Invalidate(k)
	}
	return nil
}

// Clear removes every entry. The tiered cache calls it when its invalidation
// stream may have lost messages.
func (c *Cache) Clear() { c.c.InvalidateAll() }

// Len returns the approximate number of entries.
func (c *Cache) Len() int { return c.c.EstimatedSize() }

// Close stops the cache's background goroutine (periodic expiry). The cache
// still works afterwards; Close only matters to tests that check for leaks
// and to programs that create many caches.
func (c *Cache) Close() { c.c.StopAllGoroutines() }

// clock adapts a test clock to otter. Its nil tick channel turns off the
// periodic clean-up, whose ticker would otherwise never be stopped.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                      { return c.now().UnixNano() }
func (c clock) Tick(time.Duration) <-chan time.Time { return nil }
