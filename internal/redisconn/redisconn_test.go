package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/authd/authd/internal/redisconn"
	"github.com/authd/authd/internal/testenv/redistest"
)

var errDown = errors.New("test: unavailable")

// open returns a Conn on redisURL, closed when t ends, and the last value
// its SetHealthy reported.
func open(t testing.TB, redisURL string, opts redisconn.Options) (*redisconn.Conn, *atomic.Bool) {
	t.Helper()
	copt, err := redisconn.ParseURL(redisURL)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	var healthy atomic.Bool
	opts.Name, opts.Unavailable = "test", errDown
	opts.SetHealthy = healthy.Store
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c := redisconn.New(ctx, copt, opts)
	t.Cleanup(c.Close)
	return c, &healthy
}

func set(key, value string) func(context.Context, rueidis.Client) error {
	return func(ctx context.Context, cl rueidis.Client) error {
		return cl.Do(ctx, cl.B().Set().Key(key).Value(value).Build()).Error()
	}
}

// TestFaults runs the outage suite against a bare Conn, with SetHealthy held
// to what Healthy says whenever the suite asks.
func TestFaults(t *testing.T) {
	redistest.RunFaults(t, errDown, func(t *testing.T, o redistest.Options) redistest.Subject {
		c, reported := open(t, o.URL, redisconn.Options{Timeout: o.Timeout, TripAfter: o.TripAfter, OpenFor: o.OpenFor})
		key := o.Prefix + "k"
		return redistest.Subject{
			Write: func(ctx context.Context) error { return c.Do(ctx, "set", set(key, "v")) },
			Read: func(ctx context.Context) error {
				return c.Do(ctx, "get", func(ctx context.Context, cl rueidis.Client) error {
					v, err := cl.Do(ctx, cl.B().Get().Key(key).Build()).ToString()
					if err == nil && v != "v" {
						return fmt.Errorf("GET = %q, want the value written", v)
					}
					return err
				})
			},
			Healthy: func() bool {
				healthy := c.Healthy()
				if r := reported.Load(); r != healthy {
					t.Fatalf("SetHealthy last reported %v while Healthy is %v", r, healthy)
				}
				return healthy
			},
			BreakerOpen: func(t *testing.T) {
				if err := c.Ping(context.Background()); !errors.Is(err, errDown) {
					t.Fatalf("Ping: err = %v, want %v", err, errDown)
				}
			},
		}
	})
}

// TestReplyDoesNotTrip: an error reply proves Redis is up. It comes back as
// it came, not as unavailability, and however many there are the breaker
// stays closed.
func TestReplyDoesNotTrip(t *testing.T) {
	url, prefix := redistest.Setup(t)
	c, _ := open(t, url, redisconn.Options{Timeout: 2 * time.Second, TripAfter: 1})
	ctx := context.Background()
	key := prefix + "notanumber"
	if err := c.Do(ctx, "set", set(key, "x")); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		err := c.Do(ctx, "incr", func(ctx context.Context, cl rueidis.Client) error {
			return cl.Do(ctx, cl.B().Incr().Key(key).Build()).Error()
		})
		if _, ok := rueidis.IsRedisErr(err); !ok || errors.Is(err, errDown) {
			t.Fatalf("INCR of a string: err = %v (%T), want the error reply itself", err, err)
		}
	}
	if !c.Healthy() {
		t.Fatal("error replies opened the breaker")
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping after error replies: %v", err)
	}
}

// TestCallerDeadlineWins: a caller's deadline shorter than Timeout bounds the
// call, and running out of it is the caller's doing: it is the caller's
// error, not unavailability, and it does not trip the breaker.
func TestCallerDeadlineWins(t *testing.T) {
	url, _ := redistest.Setup(t)
	c, _ := open(t, url, redisconn.Options{Timeout: time.Minute, TripAfter: 1})
	// What a call to a Redis that stopped answering does: wait out its context.
	hang := func(ctx context.Context, _ rueidis.Client) error {
		<-ctx.Done()
		return ctx.Err()
	}
	const deadline = 50 * time.Millisecond
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		err := c.Do(ctx, "hang", hang)
		d := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errDown) {
			t.Fatalf("call %d: err = %v, want context.DeadlineExceeded and not %v", i, err, errDown)
		}
		if d > deadline+500*time.Millisecond {
			t.Fatalf("call %d took %v; the caller's deadline is %v", i, d, deadline)
		}
	}
	if !c.Healthy() {
		t.Fatal("callers' deadlines opened the breaker")
	}
}

// TestClose: calls after Close are unavailable; a client from NewWithClient
// stays its owner's, open, while one from New is closed.
func TestClose(t *testing.T) {
	url, _ := redistest.Setup(t)
	ctx := context.Background()
	opts := redisconn.Options{Name: "test", Unavailable: errDown, Timeout: 2 * time.Second}

	t.Run("New", func(t *testing.T) {
		c, reported := open(t, url, opts)
		if err := c.Ping(ctx); err != nil || !reported.Load() {
			t.Fatalf("Ping = %v, SetHealthy reported %v; want nil and true", err, reported.Load())
		}
		c.Close()
		if err := c.Ping(ctx); !errors.Is(err, errDown) {
			t.Fatalf("Ping after Close: err = %v, want %v", err, errDown)
		}
		if _, err := c.Client(ctx); err == nil {
			t.Fatal("Client after Close succeeded")
		}
		if c.Healthy() || reported.Load() {
			t.Fatalf("after Close: Healthy %v, SetHealthy reported %v; want false", c.Healthy(), reported.Load())
		}
	})
	t.Run("NewWithClient", func(t *testing.T) {
		cl := redistest.Raw(t, url)
		var reported atomic.Bool
		o := opts
		o.SetHealthy = reported.Store
		c := redisconn.NewWithClient(cl, o)
		if !c.Healthy() || !reported.Load() {
			t.Fatalf("over a connected client: Healthy %v, SetHealthy reported %v; want true", c.Healthy(), reported.Load())
		}
		if got, err := c.Client(ctx); err != nil || got != cl {
			t.Fatalf("Client = %v, %v; want the client given", got, err)
		}
		c.Close()
		if err := c.Ping(ctx); !errors.Is(err, errDown) {
			t.Fatalf("Ping after Close: err = %v, want %v", err, errDown)
		}
		if err := cl.Do(ctx, cl.B().Ping().Build()).Error(); err != nil {
			t.Fatalf("the caller's client after Close: %v; Close must leave it open", err)
		}
	})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		wantErr     bool
		wantTimeout time.Duration
	}{
		{"default dial timeout", "redis://127.0.0.1:6379/0", false, redisconn.DefaultDialTimeout},
		{"explicit dial timeout", "redis://127.0.0.1:6379/0?dial_timeout=3s", false, 3 * time.Second},
		{"bad scheme", "http://127.0.0.1:6379", true, 0},
		{"bad db", "redis://127.0.0.1:6379/notanumber", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := redisconn.ParseURL(tc.url)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if opt.Dialer.Timeout != tc.wantTimeout || !opt.DisableCache {
				t.Fatalf("dial timeout %v, DisableCache %v; want %v and true", opt.Dialer.Timeout, opt.DisableCache, tc.wantTimeout)
			}
		})
	}
}
