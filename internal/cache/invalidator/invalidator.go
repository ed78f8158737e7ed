// Package invalidator deletes cache entries after the data behind them
// changed, and makes sure the deletion lands even when the shared tier
// (Redis) cannot be reached or the process dies right after.
//
// A deletion that the cache could not confirm is written to a durable outbox
// in the store before the change is acknowledged; every replica applies the
// outbox, and a tiered cache that saw Redis fail does not trust Redis again
// until it has (cache/tiered Options.Outbox). Every deletion is also repeated
// once, a moment later, to catch a load that read the store before the change
// and filled the cache after the first deletion.
package invalidator

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authd/authd/internal/store"
)

// Cache is what the Invalidator deletes from (cache.Cache).
type Cache interface {
	Delete(ctx context.Context, keys ...string) error
}

// Outbox is the durable record of deletions that did not land
// (store.Invalidations).
type Outbox interface {
	AddInvalidation(ctx context.Context, inv *store.Invalidation) error
	PendingInvalidations(ctx context.Context, now time.Time, afterID int64, limit int) ([]*store.Invalidation, error)
	DeleteInvalidations(ctx context.Context, ids []int64) error
}

// Options configure an Invalidator. Zero values take the defaults.
type Options struct {
	// EntryTTL is the longest any entry it deletes lives in the shared tier:
	// a record older than that has nothing left to delete. Default 1 minute.
	EntryTTL time.Duration
	// Redelete is how long after a deletion it is repeated; default 1 s.
	// It must exceed the longest cache fill that may race a change.
	Redelete time.Duration
	// Poll is how often Run applies the outbox; 0 turns polling off (a
	// cache no other process shares needs none).
	Poll time.Duration
	// MaxQueue bounds the repeated deletions waiting in memory; beyond it
	// they go to the outbox. Default 10,000.
	MaxQueue int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Invalidator is safe for concurrent use. Run it (once) for the repeated
// deletions and the outbox polling to happen.
type Invalidator struct {
	cache  Cache
	outbox Outbox // nil: failures are only logged
	opts   Options

	mu    sync.Mutex
	queue []redelete // due times never decrease: Redelete is constant
	wake  chan struct{}

	recorded atomic.Uint64 // deletions that went to the outbox
}

type redelete struct {
	keys []string
	due  time.Time
}

// New returns an Invalidator over c that records failed deletions in outbox
// (nil: none are recorded, for a cache that cannot fail).
func New(c Cache, outbox Outbox, opts Options) *Invalidator {
	if opts.EntryTTL <= 0 {
		opts.EntryTTL = time.Minute
	}
	if opts.Redelete <= 0 {
		opts.Redelete = time.Second
	}
	if opts.MaxQueue <= 0 {
		opts.MaxQueue = 10_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Invalidator{cache: c, outbox: outbox, opts: opts, wake: make(chan struct{}, 1)}
}

// Recorded returns how many deletions went to the outbox since New.
func (v *Invalidator) Recorded() uint64 { return v.recorded.Load() }

// Invalidate deletes keys now and schedules the repeat. When the deletion
// fails it returns only once the outbox holds it (or the error writing
// there): the caller may acknowledge the change when it returns nil.
func (v *Invalidator) Invalidate(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	if err := v.cache.Delete(ctx, keys...); err != nil {
		if err := v.record(ctx, keys); err != nil {
			return err
		}
	}
	v.schedule(keys)
	return nil
}

// record writes keys to the outbox. The record is kept until the repeat
// window has passed, so whoever applies it also catches a racing fill.
func (v *Invalidator) record(ctx context.Context, keys []string) error {
	if v.outbox == nil {
		v.opts.Logger.Warn("cache entries could not be deleted and no outbox is configured; they expire by themselves",
			"keys", len(keys))
		return nil
	}
	now := v.opts.Now()
	inv := &store.Invalidation{Keys: keys, CreatedAt: now, ExpiresAt: now.Add(v.opts.EntryTTL + v.opts.Redelete)}
	if err := v.outbox.AddInvalidation(context.WithoutCancel(ctx), inv); err != nil {
		return err
	}
	v.recorded.Add(1)
	return nil
}

func (v *Invalidator) schedule(keys []string) {
	v.mu.Lock()
	full := len(v.queue) >= v.opts.MaxQueue
	if !full {
		v.queue = append(v.queue, redelete{keys: keys, due: v.opts.Now().Add(v.opts.Redelete)})
	}
	v.mu.Unlock()
	if full {
		// The outbox repeats it as well as the queue would.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := v.record(ctx, keys); err != nil {
			v.opts.Logger.Warn("repeat cache deletion dropped", "error", err.Error())
		}
		return
	}
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Run repeats deletions when they are due and applies the outbox every
// Poll, until ctx ends. Then the repeats still waiting go to the outbox, so
// a replica that stops leaves them to the others.
func (v *Invalidator) Run(ctx context.Context) {
	var poll <-chan time.Time
	if v.opts.Poll > 0 && v.outbox != nil {
		t := time.NewTicker(v.opts.Poll)
		defer t.Stop()
		poll = t.C
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := v.runDue(ctx)
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			v.persistQueue()
			return
		case <-v.wake:
		case <-timer.C:
		case <-poll:
			if err := v.Apply(ctx); err != nil && ctx.Err() == nil {
				v.opts.Logger.Debug("apply cache invalidation outbox", "error", err.Error())
			}
		}
	}
}

// runDue performs the repeats that are due and returns how long until the next.
func (v *Invalidator) runDue(ctx context.Context) time.Duration {
	for {
		v.mu.Lock()
		if len(v.queue) == 0 {
			v.mu.Unlock()
			return time.Hour
		}
		head := v.queue[0]
		if wait := head.due.Sub(v.opts.Now()); wait > 0 {
			v.mu.Unlock()
			return wait
		}
		v.queue[0] = redelete{}
		v.queue = v.queue[1:]
		v.mu.Unlock()
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		err := v.cache.Delete(dctx, head.keys...)
		cancel()
		if err != nil && ctx.Err() == nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := v.record(rctx, head.keys); err != nil {
				v.opts.Logger.Warn("repeat cache deletion failed and could not be recorded", "error", err.Error())
			}
			cancel()
		}
	}
}

func (v *Invalidator) persistQueue() {
	v.mu.Lock()
	q := v.queue
	v.queue = nil
	v.mu.Unlock()
	if v.outbox == nil {
		return // a cache no other process shares dies with this one
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, r := range q {
		if err := v.record(ctx, r.keys); err != nil {
			v.opts.Logger.Warn("repeat cache deletion not recorded at shutdown", "error", err.Error())
			return
		}
	}
}

// pageSize bounds one read of the outbox.
const pageSize = 500

// Apply deletes the keys of every pending record and removes the records
// whose repeat window has passed. It returns the first error; what was
// applied before it stays applied.
func (v *Invalidator) Apply(ctx context.Context) error {
	if v.outbox == nil {
		return nil
	}
	return ApplyOutbox(ctx, v.outbox, v.cache, v.opts.Now(), v.opts.Redelete)
}

// ApplyOutbox is Apply for any cache and outbox: the tiered cache calls it
// before it trusts Redis again. Records younger than keepFor are applied but
// kept, so that whoever applies them next also catches a racing fill.
func ApplyOutbox(ctx context.Context, o Outbox, c Cache, now time.Time, keepFor time.Duration) error {
	var after int64
	for {
		page, err := o.PendingInvalidations(ctx, now, after, pageSize)
		if err != nil {
			return err
		}
		var done []int64
		var errs []error
		for _, inv := range page {
			after = inv.ID
			if err := c.Delete(ctx, inv.Keys...); err != nil {
				errs = append(errs, err)
				continue
			}
			if now.Sub(inv.CreatedAt) >= keepFor {
				done = append(done, inv.ID)
			}
		}
		if err := o.DeleteInvalidations(ctx, done); err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if len(page) < pageSize {
			return nil
		}
	}
}
