package redis

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/internal/metrics"
)

var (
	// ErrUnavailable wraps every error that means Redis could not be used:
	// not connected, timed out, or the circuit breaker is open.
	ErrUnavailable = errors.New("cache/redis: unavailable")
	// ErrCorrupt is returned for a stored value that does not open: tampered
	// with, moved from another key, sealed under another encryption key, or
	// written without encryption while this cache requires it.
	ErrCorrupt = errors.New("cache/redis: stored value does not open")
)

// Defaults for Options.
const (
	DefaultTimeout     = 100 * time.Millisecond
	DefaultTripAfter   = 5
	DefaultOpenFor     = time.Second
	DefaultDialTimeout = time.Second
)

// Options configure a Cache.
type Options struct {
	// URL is a Redis URL as rueidis.ParseURL reads it: redis:// or rediss://
	// (TLS), user and password in the userinfo, the database as the path.
	// Several addr=host:port query parameters make a cluster client (rueidis
	// detects cluster mode), master_set=name makes the addresses sentinels.
	// dial_timeout defaults to DefaultDialTimeout rather than rueidis's 5 s.
	URL string
	// Prefix is put before every key and the pub/sub channels, so that
	// deployments (and tests) can share one Redis.
	Prefix string
	// EncryptionKey, when set, must be 32 bytes: values are sealed with
	// AES-256-GCM under it with the full Redis key as additional data.
	// Random 96-bit nonces bound safe use of one key to about 2^32 writes;
	// rotate it well before (a rotation turns every stored value into an
	// ErrCorrupt miss that the next write replaces).
	EncryptionKey []byte
	// Timeout bounds each call (default DefaultTimeout); a shorter deadline
	// on the caller's context wins.
	Timeout time.Duration
	// TripAfter consecutive failures open the breaker (default DefaultTripAfter).
	TripAfter uint32
	// OpenFor is how long the breaker stays open before one probe call may
	// try Redis again (default DefaultOpenFor).
	OpenFor time.Duration
	// Registerer receives the tier's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Entry is a value read from Redis and the time it expires there.
type Entry struct {
	Value   []byte // nil in an MGetEntries slot for a miss
	Expires time.Time
}

// Cache is the Redis tier of cache.Cache. It is safe for concurrent use.
type Cache struct {
	prefix  string
	timeout time.Duration
	aead    cipher.AEAD // nil: values are stored in the clear
	cb      *gobreaker.CircuitBreaker[struct{}]
	m       *metrics.Tier
	up      prometheus.Gauge
	opt     rueidis.ClientOption
	owns    bool // Close closes the client

	client  atomic.Pointer[clientRef]
	mu      sync.Mutex    // guards dialing, dialErr, closed
	dialing chan struct{} // closed when the dial in flight ends
	dialErr error
	closed  bool
}

type clientRef struct{ rueidis.Client }

var (
	_ cache.Cache       = (*Cache)(nil)
	_ cache.MultiGetter = (*Cache)(nil)
)

// New returns a Cache for opts.URL. It fails only on invalid options: when
// Redis cannot be reached, New waits for the first connection until ctx ends
// and then returns a cache that reports ErrUnavailable (and Healthy false)
// until Redis answers. Close releases the connections.
func New(ctx context.Context, opts Options) (*Cache, error) {
	copt, err := rueidis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("cache/redis: %w", err)
	}
	if copt.Dialer.Timeout == 0 {
		copt.Dialer.Timeout = DefaultDialTimeout
	}
	// authd keeps its own L1 (cache/tiered); server-assisted client-side
	// caching would only add tracking work on the server.
	copt.DisableCache = true
	c, err := newCache(opts)
	if err != nil {
		return nil, err
	}
	c.opt, c.owns = copt, true
	c.startDial()
	c.mu.Lock()
	ch := c.dialing
	c.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	return c, nil
}

// NewWithClient returns a Cache over an existing client, which the caller
// keeps and closes; opts.URL is ignored.
func NewWithClient(client rueidis.Client, opts Options) (*Cache, error) {
	c, err := newCache(opts)
	if err != nil {
		return nil, err
	}
	c.client.Store(&clientRef{client})
	c.setUp(true)
	return c, nil
}

func newCache(opts Options) (*Cache, error) {
	c := &Cache{
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		m:       metrics.New(opts.Registerer, "redis"),
		up:      metrics.RedisUp(opts.Registerer),
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if opts.EncryptionKey != nil {
		if len(opts.EncryptionKey) != 32 {
			return nil, fmt.Errorf("cache/redis: encryption key is %d bytes, want 32 (AES-256)", len(opts.EncryptionKey))
		}
		block, err := aes.NewCipher(opts.EncryptionKey)
		if err != nil {
			return nil, fmt.Errorf("cache/redis: %w", err)
		}
		if c.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("cache/redis: %w", err)
		}
	}
	tripAfter := opts.TripAfter
	if tripAfter == 0 {
		tripAfter = DefaultTripAfter
	}
	openFor := opts.OpenFor
	if openFor <= 0 {
		openFor = DefaultOpenFor
	}
	c.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis-cache",
		MaxRequests: 1,
		Timeout:     openFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= tripAfter },
		// Calls whose caller gave up say nothing about Redis.
		IsExcluded: func(err error) bool { return err == errCallerGone },
		// Runs under the breaker's lock: it must not call back into it.
		OnStateChange: func(_ string, _, to gobreaker.State) {
			c.setUp(to == gobreaker.StateClosed && c.client.Load() != nil)
		},
	})
	c.setUp(false)
	return c, nil
}

// Healthy reports whether Redis is connected and the breaker closed. It is for
// readiness reports and dashboards; a replica keeps serving while it is false.
func (c *Cache) Healthy() bool {
	return c.client.Load() != nil && c.cb.State() == gobreaker.StateClosed
}

// Ping checks Redis through the breaker, as any call would.
func (c *Cache) Ping(ctx context.Context) error {
	return c.do(ctx, "ping", func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Ping().Build()).Error()
	})
}

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with ErrUnavailable.
func (c *Cache) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if r := c.client.Swap(nil); r != nil && c.owns {
		r.Close()
	}
	c.setUp(false)
}

// startDial starts a connection attempt unless one is in flight. A dial runs
// on its own goroutine so that callers wait for it no longer than their own
// deadline, however long the dial takes.
func (c *Cache) startDial() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.dialing != nil || c.client.Load() != nil || !c.owns {
		return
	}
	ch := make(chan struct{})
	c.dialing = ch
	go func() {
		cl, err := rueidis.NewClient(c.opt)
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case err != nil:
			c.dialErr = err
		case c.closed:
			cl.Close()
		default:
			c.dialErr = nil
			c.client.Store(&clientRef{cl})
			c.setUp(c.cb.State() == gobreaker.StateClosed)
		}
		c.dialing = nil
		close(ch)
	}()
}

// conn returns the client, dialling if there is none yet.
func (c *Cache) conn(ctx context.Context) (rueidis.Client, error) {
	if r := c.client.Load(); r != nil {
		return r.Client, nil
	}
	c.startDial()
	c.mu.Lock()
	ch, closed := c.dialing, c.closed
	c.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r := c.client.Load(); r != nil {
		return r.Client, nil
	}
	c.mu.Lock()
	err := c.dialErr
	c.mu.Unlock()
	if err == nil {
		err = errClosed
	}
	return nil, err
}

var (
	errCallerGone = errors.New("cache/redis: caller gave up")
	errClosed     = errors.New("cache/redis: closed")
	errOpen       = fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
)

// do runs fn with the client under the call deadline and the breaker, and
// turns what went wrong into the errors the package documents. fn returns
// Redis's own errors (a reply such as WRONGTYPE) as they are: they prove Redis
// is up, so they do not count against the breaker.
func (c *Cache) do(ctx context.Context, op string, fn func(ctx context.Context, cl rueidis.Client) error) error {
	var callErr error
	_, brErr := c.cb.Execute(func() (struct{}, error) {
		// The deadline is made only once the breaker lets the call through:
		// a rejected call then costs no timer.
		cctx := ctx
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > c.timeout {
			var cancel context.CancelFunc
			cctx, cancel = context.WithTimeout(ctx, c.timeout)
			defer cancel()
		}
		cl, err := c.conn(cctx)
		if err == nil {
			err = fn(cctx, cl)
		}
		callErr = err
		switch {
		case err == nil:
			return struct{}{}, nil
		case isRedisReply(err):
			return struct{}{}, nil
		case ctx.Err() != nil:
			return struct{}{}, errCallerGone
		}
		return struct{}{}, err
	})
	switch {
	case callErr == nil && brErr == nil:
		return nil
	case errors.Is(brErr, gobreaker.ErrOpenState) || errors.Is(brErr, gobreaker.ErrTooManyRequests):
		c.m.Error()
		return errOpen
	case isRedisReply(callErr):
		c.m.Error()
		return fmt.Errorf("cache/redis: %s: %w", op, callErr)
	case ctx.Err() != nil:
		return fmt.Errorf("cache/redis: %s: %w", op, ctx.Err())
	}
	c.m.Error()
	return fmt.Errorf("cache/redis: %s: %w: %w", op, ErrUnavailable, callErr)
}

func (c *Cache) setUp(up bool) {
	if up {
		c.up.Set(1)
	} else {
		c.up.Set(0)
	}
}

func isRedisReply(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}
