package memory

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/internal/gcra"
	"github.com/authd/authd/internal/ratelimit/internal/metrics"
)

// DefaultMaxKeys bounds a Limiter whose Options leave MaxKeys zero. An entry
// costs about 150 bytes with a short key, so the default holds at most
// about 30 MB.
const DefaultMaxKeys = 200_000

// Options configure a Limiter.
type Options struct {
	// MaxKeys bounds the keys held at once (default DefaultMaxKeys); past
	// it, keys are evicted and their history forgotten (see the package
	// documentation).
	MaxKeys int
	// Now replaces the clock, for tests: decisions and entry expiry then
	// follow it, and otter's periodic clean-up is off (expired entries are
	// dropped when touched or evicted). Nil uses the real, monotonic clock.
	Now func() time.Time
	// Name labels the metrics (default "memory"); fallback's local limiter
	// may say "local".
	Name string
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Limiter is an in-process ratelimit.Limiter. It is safe for concurrent use.
type Limiter struct {
	c *otter.Cache[string, *cell]
	// clock reads the time when a key is not held. Otherwise a decision
	// takes its time from otter's read of the key (Entry.SnapshotAtNano):
	// one clock read fewer, and TATs on the scale of otter's deadlines.
	// Both are Unix time advanced by the monotonic clock.
	clock interface{ NowNano() int64 }
	m     *metrics.Decisions
	evic  prometheus.Counter
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// cell is one key's state. The TAT changes by compare-and-swap, so a decision
// takes no lock of ours; otter's map is only read on the hot path.
type cell struct {
	tat    atomic.Int64 // theoretical arrival time, Unix ns
	window atomic.Int64 // Window of the limit last charged, ns
}

// expirySlack covers otter's read tolerance (a read may leave a deadline up
// to a second early rather than write it) and the moment between the read
// that sets the deadline and the charge that follows it.
const expirySlack = 2 * time.Second

// expiry keeps an entry until its bucket is full again. Every read (each
// Allow reads its key first) moves the deadline to max(TAT, now) + Window +
// slack: the charge that follows the read adds at most Window to the TAT, so
// the deadline stays past it without a second write to otter. An entry thus
// outlives its TAT by at most one Window and the slack.
type expiry struct{}

func (expiry) lifetime(e otter.Entry[string, *cell]) time.Duration {
	left := max(e.Value.tat.Load()-e.SnapshotAtNano, 0)
	return time.Duration(left+e.Value.window.Load()) + expirySlack
}

func (x expiry) ExpireAfterCreate(e otter.Entry[string, *cell]) time.Duration { return x.lifetime(e) }
func (x expiry) ExpireAfterUpdate(e otter.Entry[string, *cell], _ *cell) time.Duration {
	return x.lifetime(e)
}
func (x expiry) ExpireAfterRead(e otter.Entry[string, *cell]) time.Duration { return x.lifetime(e) }

// New returns an empty Limiter.
func New(opts Options) *Limiter {
	if opts.Name == "" {
		opts.Name = "memory"
	}
	if opts.MaxKeys <= 0 {
		opts.MaxKeys = DefaultMaxKeys
	}
	l := &Limiter{
		m:    metrics.NewDecisions(opts.Registerer, opts.Name),
		evic: metrics.NewEvictions(opts.Registerer, opts.Name),
	}
	o := &otter.Options[string, *cell]{
		MaximumSize:      opts.MaxKeys,
		ExpiryCalculator: expiry{},
		// Runs under otter's bucket lock: it may only touch counters.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *cell]) {
			if e.Cause == otter.CauseOverflow {
				l.evic.Inc()
			}
		},
	}
	if opts.Now != nil {
		c := fakeClock{now: opts.Now}
		l.clock, o.Clock = c, c
	} else {
		base := time.Now()
		l.clock = monoClock{base: base, baseNano: base.UnixNano()}
	}
	l.c = otter.Must(o)
	return l
}

// Allow implements ratelimit.Limiter. It fails only on invalid arguments.
func (l *Limiter) Allow(_ context.Context, key string, limit ratelimit.Limit, cost int) (ratelimit.Decision, error) {
	if err := ratelimit.CheckArgs(key, limit, cost); err != nil {
		l.m.Observe(ratelimit.Decision{}, err)
		return ratelimit.Decision{}, err
	}
	d := l.allow(key, limit, cost)
	l.m.Observe(d, nil)
	return d, nil
}

func (l *Limiter) allow(key string, limit ratelimit.Limit, cost int) ratelimit.Decision {
	window := int64(limit.Window())
	for {
		e, ok := l.c.GetEntry(key)
		if !ok {
			now := l.clock.NowNano()
			next, charged, d := gcra.Step(now, now, limit, cost)
			if !charged {
				// Looks and denials write nothing: a key that was never
				// charged takes no memory.
				return d
			}
			c := new(cell)
			c.tat.Store(next)
			c.window.Store(window)
			if _, inserted := l.c.SetIfAbsent(key, c); inserted {
				return d
			}
			continue // another call created the key first: decide on its cell
		}
		c, now := e.Value, e.SnapshotAtNano
		if w := c.window.Load(); w != window {
			// The key's limit changed. The read set its deadline for the
			// old window; read again so that a longer one is covered.
			c.window.Store(window)
			if window > w {
				_, _ = l.c.GetEntry(key)
			}
		}
		for {
			tat := c.tat.Load()
			next, charged, d := gcra.Step(tat, now, limit, cost)
			if !charged || c.tat.CompareAndSwap(tat, next) {
				return d
			}
		}
	}
}

// Reset implements ratelimit.Limiter. It fails only on an invalid key.
func (l *Limiter) Reset(_ context.Context, key string) error {
	if err := ratelimit.CheckKey(key); err != nil {
		return err
	}
	l.c.Invalidate(key)
	return nil
}

// Len returns the number of keys held, after dropping those that expired and
// applying pending evictions (otter applies them in batches). It is for
// tests and gauges, not hot paths.
func (l *Limiter) Len() int {
	l.c.CleanUp()
	return l.c.EstimatedSize()
}

// Close stops otter's background goroutine (periodic expiry). The limiter
// still works afterwards; Close matters to tests that check for leaks and to
// programs that create many limiters.
func (l *Limiter) Close() { l.c.StopAllGoroutines() }

// monoClock is Unix time advanced by the monotonic clock, as otter's own
// clock is: a wall-clock step (NTP) neither refills nor drains buckets.
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
