package redistest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Options are the settings RunFaults opens a subject with. A zero field
// leaves the subject's own default.
type Options struct {
	URL       string
	Prefix    string
	Timeout   time.Duration
	TripAfter uint32
	OpenFor   time.Duration
}

// Subject is a Redis-backed component as RunFaults sees it: a few calls
// through its public API. The calls may check more than RunFaults does (that
// a failed Get returns no value, say) and report it on the t they were made
// for.
type Subject struct {
	// Write makes a call that stores something under the prefix: a SET, a
	// limit check that charges a bucket.
	Write func(ctx context.Context) error
	// Read makes a call that needs Redis and what Write stored; it returns
	// nil only when the call succeeded and found it.
	Read func(ctx context.Context) error
	// Healthy is the subject's Healthy.
	Healthy func() bool
	// BreakerOpen, when set, runs in ClosedPort once the breaker is open: it
	// checks that the rest of the subject's API fails the same way, and what
	// its metrics say after OpenCalls rejected Reads.
	BreakerOpen func(t *testing.T)
}

// NewSubject returns a fresh subject opened with o; it is closed when t ends.
type NewSubject func(t *testing.T, o Options) Subject

// OpenCalls is how many Reads ClosedPort makes with the breaker open.
const OpenCalls = 1000

// RunFaults checks how a subject lives with a Redis that fails: every failing
// call wraps unavailable, the breaker trips after TripAfter failures and then
// fails calls at once, a hanging server costs a caller no more than the
// deadline, the subject starts while Redis is down and recovers by itself
// when Redis comes back, and callers that give up never trip the breaker.
//
// ClosedPort needs no Redis; the other cases use the test Redis (see Setup)
// through a Proxy.
func RunFaults(t *testing.T, unavailable error, newSubject NewSubject) {
	s := faults{unavailable: unavailable, newSubject: newSubject}
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"ClosedPort", s.closedPort},
		{"HangingServer", s.hangingServer},
		{"StartsWhileRedisDown", s.startsWhileRedisDown},
		{"CallerCancellationDoesNotTrip", s.callerCancellation},
	}
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

type faults struct {
	unavailable error
	newSubject  NewSubject
}

func (s faults) wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, s.unavailable) {
		t.Fatalf("%s: err = %v, want %v", what, err, s.unavailable)
	}
}

// closedPort points the subject at a port nobody listens on: the first calls
// fail (fast, as the connection is refused) until the breaker trips, and then
// calls fail at once without trying Redis.
func (s faults) closedPort(t *testing.T) {
	start := time.Now()
	sub := s.newSubject(t, Options{URL: "redis://127.0.0.1:1", TripAfter: 3, OpenFor: time.Minute})
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("opening took %v with Redis down; it must not block startup", d)
	}
	if sub.Healthy() {
		t.Fatal("Healthy with nothing listening")
	}
	ctx := context.Background()
	for i := range 3 {
		s.wantUnavailable(t, fmt.Sprintf("call %d", i), sub.Read(ctx))
	}
	start = time.Now()
	for range OpenCalls {
		s.wantUnavailable(t, "with the breaker open", sub.Read(ctx))
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("%d calls with the breaker open took %v; want them to fail at once", OpenCalls, d)
	}
	if sub.BreakerOpen != nil {
		sub.BreakerOpen(t)
	}
}

// hangingServer is the case the deadline and the breaker exist for: a server
// that accepts connections and never answers makes every call wait out its
// deadline, until the breaker trips; then calls fail at once. When the server
// answers again the breaker's probe closes it without any outside help.
func (s faults) hangingServer(t *testing.T) {
	url, prefix := Setup(t)
	proxy := NewProxy(t, Target(t, url))
	const timeout = 50 * time.Millisecond
	sub := s.newSubject(t, Options{
		URL: WithHost(t, url, proxy.Addr()), Prefix: prefix,
		Timeout: timeout, TripAfter: 3, OpenFor: 300 * time.Millisecond,
	})
	ctx := context.Background()
	if err := sub.Write(ctx); err != nil {
		t.Fatalf("Write while connected: %v", err)
	}
	if !sub.Healthy() {
		t.Fatal("not healthy while connected")
	}

	proxy.SetMode(Hang)
	for i := range 3 {
		start := time.Now()
		s.wantUnavailable(t, fmt.Sprintf("call %d", i), sub.Read(ctx))
		if d := time.Since(start); d > timeout+500*time.Millisecond {
			t.Fatalf("call %d took %v; the deadline is %v", i, d, timeout)
		}
	}
	start := time.Now()
	for range 100 {
		s.wantUnavailable(t, "with the breaker open", sub.Read(ctx))
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("100 calls after the breaker tripped took %v; each should fail at once, not wait %v", d, timeout)
	}
	if sub.Healthy() {
		t.Fatal("Healthy with the breaker open")
	}

	proxy.SetMode(Forward)
	await(t, 5*time.Second, "did not recover after Redis came back", func() error { return sub.Read(ctx) })
	if !sub.Healthy() {
		t.Fatal("not healthy after recovery")
	}
}

// startsWhileRedisDown: a replica must start while Redis is down and pick it
// up when it returns.
func (s faults) startsWhileRedisDown(t *testing.T) {
	url, prefix := Setup(t)
	proxy := NewProxy(t, Target(t, url))
	proxy.SetMode(Refuse)
	sub := s.newSubject(t, Options{URL: WithHost(t, url, proxy.Addr()), Prefix: prefix, OpenFor: 100 * time.Millisecond})
	if sub.Healthy() {
		t.Fatal("healthy before Redis is reachable")
	}
	ctx := context.Background()
	s.wantUnavailable(t, "Read before Redis is reachable", sub.Read(ctx))
	proxy.SetMode(Forward)
	await(t, 5*time.Second, "never connected", func() error { return sub.Write(ctx) })
	if err := sub.Read(ctx); err != nil {
		t.Fatalf("Read once connected: %v", err)
	}
	if !sub.Healthy() {
		t.Fatal("not healthy once connected")
	}
}

// callerCancellation: callers giving up say nothing about Redis.
func (s faults) callerCancellation(t *testing.T) {
	url, prefix := Setup(t)
	sub := s.newSubject(t, Options{URL: url, Prefix: prefix, TripAfter: 2})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 10 {
		if err := sub.Read(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, s.unavailable) {
			t.Fatalf("err = %v, want context.Canceled and not %v", err, s.unavailable)
		}
	}
	if !sub.Healthy() {
		t.Fatal("breaker opened because callers cancelled")
	}
	if err := sub.Write(context.Background()); err != nil {
		t.Fatalf("Write after the cancelled calls: %v", err)
	}
}

// await makes call until it returns nil, and fails t with what and call's
// last error if that takes longer than timeout.
func await(t *testing.T, timeout time.Duration, what string, call func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := call()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s (last error: %v)", timeout, what, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
