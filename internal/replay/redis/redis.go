package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/redisconn"
	"github.com/authd/authd/internal/replay"
)

// ErrUnavailable wraps every error that means Redis could not record a use:
// not connected, timed out, an error reply, or the circuit breaker is open.
// It wraps replay.ErrUnavailable.
var ErrUnavailable = fmt.Errorf("replay/redis: %w", replay.ErrUnavailable)

// Defaults for Options. DefaultTimeout is the replay cache's own, as short
// as the limiter's: a replay check sits in front of a token request. The
// others are package redisconn's, which applies them.
const (
	DefaultPrefix      = "replay:"
	DefaultTimeout     = 50 * time.Millisecond
	DefaultTripAfter   = redisconn.DefaultTripAfter
	DefaultOpenFor     = redisconn.DefaultOpenFor
	DefaultDialTimeout = redisconn.DefaultDialTimeout
)

// Options configure a Cache.
type Options struct {
	// URL is a Redis URL as redisconn.ParseURL reads it (TLS, cluster and
	// sentinel addresses included).
	URL string
	// Prefix is put before every key (default DefaultPrefix), so that
	// records never meet the cache's or the limiter's keys in one database.
	Prefix string
	// Timeout bounds each call (default DefaultTimeout); a shorter deadline
	// on the caller's context wins.
	Timeout time.Duration
	// TripAfter consecutive failures open the breaker (default DefaultTripAfter).
	TripAfter uint32
	// OpenFor is how long the breaker stays open before one probe call may
	// try Redis again (default DefaultOpenFor).
	OpenFor time.Duration
	// Now replaces the clock that until is measured against (default
	// time.Now). Records expire in Redis in real time regardless.
	Now func() time.Time
}

// Cache is the Redis replay.Cache. It is safe for concurrent use.
type Cache struct {
	prefix string
	now    func() time.Time
	conn   *redisconn.Conn
}

var _ replay.Cache = (*Cache)(nil)

// New returns a Cache for opts.URL. It fails only on invalid options: when
// Redis cannot be reached, New waits for the first connection until ctx ends
// and then returns a cache whose calls fail with ErrUnavailable (and Healthy
// false) until Redis answers. Close releases the connections.
func New(ctx context.Context, opts Options) (*Cache, error) {
	copt, err := redisconn.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("replay/redis: %w", err)
	}
	c, copts := newCache(opts)
	c.conn = redisconn.New(ctx, copt, copts)
	return c, nil
}

// NewWithClient returns a Cache over an existing client (one shared with the
// limiter, say), which the caller keeps and closes; opts.URL is ignored.
func NewWithClient(client rueidis.Client, opts Options) *Cache {
	c, copts := newCache(opts)
	c.conn = redisconn.NewWithClient(client, copts)
	return c
}

func newCache(opts Options) (*Cache, redisconn.Options) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Cache{prefix: opts.Prefix, now: opts.Now}
	return c, redisconn.Options{
		Name:        "replay/redis",
		Unavailable: ErrUnavailable,
		Timeout:     opts.Timeout,
		TripAfter:   opts.TripAfter,
		OpenFor:     opts.OpenFor,
	}
}

// Use implements replay.Cache with one SET key 1 NX PX. Errors wrap
// replay.ErrInvalid (bad arguments, checked before any call), ErrUnavailable,
// or the caller's context error.
func (c *Cache) Use(ctx context.Context, key string, until time.Time) (bool, error) {
	now := c.now()
	if err := replay.CheckArgs(key, until, now); err != nil {
		return false, err
	}
	// Rounded up: a record may outlive until by under a millisecond, never
	// end before it.
	px := int64((until.Sub(now) + time.Millisecond - 1) / time.Millisecond)
	var first bool
	err := c.conn.Do(ctx, "use", func(ctx context.Context, cl rueidis.Client) error {
		// Built only once the breaker lets the call through: a call while
		// Redis is down costs nothing for a command it never sends.
		err := cl.Do(ctx, cl.B().Set().Key(c.prefix+key).Value("1").Nx().PxMilliseconds(px).Build()).Error()
		switch {
		case err == nil:
			first = true
			return nil
		case rueidis.IsRedisNil(err):
			return nil // NX found the key: a replay
		}
		return err
	})
	if _, ok := rueidis.IsRedisErr(err); ok {
		// An error reply (OOM, READONLY) proves Redis is up, so redisconn
		// does not count it against the breaker, but it recorded nothing.
		return false, fmt.Errorf("replay/redis: use: %w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return false, err
	}
	return first, nil
}

// Healthy reports whether Redis is connected and the breaker closed, for
// readiness reports and dashboards.
func (c *Cache) Healthy() bool { return c.conn.Healthy() }

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with ErrUnavailable.
func (c *Cache) Close() { c.conn.Close() }
