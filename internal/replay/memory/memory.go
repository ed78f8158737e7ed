package memory

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/authd/authd/internal/replay"
)

// DefaultMaxKeys bounds a Cache whose Options leave MaxKeys zero. A record
// costs about 150 bytes with a 48-byte key (package dpop's), so the default
// holds at most about 40 MB: some 3,500 DPoP proofs a second, each kept for
// about 70 seconds.
const DefaultMaxKeys = 250_000

// ErrFull is returned when every one of MaxKeys records is live: the cache
// cannot record another use without forgetting one that still guards
// something, so it refuses (see the package documentation).
var ErrFull = fmt.Errorf("replay/memory: %w: full of live records", replay.ErrUnavailable)

// Options configure a Cache.
type Options struct {
	// MaxKeys bounds the records held at once (default DefaultMaxKeys).
	MaxKeys int
	// Now replaces the clock, for tests: records then expire by it, and
	// otter's periodic clean-up is off (expired records are dropped when
	// touched, by otter's maintenance, or when the cache is full). Nil uses
	// the real clock: Unix time advanced by the monotonic clock, so that a
	// wall-clock step neither ends records early nor keeps them late.
	Now func() time.Time
}

// Cache is an in-process replay.Cache. It is safe for concurrent use.
type Cache struct {
	c     *otter.Cache[string, int64] // key → until, Unix ns
	clock interface{ NowNano() int64 }
	max   int64
	// n counts the records in c: reserved before an insert, released when
	// the insert finds the key present or when otter deletes a record.
	n atomic.Int64
}

var _ replay.Cache = (*Cache)(nil)

// New returns an empty Cache.
func New(opts Options) *Cache {
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	c := &Cache{max: int64(opts.MaxKeys)}
	o := &otter.Options[string, int64]{
		// No MaximumSize: otter never evicts. The bound is c.n.
		//
		// A record lives until its until; neither a read nor a refused
		// use (which writes nothing) moves that.
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, int64]) time.Duration {
			return time.Duration(e.Value - e.SnapshotAtNano)
		}),
		// Runs under otter's bucket lock: it may only touch counters.
		// Every record leaves once, whatever the cause (expiry, or an
		// expired record replaced by a new use).
		OnAtomicDeletion: func(otter.DeletionEvent[string, int64]) { c.n.Add(-1) },
	}
	if opts.Now != nil {
		clk := fakeClock{now: opts.Now}
		c.clock, o.Clock = clk, clk
	} else {
		// otter's own clock counts the same way (and stops its ticker on
		// Close); Use's argument check reads this one.
		base := time.Now()
		c.clock = monoClock{base: base, baseNano: base.UnixNano()}
	}
	c.c = otter.Must(o)
	return c
}

// Use implements replay.Cache. It ignores ctx (it never waits), and fails
// only on invalid arguments or with ErrFull.
func (c *Cache) Use(_ context.Context, key string, until time.Time) (bool, error) {
	now := c.clock.NowNano()
	if err := replay.CheckArgs(key, until, time.Unix(0, now)); err != nil {
		return false, err
	}
	// A replay is the one case that must be fast under attack: a read.
	if _, ok := c.c.GetIfPresent(key); ok {
		return false, nil
	}
	if !c.reserve() {
		// Full of live records. A replay must still be refused as one,
		// not as an outage: look again before failing closed.
		if _, ok := c.c.GetIfPresent(key); ok {
			return false, nil
		}
		return false, ErrFull
	}
	if _, inserted := c.c.SetIfAbsent(key, until.UnixNano()); !inserted {
		c.n.Add(-1) // a racing use inserted first
		return false, nil
	}
	return true, nil
}

// reserve takes one slot of the bound, dropping expired records first when
// the cache is full, and reports whether it got one.
func (c *Cache) reserve() bool {
	if c.n.Add(1) <= c.max {
		return true
	}
	c.n.Add(-1)
	// Expired records guard nothing; otter's maintenance drops them (and
	// calls OnAtomicDeletion, which frees their slots): those expired about
	// a second or more ago, the granularity of its timer wheel.
	c.c.CleanUp()
	if c.n.Add(1) <= c.max {
		return true
	}
	c.n.Add(-1)
	return false
}

// Len returns the number of records held, after dropping expired ones. It is
// for tests and gauges, not hot paths.
func (c *Cache) Len() int {
	c.c.CleanUp()
	return int(c.n.Load())
}

// Close stops otter's background goroutine (periodic expiry). The cache
// still works afterwards; Close matters to tests that check for leaks and to
// programs that create many caches.
func (c *Cache) Close() { c.c.StopAllGoroutines() }

// monoClock is Unix time advanced by the monotonic clock, as otter's own
// clock is, so that Use's check of until agrees with otter's expiry.
type monoClock struct {
	base     time.Time
	baseNano int64
}

func (c monoClock) NowNano() int64 { return c.baseNano + int64(time.Since(c.base)) }

// fakeClock adapts a test clock to otter. Its nil tick channel turns off the
// periodic clean-up, whose ticker would otherwise never be stopped.
type fakeClock struct{ now func() time.Time }

func (c fakeClock) NowNano() int64                      { return c.now().UnixNano() }
func (c fakeClock) Tick(time.Duration) <-chan time.Time { return nil }
