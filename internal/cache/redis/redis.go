package redis

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/cache"
	"github.com/authd/authd/internal/cache/internal/metrics"
	"github.com/authd/authd/internal/redisconn"
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

// Defaults for Options; they are package redisconn's, which applies them.
const (
	DefaultTimeout     = redisconn.DefaultTimeout
	DefaultTripAfter   = redisconn.DefaultTripAfter
	DefaultOpenFor     = redisconn.DefaultOpenFor
	DefaultDialTimeout = redisconn.DefaultDialTimeout
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
	prefix string
	aead   cipher.AEAD // nil: values are stored in the clear
	m      *metrics.Tier
	up     prometheus.Gauge
	conn   *redisconn.Conn
}

var (
	_ cache.Cache       = (*Cache)(nil)
	_ cache.MultiGetter = (*Cache)(nil)
)

// New returns a Cache for opts.URL. It fails only on invalid options: when
// Redis cannot be reached, New waits for the first connection until ctx ends
// and then returns a cache that reports ErrUnavailable (and Healthy false)
// until Redis answers. Close releases the connections.
func New(ctx context.Context, opts Options) (*Cache, error) {
	copt, err := redisconn.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("cache/redis: %w", err)
	}
	c, err := newCache(opts)
	if err != nil {
		return nil, err
	}
	c.conn = redisconn.New(ctx, copt, c.connOptions(opts))
	return c, nil
}

// NewWithClient returns a Cache over an existing client, which the caller
// keeps and closes; opts.URL is ignored.
func NewWithClient(client rueidis.Client, opts Options) (*Cache, error) {
	c, err := newCache(opts)
	if err != nil {
		return nil, err
	}
	c.conn = redisconn.NewWithClient(client, c.connOptions(opts))
	return c, nil
}

func newCache(opts Options) (*Cache, error) {
	c := &Cache{
		prefix: opts.Prefix,
		m:      metrics.New(opts.Registerer, "redis"),
		up:     metrics.RedisUp(opts.Registerer),
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
	return c, nil
}

func (c *Cache) connOptions(opts Options) redisconn.Options {
	return redisconn.Options{
		Name:        "cache/redis",
		Unavailable: ErrUnavailable,
		Timeout:     opts.Timeout,
		TripAfter:   opts.TripAfter,
		OpenFor:     opts.OpenFor,
		SetHealthy:  c.setUp,
	}
}

// Healthy reports whether Redis is connected and the breaker closed. It is for
// readiness reports and dashboards; a replica keeps serving while it is false.
func (c *Cache) Healthy() bool { return c.conn.Healthy() }

// Ping checks Redis through the breaker, as any call would.
func (c *Cache) Ping(ctx context.Context) error { return c.observe("ping", c.conn.Ping(ctx)) }

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with ErrUnavailable.
func (c *Cache) Close() { c.conn.Close() }

// do runs fn through the connection, under its deadline and breaker.
func (c *Cache) do(ctx context.Context, op string, fn func(ctx context.Context, cl rueidis.Client) error) error {
	return c.observe(op, c.conn.Do(ctx, op, fn))
}

// observe counts every failed call but one whose caller gave up. An error
// reply (such as WRONGTYPE) proves Redis is up: it fails the call without
// wrapping ErrUnavailable.
func (c *Cache) observe(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case isRedisReply(err):
		c.m.Error()
		return fmt.Errorf("cache/redis: %s: %w", op, err)
	case errors.Is(err, ErrUnavailable):
		c.m.Error()
	}
	return err
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
