// Package limitertest is the conformance suite every ratelimit.Limiter
// passes: Run(t, newLimiter) checks the GCRA contract (burst, refill, retry
// times, costs, looks, Reset, key independence, concurrency, argument checks)
// against a fresh limiter per case.
//
// The one idea: the suite hands each limiter a fake clock and finds out
// whether the limiter reads it. A limiter on the fake clock (memory) is
// checked exactly, with time moved in microseconds' work; one that keeps its
// own time (redis, which uses the server's clock so replicas agree) is
// checked in real time, on short intervals and within a tolerance. One suite
// thus holds both to the same cases.
package limitertest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/ratelimit"
)

// NewLimiter returns a fresh limiter for one case. A limiter that reads time
// should read it from now; any state it keeps outside the process (Redis
// keys) must be the test's own and cleaned up when t ends.
type NewLimiter func(t *testing.T, now func() time.Time) ratelimit.Limiter

// Run runs the suite against limiters made by newLimiter.
func Run(t *testing.T, newLimiter NewLimiter) {
	cases := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"BurstThenDeny", testBurstThenDeny},
		{"SteadyRefill", testSteadyRefill},
		{"RetryAfterIsAccurate", testRetryAfterIsAccurate},
		{"DenialChargesNothing", testDenialChargesNothing},
		{"RefillStopsAtBurst", testRefillStopsAtBurst},
		{"CostAboveOne", testCostAboveOne},
		{"CostZeroOnlyLooks", testCostZeroOnlyLooks},
		{"CostAboveBurstNeverAllowed", testCostAboveBurst},
		{"Reset", testReset},
		{"KeysAreIndependent", testKeysAreIndependent},
		{"LimitsPerCall", testLimitsPerCall},
		{"ConcurrentCallsOnOneKey", testConcurrent},
		{"InvalidArguments", testInvalidArguments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newHarness(t, newLimiter))
		})
	}
}

// Timing of the two modes. In real time, the interval is long enough that
// the few milliseconds between calls (more under -race, or with Redis on a
// loaded machine) never refill a whole event, and tolerance bounds how much
// earlier than computed a reported duration may end.
const (
	fakeInterval  = time.Second
	realInterval  = 200 * time.Millisecond
	realTolerance = 60 * time.Millisecond
)

// clock is the fake clock handed to limiters; it records whether it was read.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	read atomic.Bool
}

func (c *clock) now() time.Time {
	c.read.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type harness struct {
	t   *testing.T
	l   ratelimit.Limiter
	clk *clock
	// real is set when the limiter keeps its own time.
	real bool
	// unit is the emission interval the cases use: every limit below is
	// expressed in it.
	unit time.Duration
	// tol is how far below the exact value a reported duration may be (the
	// time that passed between calls); 0 on the fake clock.
	tol time.Duration
	// late is, in real time, how much longer than asked the case's sleeps
	// took: a loaded machine oversleeps, and every duration the limiter
	// reports is that much shorter than computed.
	late time.Duration
	// began and advanced bound, in real time, how much every duration the
	// limiter reports can have shrunk since the case's first call: the
	// real time gone by, less what the case let pass on purpose (which its
	// expectations already count). The calls themselves take time too,
	// and on a loaded machine ten round trips to Redis can take longer
	// than any fixed tolerance.
	began    time.Time
	advanced time.Duration
}

func newHarness(t *testing.T, newLimiter NewLimiter) *harness {
	t.Helper()
	// An arbitrary start, far from the zero time and from the real clock.
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	h := &harness{t: t, clk: clk, l: newLimiter(t, clk.now)}
	// A look at an unused key charges nothing and shows which clock the
	// limiter decides by. Reads made while it was built (otter reads its
	// clock when a cache is created) do not count.
	clk.read.Store(false)
	if _, err := h.l.Allow(context.Background(), "limitertest:probe", ratelimit.PerSecond(1, 1), 0); err != nil {
		t.Fatalf("probe: %v", err)
	}
	h.real = !clk.read.Load()
	h.began = time.Now()
	if h.real {
		h.unit, h.tol = realInterval, realTolerance
	} else {
		h.unit = fakeInterval
	}
	return h
}

// limit returns a Limit of one event per unit/speedup, burst at once.
func (h *harness) limit(burst int, speedup int) ratelimit.Limit {
	return ratelimit.Limit{Rate: float64(speedup) / h.unit.Seconds(), Burst: burst}
}

// advance lets d pass: on the fake clock at once, in real time by sleeping.
func (h *harness) advance(d time.Duration) {
	if h.real {
		start := time.Now()
		time.Sleep(d)
		h.late += time.Since(start) - d
		h.advanced += d
		return
	}
	h.clk.add(d)
}

func (h *harness) allow(key string, limit ratelimit.Limit, cost int) ratelimit.Decision {
	h.t.Helper()
	d, err := h.l.Allow(context.Background(), key, limit, cost)
	if err != nil {
		h.t.Fatalf("Allow(%q, %+v, %d): %v", key, limit, cost, err)
	}
	return d
}

// want checks d against what it must be at the instant of the call. In real
// time the reported durations may be lower by up to tol: time passed since
// the case computed them.
func (h *harness) want(what string, d ratelimit.Decision, allowed bool, remaining int, retryAfter, resetAfter time.Duration) {
	h.t.Helper()
	ok := d.Allowed == allowed && d.Remaining == remaining &&
		h.near(d.RetryAfter, retryAfter) && h.near(d.ResetAfter, resetAfter)
	if !ok {
		h.t.Fatalf("%s: got %+v; want {Allowed:%v Remaining:%d RetryAfter:%v ResetAfter:%v} (within -%v)",
			what, d, allowed, remaining, retryAfter, resetAfter, h.tol)
	}
}

func (h *harness) near(got, want time.Duration) bool {
	if want <= 0 {
		return got == want
	}
	slack := h.tol + h.late
	if h.real {
		slack = max(slack, time.Since(h.began)-h.advanced+h.tol)
	}
	return got <= want && got >= want-slack
}

func (h *harness) exhaust(key string, limit ratelimit.Limit) {
	h.t.Helper()
	for i := range limit.Burst {
		if d := h.allow(key, limit, 1); !d.Allowed {
			h.t.Fatalf("event %d of a burst of %d denied: %+v", i+1, limit.Burst, d)
		}
	}
}

func testBurstThenDeny(t *testing.T, h *harness) {
	u := h.unit
	lim := h.limit(5, 1)
	for i := range 5 {
		d := h.allow("k", lim, 1)
		h.want("event "+itoa(i+1), d, true, 4-i, 0, time.Duration(i+1)*u)
	}
	for i := range 3 {
		d := h.allow("k", lim, 1)
		h.want("event past the burst "+itoa(i+1), d, false, 0, u, 5*u)
	}
}

func testSteadyRefill(t *testing.T, h *harness) {
	lim := h.limit(2, 1)
	h.exhaust("k", lim)
	for i := range 3 {
		h.advance(h.unit)
		if d := h.allow("k", lim, 1); !d.Allowed {
			t.Fatalf("refill %d: denied after one interval: %+v", i+1, d)
		}
		d := h.allow("k", lim, 1)
		h.want("refill "+itoa(i+1)+", second event", d, false, 0, h.unit, 2*h.unit)
	}
}

func testRetryAfterIsAccurate(t *testing.T, h *harness) {
	lim := h.limit(3, 1)
	h.exhaust("k", lim)
	h.advance(h.unit / 4)
	d := h.allow("k", lim, 1)
	h.want("denied", d, false, 0, h.unit*3/4, 3*h.unit-h.unit/4)

	// Just before RetryAfter the call is still denied, and says how much is left.
	early := time.Microsecond
	if h.real {
		early = 2 * h.tol
	}
	h.advance(d.RetryAfter - early)
	d2 := h.allow("k", lim, 1)
	h.want("denied just before RetryAfter", d2, false, 0, early, 2*h.unit+early)

	// At RetryAfter it is allowed.
	h.advance(d2.RetryAfter)
	if d3 := h.allow("k", lim, 1); !d3.Allowed {
		t.Fatalf("denied after waiting RetryAfter %v: %+v", d2.RetryAfter, d3)
	}
	// A cost of 2 waits for two intervals.
	h.want("cost 2 on an empty bucket", h.allow("k", lim, 2), false, 0, 2*h.unit, 3*h.unit)
}

func testDenialChargesNothing(t *testing.T, h *harness) {
	lim := h.limit(2, 1)
	h.exhaust("k", lim)
	for range 20 {
		if d := h.allow("k", lim, 1); d.Allowed {
			t.Fatalf("allowed past the burst: %+v", d)
		}
	}
	h.advance(h.unit)
	if d := h.allow("k", lim, 1); !d.Allowed {
		t.Fatalf("denials were charged: denied one interval later: %+v", d)
	}
	if d := h.allow("k", lim, 1); d.Allowed {
		t.Fatalf("one interval refilled two events: %+v", d)
	}
}

func testRefillStopsAtBurst(t *testing.T, h *harness) {
	// Four times faster, so that the long idle period stays short in real
	// time; the three events then take well under one (short) interval.
	lim := h.limit(3, 4)
	interval := h.unit / 4
	// Idle for exactly one interval longer than a refill takes, then for
	// many: either way the bucket holds its burst, no more.
	h.exhaust("k", lim)
	for _, idle := range []time.Duration{4 * interval, 12 * interval} {
		// In real time, four calls that took longer than an interval (a
		// loaded machine) may rightly see a refill: such a round proves
		// nothing and is tried again, a bounded number of times.
		for attempt := 0; ; attempt++ {
			h.advance(idle)
			start := time.Now()
			for i := range 3 {
				if d := h.allow("k", lim, 1); !d.Allowed || d.Remaining != 2-i {
					t.Fatalf("event %d after %v idle: %+v", i+1, idle, d)
				}
			}
			d := h.allow("k", lim, 1)
			if !d.Allowed {
				break
			}
			if !h.real || time.Since(start) < interval || attempt == 5 {
				t.Fatalf("%v idle filled the bucket past its burst: %+v", idle, d)
			}
		}
	}
}

func testCostAboveOne(t *testing.T, h *harness) {
	u := h.unit
	lim := h.limit(10, 1)
	h.want("first cost 4", h.allow("k", lim, 4), true, 6, 0, 4*u)
	h.want("second cost 4", h.allow("k", lim, 4), true, 2, 0, 8*u)
	h.want("third cost 4", h.allow("k", lim, 4), false, 2, 2*u, 8*u)
	h.want("cost 2", h.allow("k", lim, 2), true, 0, 0, 10*u)
	h.want("cost 1 on an empty bucket", h.allow("k", lim, 1), false, 0, u, 10*u)
	h.want("cost 10 on an empty bucket", h.allow("k", lim, 10), false, 0, 10*u, 10*u)
}

func testCostZeroOnlyLooks(t *testing.T, h *harness) {
	u := h.unit
	lim := h.limit(3, 1)
	for range 10 {
		h.want("look at an unused key", h.allow("k", lim, 0), true, 3, 0, 0)
	}
	h.want("charge", h.allow("k", lim, 1), true, 2, 0, u)
	for range 10 {
		h.want("look after one event", h.allow("k", lim, 0), true, 2, 0, u)
	}
	for range 2 {
		if d := h.allow("k", lim, 1); !d.Allowed {
			t.Fatalf("charging the budget left: %+v", d)
		}
	}
	h.want("look at an empty bucket", h.allow("k", lim, 0), false, 0, u, 3*u)
	h.advance(u)
	for range 10 {
		h.want("look after one refill", h.allow("k", lim, 0), true, 1, 0, 2*u)
	}
	h.want("charge the refilled event", h.allow("k", lim, 1), true, 0, 0, 3*u)
}

func testCostAboveBurst(t *testing.T, h *harness) {
	lim := h.limit(3, 1)
	for _, cost := range []int{4, 1000} {
		d := h.allow("k", lim, cost)
		if d.Allowed || d.RetryAfter >= 0 || d.Remaining != 3 {
			t.Fatalf("cost %d with burst 3 on a full bucket: %+v; want denied, RetryAfter < 0, Remaining 3", cost, d)
		}
	}
	h.want("burst after the denials", h.allow("k", lim, 3), true, 0, 0, 3*h.unit)
	if d := h.allow("k", lim, 4); d.Allowed || d.RetryAfter >= 0 {
		t.Fatalf("cost 4 with burst 3 on an empty bucket: %+v; want denied, RetryAfter < 0", d)
	}
}

func testReset(t *testing.T, h *harness) {
	ctx := context.Background()
	lim := h.limit(3, 1)
	h.exhaust("acct:alice", lim)
	if err := h.l.Reset(ctx, "acct:alice"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	h.want("look after Reset", h.allow("acct:alice", lim, 0), true, 3, 0, 0)
	h.exhaust("acct:alice", lim)
	if err := h.l.Reset(ctx, "acct:nobody"); err != nil {
		t.Fatalf("Reset of an unused key: %v", err)
	}
	if d := h.allow("acct:alice", lim, 1); d.Allowed {
		t.Fatalf("Reset of another key refilled this one: %+v", d)
	}
}

func testKeysAreIndependent(t *testing.T, h *harness) {
	lim := h.limit(2, 1)
	// Keys that differ only in a byte, or in case, are different buckets;
	// any bytes may appear in a key.
	keys := []string{"ip:192.0.2.1", "ip:192.0.2.10", "IP:192.0.2.1", "ip:2001:db8::1",
		"acct:alice@example.com", "acct:Ålice", "acct:a b\x00c", strings.Repeat("k", ratelimit.MaxKeyLen)}
	for i, k := range keys {
		h.exhaust(k, lim)
		for _, other := range keys[i+1:] {
			h.want("key "+quote(other)+" after "+quote(k)+" was used up", h.allow(other, lim, 0), true, 2, 0, 0)
		}
	}
}

func testLimitsPerCall(t *testing.T, h *harness) {
	// One limiter, two limits: each key honours the limit it is called with.
	strict, loose := h.limit(1, 1), h.limit(5, 1)
	h.exhaust("ip:a", strict)
	h.want("strict key", h.allow("ip:a", strict, 1), false, 0, h.unit, h.unit)
	h.exhaust("client:b", loose)
	h.want("loose key", h.allow("client:b", loose, 1), false, 0, h.unit, 5*h.unit)
}

func testConcurrent(t *testing.T, h *harness) {
	// 100 goroutines, each making several calls so that their reads and
	// writes of the one key interleave (a lost update shows as one event
	// too many). One event an hour: nothing refills while they race.
	const goroutines, calls, burst = 100, 20, 500
	lim := ratelimit.PerHour(1, burst)
	var allowed, denied atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			<-start
			for range calls {
				d, err := h.l.Allow(context.Background(), "hot", lim, 1)
				switch {
				case err != nil:
					errs <- err
					return
				case d.Allowed:
					allowed.Add(1)
				default:
					denied.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Allow: %v", err)
	}
	if allowed.Load() != burst || denied.Load() != goroutines*calls-burst {
		t.Fatalf("%d concurrent calls with burst %d: %d allowed, %d denied; want exactly %d allowed",
			goroutines*calls, burst, allowed.Load(), denied.Load(), burst)
	}
	if d := h.allow("hot", lim, 0); d.Allowed || d.Remaining != 0 {
		t.Fatalf("after the race: %+v; want an empty bucket", d)
	}
}

func testInvalidArguments(t *testing.T, h *harness) {
	ctx := context.Background()
	ok := ratelimit.PerSecond(1, 1)
	tests := []struct {
		name  string
		key   string
		limit ratelimit.Limit
		cost  int
	}{
		{"empty key", "", ok, 1},
		{"key too long", strings.Repeat("k", ratelimit.MaxKeyLen+1), ok, 1},
		{"negative cost", "k", ok, -1},
		{"zero limit", "k", ratelimit.Limit{}, 1},
		{"zero rate", "k", ratelimit.Limit{Burst: 1}, 1},
		{"negative rate", "k", ratelimit.Limit{Rate: -1, Burst: 1}, 1},
		{"rate above MaxRate", "k", ratelimit.Limit{Rate: 2 * ratelimit.MaxRate, Burst: 1}, 1},
		{"zero burst", "k", ratelimit.Limit{Rate: 1}, 1},
		{"window above MaxWindow", "k", ratelimit.Limit{Rate: 1e-6, Burst: 1 << 30}, 1},
	}
	for _, tc := range tests {
		d, err := h.l.Allow(ctx, tc.key, tc.limit, tc.cost)
		if !errors.Is(err, ratelimit.ErrInvalid) || d != (ratelimit.Decision{}) {
			t.Errorf("%s: Allow = %+v, %v; want a zero Decision and ErrInvalid", tc.name, d, err)
		}
	}
	for _, key := range []string{"", strings.Repeat("k", ratelimit.MaxKeyLen+1)} {
		if err := h.l.Reset(ctx, key); !errors.Is(err, ratelimit.ErrInvalid) {
			t.Errorf("Reset(%d-byte key) = %v; want ErrInvalid", len(key), err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// quote shortens long keys in failure messages.
func quote(s string) string {
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return strconv.Quote(s)
}
