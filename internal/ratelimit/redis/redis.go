package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"

	"github.com/authd/authd/internal/ratelimit"
	"github.com/authd/authd/internal/ratelimit/internal/metrics"
)

// ErrUnavailable wraps every error that means Redis could not decide: not
// connected, timed out, an error reply, or the circuit breaker is open.
var ErrUnavailable = errors.New("ratelimit/redis: unavailable")

// Defaults for Options.
const (
	DefaultPrefix      = "ratelimit:"
	DefaultTimeout     = 50 * time.Millisecond
	DefaultTripAfter   = 5
	DefaultOpenFor     = time.Second
	DefaultDialTimeout = time.Second
)

// Options configure a Limiter.
type Options struct {
	// URL is a Redis URL as rueidis.ParseURL reads it (see cache/redis);
	// dial_timeout defaults to DefaultDialTimeout rather than rueidis's 5 s.
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
	prefix  string
	timeout time.Duration
	cb      *gobreaker.CircuitBreaker[struct{}]
	m       *metrics.Decisions
	opt     rueidis.ClientOption
	owns    bool // Close closes the client

	client  atomic.Pointer[clientRef]
	mu      sync.Mutex    // guards dialing, dialErr, closed
	dialing chan struct{} // closed when the dial in flight ends
	dialErr error
	closed  bool
}

type clientRef struct{ rueidis.Client }

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a Limiter for opts.URL. It fails only on invalid options: when
// Redis cannot be reached, New waits for the first connection until ctx ends
// and then returns a limiter whose calls fail with ErrUnavailable (and
// Healthy false) until Redis answers. Close releases the connections.
func New(ctx context.Context, opts Options) (*Limiter, error) {
	copt, err := rueidis.ParseURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("ratelimit/redis: %w", err)
	}
	if copt.Dialer.Timeout == 0 {
		copt.Dialer.Timeout = DefaultDialTimeout
	}
	// Every call writes or reads a bucket that other replicas change:
	// nothing here may be served from a client-side cache.
	copt.DisableCache = true
	l := newLimiter(opts)
	l.opt, l.owns = copt, true
	l.startDial()
	l.mu.Lock()
	ch := l.dialing
	l.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
		}
	}
	return l, nil
}

// NewWithClient returns a Limiter over an existing client (one shared with
// the cache, say), which the caller keeps and closes; opts.URL is ignored.
// The client must not serve EVALSHA from a client-side cache (rueidis only
// caches DoCache calls, which the limiter never makes).
func NewWithClient(client rueidis.Client, opts Options) *Limiter {
	l := newLimiter(opts)
	l.client.Store(&clientRef{client})
	return l
}

func newLimiter(opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Name == "" {
		opts.Name = "redis"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.TripAfter == 0 {
		opts.TripAfter = DefaultTripAfter
	}
	if opts.OpenFor <= 0 {
		opts.OpenFor = DefaultOpenFor
	}
	l := &Limiter{
		prefix:  opts.Prefix,
		timeout: opts.Timeout,
		m:       metrics.NewDecisions(opts.Registerer, opts.Name),
	}
	tripAfter := opts.TripAfter
	l.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "redis-ratelimit",
		MaxRequests: 1,
		Timeout:     opts.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= tripAfter },
		// Calls whose caller gave up say nothing about Redis.
		IsExcluded: func(err error) bool { return err == errCallerGone },
	})
	return l
}

// Healthy reports whether Redis is connected and the breaker closed. It is for
// readiness reports and dashboards; fallback does not need it (an open breaker
// fails calls at once).
func (l *Limiter) Healthy() bool {
	return l.client.Load() != nil && l.cb.State() == gobreaker.StateClosed
}

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with ErrUnavailable.
func (l *Limiter) Close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	if r := l.client.Swap(nil); r != nil && l.owns {
		r.Close()
	}
}

// startDial starts a connection attempt unless one is in flight. A dial runs
// on its own goroutine so that callers wait for it no longer than their own
// deadline, however long the dial takes.
func (l *Limiter) startDial() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.dialing != nil || l.client.Load() != nil || !l.owns {
		return
	}
	ch := make(chan struct{})
	l.dialing = ch
	go func() {
		cl, err := rueidis.NewClient(l.opt)
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case err != nil:
			l.dialErr = err
		case l.closed:
			cl.Close()
		default:
			l.dialErr = nil
			l.client.Store(&clientRef{cl})
		}
		l.dialing = nil
		close(ch)
	}()
}

// conn returns the client, dialling if there is none yet.
func (l *Limiter) conn(ctx context.Context) (rueidis.Client, error) {
	if r := l.client.Load(); r != nil {
		return r.Client, nil
	}
	l.startDial()
	l.mu.Lock()
	ch, closed := l.dialing, l.closed
	l.mu.Unlock()
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
	if r := l.client.Load(); r != nil {
		return r.Client, nil
	}
	l.mu.Lock()
	err := l.dialErr
	l.mu.Unlock()
	if err == nil {
		err = errClosed
	}
	return nil, err
}

var (
	errCallerGone = errors.New("ratelimit/redis: caller gave up")
	errClosed     = errors.New("ratelimit/redis: closed")
	errOpen       = fmt.Errorf("%w: circuit breaker open", ErrUnavailable)
)

// do runs fn with the client under the call deadline and the breaker, and
// turns what went wrong into the errors the package documents. An error
// reply (NOSCRIPT is handled by rueidis; anything else, such as OOM or a
// READONLY replica, means this Redis cannot decide) is returned wrapped in
// ErrUnavailable, but proves Redis is up, so it does not count against the
// breaker.
func (l *Limiter) do(ctx context.Context, op string, fn func(ctx context.Context, cl rueidis.Client) error) error {
	var callErr error
	_, brErr := l.cb.Execute(func() (struct{}, error) {
		// The deadline is made only once the breaker lets the call through:
		// a rejected call then costs no timer.
		cctx := ctx
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > l.timeout {
			var cancel context.CancelFunc
			cctx, cancel = context.WithTimeout(ctx, l.timeout)
			defer cancel()
		}
		cl, err := l.conn(cctx)
		if err == nil {
			err = fn(cctx, cl)
		}
		callErr = err
		switch {
		case err == nil, isRedisReply(err):
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
		return errOpen
	case ctx.Err() != nil && !isRedisReply(callErr):
		return fmt.Errorf("ratelimit/redis: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("ratelimit/redis: %s: %w: %w", op, ErrUnavailable, callErr)
}

func isRedisReply(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}
