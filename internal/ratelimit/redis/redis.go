package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/internal/metrics"
	"github.com/authd/authd/internal/redisconn"
)

// ErrUnavailable wraps every error that means Redis could not decide: not
// connected, timed out, an error reply, or the circuit breaker is open.
var ErrUnavailable = errors.New("ratelimit/redis: unavailable")

// Defaults for Options. DefaultTimeout is the limiter's own, shorter than
// the cache's; the others are package redisconn's, which applies them.
const (
	DefaultPrefix      = "ratelimit:"
	DefaultTimeout     = 50 * time.Millisecond
	DefaultTripAfter   = redisconn.DefaultTripAfter
	DefaultOpenFor     = redisconn.DefaultOpenFor
	DefaultDialTimeout = redisconn.DefaultDialTimeout
)

// Options configure a Limiter.
type Options struct {
	// URL is a Redis URL as redisconn.ParseURL reads it (TLS, cluster and
	// sentinel addresses included); dial_timeout defaults to
	// DefaultDialTimeout rather than rueidis's 5 s.
	URL string
	// Prefix is put before every key (default DefaultPrefix), so that the
	// limiter's keys ("client:…") never meet the cache's in one database.
	Prefix string
	// Timeout bounds each call (default DefaultTimeout); a shorter deadline
	// on the caller's context wins. A limit check sits in front of every
	// request, so it must fail fast and let fallback decide.
	Timeout time.Duration
	// TripAfter consecutive failures open the breaker (default DefaultTripAfter).
	TripAfter uint32
	// OpenFor is how long the breaker stays open before one probe call may
	// try Redis again (default DefaultOpenFor).
	OpenFor time.Duration
	// Name labels the metrics (default "redis").
	Name string
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Limiter is the Redis ratelimit.Limiter. It is safe for concurrent use.
type Limiter struct {
	prefix string
	m      *metrics.Decisions
	conn   *redisconn.Conn
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a Limiter for opts.URL. It fails only on invalid options: when
// Redis cannot be reached, New waits for the first connection until ctx ends
// and then returns a limiter whose calls fail with ErrUnavailable (and
// Healthy false) until Redis answers. Close releases the connections.
func New(ctx context.Context, opts Options) (*Limiter, error) {
	copt, err := redisconn.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("ratelimit/redis: %w", err)
	}
	l, copts := newLimiter(opts)
	l.conn = redisconn.New(ctx, copt, copts)
	return l, nil
}

// NewWithClient returns a Limiter over an existing client (one shared with
// the cache, say), which the caller keeps and closes; opts.URL is ignored.
// The client must not serve EVALSHA from a client-side cache (rueidis only
// caches DoCache calls, which the limiter never makes).
func NewWithClient(client rueidis.Client, opts Options) *Limiter {
	l, copts := newLimiter(opts)
	l.conn = redisconn.NewWithClient(client, copts)
	return l
}

func newLimiter(opts Options) (*Limiter, redisconn.Options) {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Name == "" {
		opts.Name = "redis"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	l := &Limiter{
		prefix: opts.Prefix,
		m:      metrics.NewDecisions(opts.Registerer, opts.Name),
	}
	return l, redisconn.Options{
		Name:        "ratelimit/redis",
		Unavailable: ErrUnavailable,
		Timeout:     opts.Timeout,
		TripAfter:   opts.TripAfter,
		OpenFor:     opts.OpenFor,
	}
}

// Healthy reports whether Redis is connected and the breaker closed. It is for
// readiness reports and dashboards; fallback does not need it (an open breaker
// fails calls at once).
func (l *Limiter) Healthy() bool { return l.conn.Healthy() }

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with ErrUnavailable.
func (l *Limiter) Close() { l.conn.Close() }

// do runs fn through the connection, under its deadline and breaker. An error
// reply (NOSCRIPT is handled by rueidis; anything else, such as OOM or a
// READONLY replica, means this Redis cannot decide) is returned wrapped in
// ErrUnavailable, so that fallback decides locally, but it proves Redis is
// up, so it does not count against the breaker.
func (l *Limiter) do(ctx context.Context, op string, fn func(ctx context.Context, cl rueidis.Client) error) error {
	err := l.conn.Do(ctx, op, fn)
	if _, ok := rueidis.IsRedisErr(err); ok {
		return fmt.Errorf("ratelimit/redis: %s: %w: %w", op, ErrUnavailable, err)
	}
	return err
}
