package redisconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// Defaults for Options and ParseURL.
const (
	DefaultTimeout     = 100 * time.Millisecond
	DefaultTripAfter   = 5
	DefaultOpenFor     = time.Second
	DefaultDialTimeout = time.Second
)

// Options configure a Conn.
type Options struct {
	// Name is the backend's name ("cache/redis"); it starts every error
	// message and names the breaker.
	Name string
	// Unavailable is the backend's sentinel, wrapped by every error that
	// means Redis could not be used: not connected, timed out, closed, or
	// the breaker open. It must not be nil.
	Unavailable error
	// Timeout bounds each call (default DefaultTimeout); a shorter deadline
	// on the caller's context wins.
	Timeout time.Duration
	// TripAfter consecutive failures open the breaker (default DefaultTripAfter).
	TripAfter uint32
	// OpenFor is how long the breaker stays open before one probe call may
	// try Redis again (default DefaultOpenFor).
	OpenFor time.Duration
	// SetHealthy, when set, receives what Healthy would report each time
	// that may have changed, so that a backend can export it as a gauge
	// without polling. It runs under the Conn's locks and the breaker's: it
	// must be quick and must not call the Conn.
	SetHealthy func(healthy bool)
}

// Conn is a lazily dialled Redis client behind a deadline and a circuit
// breaker. It is safe for concurrent use.
type Conn struct {
	name       string
	timeout    time.Duration
	cb         *gobreaker.CircuitBreaker[struct{}]
	setHealthy func(bool)
	opt        rueidis.ClientOption
	owns       bool // Close closes the client

	// Made once per Conn so that a call rejected by the open breaker
	// allocates nothing.
	errOpen, errClosed error
	unavailable        error

	client  atomic.Pointer[clientRef]
	mu      sync.Mutex    // guards dialing, dialErr, closed
	dialing chan struct{} // closed when the dial in flight ends
	dialErr error
	closed  bool
}

type clientRef struct{ rueidis.Client }

// ParseURL reads a Redis URL as rueidis.ParseURL does: redis:// or rediss://
// (TLS), user and password in the userinfo, the database as the path; several
// addr=host:port query parameters make a cluster client, master_set=name makes
// the addresses sentinels. dial_timeout defaults to DefaultDialTimeout rather
// than rueidis's 5 s, so that a dial fails within a startup's patience.
//
// Client-side caching is turned off: the limiter's buckets change with every
// call on every replica, and the cache keeps its own L1 (cache/tiered), so
// server-assisted caching would only add tracking work on the server.
func ParseURL(redisURL string) (rueidis.ClientOption, error) {
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		return rueidis.ClientOption{}, err
	}
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = DefaultDialTimeout
	}
	opt.DisableCache = true
	return opt, nil
}

// New returns a Conn that dials the Redis opt describes, and closes its client
// on Close. It waits for the first dial until ctx ends; when Redis cannot be
// reached it returns a Conn whose calls fail with opts.Unavailable (and Healthy
// false) and that dials again on the next call, until Redis answers.
func New(ctx context.Context, opt rueidis.ClientOption, opts Options) *Conn {
	c := newConn(opts)
	c.opt, c.owns = opt, true
	c.report(false)
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
	return c
}

// NewWithClient returns a Conn over an existing client, which the caller
// keeps and closes.
func NewWithClient(client rueidis.Client, opts Options) *Conn {
	c := newConn(opts)
	c.client.Store(&clientRef{client})
	c.report(true)
	return c
}

func newConn(opts Options) *Conn {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	tripAfter := opts.TripAfter
	if tripAfter == 0 {
		tripAfter = DefaultTripAfter
	}
	if opts.OpenFor <= 0 {
		opts.OpenFor = DefaultOpenFor
	}
	c := &Conn{
		name:        opts.Name,
		timeout:     opts.Timeout,
		setHealthy:  opts.SetHealthy,
		unavailable: opts.Unavailable,
		errOpen:     fmt.Errorf("%w: circuit breaker open", opts.Unavailable),
		errClosed:   errors.New(opts.Name + ": closed"),
	}
	c.cb = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        opts.Name,
		MaxRequests: 1,
		Timeout:     opts.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= tripAfter },
		// Calls whose caller gave up say nothing about Redis.
		IsExcluded: func(err error) bool { return err == errCallerGone },
		// Runs under the breaker's lock: it must not call back into it.
		OnStateChange: func(_ string, _, to gobreaker.State) {
			c.report(to == gobreaker.StateClosed && c.client.Load() != nil)
		},
	})
	return c
}

// Healthy reports whether Redis is connected and the breaker closed. It is for
// readiness reports and dashboards; callers need not check it before a call
// (an open breaker fails calls at once).
func (c *Conn) Healthy() bool {
	return c.client.Load() != nil && c.cb.State() == gobreaker.StateClosed
}

// Ping sends PING through the breaker, as any call would.
func (c *Conn) Ping(ctx context.Context) error {
	return c.Do(ctx, "ping", func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Ping().Build()).Error()
	})
}

// Close releases the connections (unless the client came from NewWithClient).
// Calls after Close fail with the Unavailable sentinel.
func (c *Conn) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if r := c.client.Swap(nil); r != nil && c.owns {
		r.Close()
	}
	c.report(false)
}

// Client returns the client for a use the breaker cannot govern, such as a
// subscription that lasts until its context ends. When there is no client yet
// it starts a dial and waits for it no longer than one call's Timeout (or ctx).
// Errors are the dial's, or ctx's.
func (c *Conn) Client(ctx context.Context) (rueidis.Client, error) {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.conn(cctx)
}

var errCallerGone = errors.New("redisconn: caller gave up")

// Do runs fn with the client, under the call deadline and the breaker, and
// reports what went wrong as one of:
//   - nil;
//   - the error reply fn returned as it came (rueidis.IsRedisErr holds: a
//     reply such as WRONGTYPE or OOM), which proves Redis is up, so it does not
//     count against the breaker and the backend decides what it means;
//   - an error wrapping ctx's error, when the caller's context ended first
//     (nor does that count against the breaker);
//   - an error wrapping the Unavailable sentinel: the breaker is open, the
//     Conn closed, or the dial or fn failed otherwise (a timeout, a dropped
//     connection).
//
// op names the call in error messages.
func (c *Conn) Do(ctx context.Context, op string, fn func(ctx context.Context, cl rueidis.Client) error) error {
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
		case err == nil, isReply(err):
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
		return c.errOpen
	case isReply(callErr):
		return callErr
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", c.name, op, ctx.Err())
	}
	return fmt.Errorf("%s: %s: %w: %w", c.name, op, c.unavailable, callErr)
}

// startDial starts a connection attempt unless one is in flight. A dial runs
// on its own goroutine so that callers wait for it no longer than their own
// deadline, however long the dial takes.
func (c *Conn) startDial() {
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
			c.report(c.cb.State() == gobreaker.StateClosed)
		}
		c.dialing = nil
		close(ch)
	}()
}

// conn returns the client, dialling if there is none yet.
func (c *Conn) conn(ctx context.Context) (rueidis.Client, error) {
	if r := c.client.Load(); r != nil {
		return r.Client, nil
	}
	c.startDial()
	c.mu.Lock()
	ch, closed := c.dialing, c.closed
	c.mu.Unlock()
	if closed {
		return nil, c.errClosed
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
		err = c.errClosed
	}
	return nil, err
}

func (c *Conn) report(healthy bool) {
	if c.setHealthy != nil {
		c.setHealthy(healthy)
	}
}

func isReply(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok
}
