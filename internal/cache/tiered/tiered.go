package tiered

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/internal/metrics"
	"github.com/authd/authd/internal/cache/invalidator"
	"github.com/authd/authd/internal/cache/memory"
	"github.com/authd/authd/internal/cache/redis"
)

// DefaultL1MaxTTL is the default staleness bound: no L1 entry of a mutable
// kind outlives it.
const DefaultL1MaxTTL = time.Second

// Channel is the name of the invalidation channel, after the L2's Prefix.
const Channel = "invalidate"

// Options configure a Cache.
type Options struct {
	// L1 is this replica's in-process cache; L2 the Redis tier shared by
	// every replica. Both are required, and the caller keeps and closes them.
	// Build L1 with memory.Options{Tier: "l1"} so that its metrics are told
	// apart from the tiered view and from an embedded memory cache.
	L1 *memory.Cache
	L2 *redis.Cache
	// L1MaxTTL bounds how long an entry stays in L1 (default
	// DefaultL1MaxTTL): it is the staleness bound authd publishes, and holds
	// even when invalidation messages are lost.
	L1MaxTTL time.Duration
	// L1MaxTTLByKind overrides L1MaxTTL for some kinds (the text before the
	// key's first ':'), for data that tolerates more (or less) staleness.
	L1MaxTTLByKind map[string]time.Duration
	// ImmutableKinds are kinds whose entries never change once written (a
	// signing key by its kid): they stay in L1 for their whole TTL.
	ImmutableKinds []string
	// Registerer receives the metrics of tier "tiered"; nil registers nothing.
	Registerer prometheus.Registerer
	// Outbox, if set, holds deletions that some replica could not make in
	// L2 (see package cache/invalidator). L2 may then hold values that the
	// store no longer backs, so after any L2 failure, and from the start,
	// this replica does not read L2 until it has applied the outbox: its
	// reads go to the caller's loader (the store) meanwhile. Without it L2
	// is always trusted.
	Outbox invalidator.Outbox
	// OutboxKeep is how long an applied record stays in the outbox for
	// others to apply again (invalidator.Options.Redelete); default 1 s.
	OutboxKeep time.Duration
	// RetryEvery is how often recovery is retried while L2 or the store is
	// still failing; default 1 s.
	RetryEvery time.Duration
}

// Cache is an L1-over-L2 cache.Cache. It is safe for concurrent use. Close
// stops its subscriber.
type Cache struct {
	l1       *memory.Cache
	l2       *redis.Cache
	l1Max    time.Duration
	l1ByKind map[string]time.Duration // read-only after New
	m        *metrics.Tier
	id       [idLen]byte // tells this replica's messages from others'

	// epoch changes on every invalidation of L1 (local Delete, message,
	// flush). A fill of L1 from L2 that sees it change was racing with an
	// invalidation, and is undone.
	epoch atomic.Uint64

	// afterL2Read, when set by a test, runs between a Get's L2 read and its
	// L1 fill: the window the epoch guards.
	afterL2Read func(key string)

	subscribed chan struct{} // closed at the first subscription
	subOnce    atomic.Bool
	cancel     context.CancelFunc
	done       chan struct{}

	// L2 trust (only with an Outbox). failures counts L2 failures; the
	// healer trusts L2 again only after a recovery that no failure overlapped.
	outbox     invalidator.Outbox
	outboxKeep time.Duration
	retryEvery time.Duration
	trusted    atomic.Bool
	failures   atomic.Uint64
	suspect    chan struct{} // wakes the healer
	healed     chan struct{} // test hook: a recovery completed
}

var (
	_ cache.Cache       = (*Cache)(nil)
	_ cache.MultiGetter = (*Cache)(nil)
)

// New returns a Cache and starts its subscriber to the invalidation channel.
// It does not wait for the subscription: WaitSubscribed does.
func New(opts Options) (*Cache, error) {
	if opts.L1 == nil || opts.L2 == nil {
		return nil, errors.New("cache/tiered: L1 and L2 are required")
	}
	c := &Cache{
		l1:         opts.L1,
		l2:         opts.L2,
		l1Max:      opts.L1MaxTTL,
		l1ByKind:   map[string]time.Duration{},
		m:          metrics.New(opts.Registerer, "tiered"),
		subscribed: make(chan struct{}),
		done:       make(chan struct{}),
	}
	if c.l1Max <= 0 {
		c.l1Max = DefaultL1MaxTTL
	}
	c.outbox, c.outboxKeep, c.retryEvery = opts.Outbox, opts.OutboxKeep, opts.RetryEvery
	if c.outboxKeep <= 0 {
		c.outboxKeep = time.Second
	}
	if c.retryEvery <= 0 {
		c.retryEvery = time.Second
	}
	c.suspect = make(chan struct{}, 1)
	c.healed = make(chan struct{}, 1)
	c.trusted.Store(c.outbox == nil)
	for k, d := range opts.L1MaxTTLByKind {
		if d <= 0 {
			return nil, fmt.Errorf("cache/tiered: L1 TTL of kind %q is %v, want > 0", k, d)
		}
		c.l1ByKind[k] = d
	}
	for _, k := range opts.ImmutableKinds {
		c.l1ByKind[k] = time.Duration(1<<63 - 1)
	}
	_, _ = rand.Read(c.id[:])
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	var wg sync.WaitGroup
	wg.Go(func() { _ = c.l2.Subscribe(ctx, Channel, c.onSubscribed, c.onMessage) })
	if c.outbox != nil {
		c.suspect <- struct{}{} // recover once before trusting L2 at all
		wg.Go(func() { c.heal(ctx) })
	}
	go func() {
		wg.Wait()
		close(c.done)
	}()
	return c, nil
}

// Trusted reports whether this replica reads L2 (always, without an Outbox).
func (c *Cache) Trusted() bool { return c.trusted.Load() }

// l2Failed counts an L2 failure (not the caller's cancellation) and stops
// trusting L2.
func (c *Cache) l2Failed(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	c.m.Error()
	c.distrust()
}

func (c *Cache) distrust() {
	if c.outbox == nil {
		return
	}
	c.failures.Add(1)
	if c.trusted.Swap(false) {
		// Messages are lost while L2 fails, so L1 copies of what another
		// replica changed meanwhile would outlive the change: drop them.
		c.flush()
	}
	select {
	case c.suspect <- struct{}{}:
	default:
	}
}

// heal makes L2 trusted again once it answers and the outbox is applied: a
// deletion that could not reach L2 during the failure (by any replica, even
// one that has since died) is made before this replica reads L2 again.
func (c *Cache) heal(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.suspect:
		}
		for !c.trusted.Load() {
			if c.recover(ctx) {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.retryEvery):
			}
		}
	}
}

func (c *Cache) recover(ctx context.Context) bool {
	seen := c.failures.Load()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.l2.Ping(rctx); err != nil {
		return false
	}
	if err := invalidator.ApplyOutbox(rctx, c.outbox, c, time.Now(), c.outboxKeep); err != nil {
		return false
	}
	// Whatever L1 filled from store loads meanwhile is fresh; what it held
	// from L2 before the failure is bounded by the L1 TTL.
	if c.failures.Load() != seen {
		return false // failed again meanwhile: go round once more
	}
	c.trusted.Store(true)
	select {
	case c.healed <- struct{}{}:
	default:
	}
	return true
}

// Close stops the subscriber and waits for it. L1 and L2 stay open: they
// belong to the caller.
func (c *Cache) Close() {
	c.cancel()
	<-c.done
}

// WaitSubscribed waits until the invalidation subscription is first active,
// or ctx ends. Until then this replica does not hear other replicas' deletes
// (the L1 TTL still bounds staleness).
func (c *Cache) WaitSubscribed(ctx context.Context) error {
	select {
	case <-c.subscribed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// l1TTL is how long an entry of key's kind may stay in L1.
func (c *Cache) l1TTL(key string) time.Duration {
	if kind, _, ok := strings.Cut(key, ":"); ok {
		if d, ok := c.l1ByKind[kind]; ok {
			return d
		}
	}
	return c.l1Max
}

// Get implements cache.Cache: L1, then L2, filling L1 on an L2 hit for the
// entry's remaining L2 TTL capped by the kind's L1 TTL. It never returns an
// error: L2 trouble is counted (authd_cache_errors_total{tier="tiered"}) and
// answered as a miss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	kind := c.m.Kind(key)
	if v, ok, _ := c.l1.Get(ctx, key); ok {
		kind.Hits.Inc()
		return v, true, nil
	}
	if !c.trusted.Load() {
		kind.Misses.Inc()
		return nil, false, nil
	}
	ep := c.epoch.Load()
	e, ok, err := c.l2.GetEntry(ctx, key)
	if err != nil {
		c.l2Failed(ctx)
	}
	if !ok {
		kind.Misses.Inc()
		return nil, false, nil
	}
	kind.Hits.Inc()
	if c.afterL2Read != nil {
		c.afterL2Read(key)
	}
	c.fill(key, e, ep)
	return e.Value, true, nil
}

// fill puts an entry read from L2 into L1, unless an invalidation happened
// since the read began (epoch ep): the entry may be the very value it removed.
func (c *Cache) fill(key string, e redis.Entry, ep uint64) {
	ttl := min(time.Until(e.Expires), c.l1TTL(key))
	if ttl <= 0 {
		return
	}
	c.l1.SetOwned(key, e.Value, ttl) // e.Value is a fresh slice nobody else writes
	// Checked after the write: an invalidation that bumps the epoch before
	// clearing L1 either clears this write or is seen here.
	if c.epoch.Load() != ep {
		_ = c.l1.Delete(context.Background(), key)
	}
}

// MGet implements cache.MultiGetter: L1 for every key, then one L2 round trip
// for the misses. Like Get, it never returns an error.
func (c *Cache) MGet(ctx context.Context, keys []string) ([][]byte, error) {
	out, _ := c.l1.MGet(ctx, keys)
	var missed []int
	for i, v := range out {
		if v != nil {
			c.m.Kind(keys[i]).Hits.Inc()
		} else {
			missed = append(missed, i)
		}
	}
	if len(missed) == 0 {
		return out, nil
	}
	if !c.trusted.Load() {
		for _, i := range missed {
			c.m.Kind(keys[i]).Misses.Inc()
		}
		return out, nil
	}
	mkeys := make([]string, len(missed))
	for j, i := range missed {
		mkeys[j] = keys[i]
	}
	ep := c.epoch.Load()
	es, err := c.l2.MGetEntries(ctx, mkeys)
	if err != nil {
		c.l2Failed(ctx)
		es = nil
	}
	for j, i := range missed {
		if j >= len(es) || es[j].Value == nil {
			c.m.Kind(keys[i]).Misses.Inc()
			continue
		}
		c.m.Kind(keys[i]).Hits.Inc()
		out[i] = es[j].Value
		c.fill(keys[i], es[j], ep)
	}
	return out, nil
}

// Set implements cache.Cache: L2, then L1 for at most the kind's L1 TTL.
// L1 is written even when L2 fails, so that a replica cut off from Redis
// keeps its own recent results; the L2 error (wrapping redis.ErrUnavailable)
// is returned for callers that overwrite shared state, and may be ignored by
// those that only fill a cache after a load (cache.Loader does).
//
// Set publishes nothing: other replicas' L1 copies of an overwritten key age
// out within their L1 TTL. Use Delete when a change must reach them at once.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	err := c.l2.Set(ctx, key, value, ttl)
	_ = c.l1.Set(ctx, key, value, min(ttl, c.l1TTL(key)))
	if err != nil {
		c.l2Failed(ctx)
		return fmt.Errorf("cache/tiered: set: %w", err)
	}
	return nil
}

// Delete implements cache.Cache: it deletes keys from L2, then from this
// replica's L1, then publishes them so that every replica drops them from its
// L1. This replica's L1 is cleared even when L2 fails.
//
// Delete returns an error (wrapping redis.ErrUnavailable) when the DEL or the
// publish failed: the keys may still be served, from L2 until their TTL, or
// from other replicas' L1 for up to their L1 TTL. A revocation must then not
// be reported as done (or must be retried).
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	// L2 first: a replica that drops its L1 copy on our message must not find
	// the old value still in L2 and refill from it.
	delErr := c.l2.Delete(ctx, keys...)
	c.invalidate(keys)
	pubErr := c.l2.Publish(ctx, Channel, encodeMessage(c.id, keys))
	if delErr == nil && pubErr == nil {
		return nil
	}
	c.l2Failed(ctx)
	if delErr != nil {
		delErr = fmt.Errorf("cache/tiered: delete from L2: %w", delErr)
	}
	if pubErr != nil {
		pubErr = fmt.Errorf("cache/tiered: publish invalidation: %w", pubErr)
	}
	return errors.Join(delErr, pubErr)
}

// invalidate removes keys from L1. The epoch moves first, so a concurrent
// fill either lands before the removal or sees the move and undoes itself.
func (c *Cache) invalidate(keys []string) {
	c.epoch.Add(1)
	_ = c.l1.Delete(context.Background(), keys...)
}

// flush empties L1.
func (c *Cache) flush() {
	c.epoch.Add(1)
	c.l1.Clear()
}

// onSubscribed runs on every (re)subscription: what was published while we
// were not subscribed is lost, so nothing in L1 can be trusted past it.
func (c *Cache) onSubscribed() {
	c.flush()
	if c.subOnce.CompareAndSwap(false, true) {
		close(c.subscribed)
		return
	}
	// A resubscription follows a lost connection: recover before trusting L2.
	c.distrust()
}

func (c *Cache) onMessage(payload string) {
	sender, keys, err := decodeMessage(payload)
	if err != nil {
		// We cannot tell what it meant to invalidate, so invalidate everything.
		c.m.Error()
		c.flush()
		return
	}
	if sender == c.id {
		return // our own Delete already cleared our L1
	}
	c.invalidate(keys)
}
