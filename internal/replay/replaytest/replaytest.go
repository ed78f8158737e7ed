// Package replaytest is the conformance suite every replay.Cache passes:
// Run(t, newCache) checks first and later uses, expiry, key independence,
// concurrency (exactly one first use among racing calls, including
// goroutines sweeping keys in lockstep, which catches a check-then-write
// backend on two cores) and argument checks against a fresh cache per case.
//
// The one idea, as in limitertest: the suite hands each cache a fake clock
// and finds out whether the cache reads it. A cache on the fake clock
// (memory) is checked exactly, with time moved at once; one that keeps real
// time (redis, whose records expire on the server's clock) is checked in
// real time, on short intervals and within a tolerance.
package replaytest

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/replay"
)

// NewCache returns a fresh cache for one case. A cache that reads time should
// read it from now; any state it keeps outside the process (Redis keys) must
// be the test's own and cleaned up when t ends.
type NewCache func(t *testing.T, now func() time.Time) replay.Cache

// Run runs the suite against caches made by newCache.
func Run(t *testing.T, newCache NewCache) {
	cases := []struct {
		name string
		run  func(t *testing.T, h *harness)
	}{
		{"FirstUse", testFirstUse},
		{"SecondUseRefused", testSecondUse},
		{"RefusedUseDoesNotExtend", testRefusedUseDoesNotExtend},
		{"Expiry", testExpiry},
		{"KeysAreIndependent", testKeysAreIndependent},
		{"ConcurrentUsesOfOneKey", testConcurrentOneKey},
		{"ConcurrentSweepInLockstep", testConcurrentSweep},
		{"ConcurrentUsesOfManyKeys", testConcurrentManyKeys},
		{"UntilNotInTheFuture", testUntilNotInTheFuture},
		{"InvalidArguments", testInvalidArguments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newHarness(t, newCache))
		})
	}
}

// In real time, records live for realLife, long enough that the few
// milliseconds between calls (more under -race, or with Redis on a busy
// machine) never reach it; tolerance is how long after until a record may
// still be seen (rounding up to the millisecond, the call's own latency).
const (
	fakeLife      = time.Minute
	realLife      = 300 * time.Millisecond
	realTolerance = 100 * time.Millisecond
)

// clock is the fake clock handed to caches; it records whether it was read.
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
	c   replay.Cache
	clk *clock
	// real is set when the cache keeps real time.
	real bool
	// life is how long the cases' records live.
	life time.Duration
}

func newHarness(t *testing.T, newCache NewCache) *harness {
	t.Helper()
	// The fake clock starts at the real time, so that an until built on
	// either clock is a sensible one for a cache on the other.
	clk := &clock{t: time.Now().Truncate(time.Second)}
	h := &harness{t: t, clk: clk, c: newCache(t, clk.now)}
	// A use of a key of its own shows which clock the cache decides by.
	// Reads made while it was built do not count, nor does the suite's own.
	until := clk.now().Add(time.Minute)
	clk.read.Store(false)
	first, err := h.c.Use(context.Background(), "replaytest:probe", until)
	if err != nil || !first {
		t.Fatalf("probe: Use = %v, %v; want a first use", first, err)
	}
	h.real = !clk.read.Load()
	if h.real {
		h.life = realLife
	} else {
		h.life = fakeLife
	}
	return h
}

// now is the time on the cache's clock.
func (h *harness) now() time.Time {
	if h.real {
		return time.Now()
	}
	return h.clk.now()
}

// advance lets d pass: on the fake clock at once, in real time by sleeping.
func (h *harness) advance(d time.Duration) {
	if h.real {
		time.Sleep(d)
		return
	}
	h.clk.add(d)
}

// sleepUntil lets time pass until t (in real time) or sets the clock to t.
func (h *harness) sleepUntil(t time.Time) {
	h.advance(t.Sub(h.now()))
}

func (h *harness) use(key string, until time.Time) bool {
	h.t.Helper()
	first, err := h.c.Use(context.Background(), key, until)
	if err != nil {
		h.t.Fatalf("Use(%s, %v): %v", quote(key), until, err)
	}
	return first
}

func (h *harness) wantFirst(what, key string, until time.Time) {
	h.t.Helper()
	if !h.use(key, until) {
		h.t.Fatalf("%s: Use(%s) = false; want a first use", what, quote(key))
	}
}

func (h *harness) wantRefused(what, key string, until time.Time) {
	h.t.Helper()
	if h.use(key, until) {
		h.t.Fatalf("%s: Use(%s) = true; want the use refused", what, quote(key))
	}
}

func testFirstUse(t *testing.T, h *harness) {
	h.wantFirst("unused key", "jti:a", h.now().Add(h.life))
}

func testSecondUse(t *testing.T, h *harness) {
	until := h.now().Add(h.life)
	h.wantFirst("first use", "jti:a", until)
	for i := range 5 {
		h.wantRefused("use "+strconv.Itoa(i+2), "jti:a", until)
	}
	// A later until does not make a replay a first use.
	h.wantRefused("use with a later until", "jti:a", until.Add(h.life))
	// Nor does an earlier one.
	h.wantRefused("use with an earlier until", "jti:a", h.now().Add(h.life/2))
}

// testRefusedUseDoesNotExtend: a refused use changes nothing, so the record
// ends when its first use said, however often it is replayed.
func testRefusedUseDoesNotExtend(t *testing.T, h *harness) {
	start := h.now()
	until := start.Add(h.life)
	h.wantFirst("first use", "jti:a", until)
	h.wantRefused("replay asking for much longer", "jti:a", start.Add(10*h.life))
	h.sleepUntil(until.Add(h.tolerance()))
	h.wantFirst("use after the first use's until", "jti:a", h.now().Add(h.life))
}

func (h *harness) tolerance() time.Duration {
	if h.real {
		return realTolerance
	}
	return 0
}

func testExpiry(t *testing.T, h *harness) {
	start := h.now()
	until := start.Add(h.life)
	h.wantFirst("first use", "jti:a", until)

	// Just before until the record is live. In real time a loaded machine
	// may oversleep past until, and then the check proves nothing.
	early := time.Nanosecond
	if h.real {
		early = h.life / 3
	}
	h.sleepUntil(until.Add(-early))
	if h.real && !h.now().Before(until.Add(-early/2)) {
		t.Logf("overslept to %v past the first use; not checking just before until", h.now().Sub(start))
	} else {
		h.wantRefused("use just before until", "jti:a", until)
	}

	// From until on (within the tolerance) the key may be used again, and
	// that use is a new record with its own until.
	h.sleepUntil(until.Add(h.tolerance()))
	until2 := h.now().Add(h.life)
	h.wantFirst("use after until", "jti:a", until2)
	h.wantRefused("replay of the new use", "jti:a", until2)
}

func testKeysAreIndependent(t *testing.T, h *harness) {
	// Keys that differ only in a byte, or in case, are different records;
	// any bytes may appear in a key.
	keys := []string{"dpop:abc", "dpop:abd", "DPOP:abc", "dpop:abc ", "dpop:ab",
		"jti:Ålice", "jti:a b\x00c", "jti:\xff\xfe", strings.Repeat("k", replay.MaxKeyLen)}
	until := h.now().Add(h.life)
	for _, k := range keys {
		h.wantFirst("first use", k, until)
	}
	for _, k := range keys {
		h.wantRefused("second use", k, until)
	}
}

func testConcurrentOneKey(t *testing.T, h *harness) {
	// 50 goroutines released at once against one key: exactly one wins.
	const goroutines, rounds = 50, 20
	for round := range rounds {
		key := "jti:hot" + strconv.Itoa(round)
		var firsts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, goroutines)
		for range goroutines {
			wg.Go(func() {
				<-start
				first, err := h.c.Use(context.Background(), key, h.now().Add(time.Minute))
				switch {
				case err != nil:
					errs <- err
				case first:
					firsts.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Use: %v", err)
		}
		if n := firsts.Load(); n != 1 {
			t.Fatalf("round %d: %d concurrent uses of one key gave %d first uses; want exactly 1", round, goroutines, n)
		}
	}
}

// sweepers and sweepKeys size the sweeps: a few goroutines, so that their
// spinning start does not starve the ones still to be scheduled, over many
// keys, so that a check-then-write backend is caught on any machine.
const sweepers, sweepKeys = 8, 1000

func testConcurrentSweep(t *testing.T, h *harness) {
	// Goroutines released at once, all sweeping the same keys in the same
	// order: they arrive at each key together, over and over.
	for k, n := range sweep(t, h, func(_, i int) int { return i }) {
		if n != 1 {
			t.Fatalf("key %d: %d goroutines in lockstep gave %d first uses; want exactly 1", k, sweepers, n)
		}
	}
}

func testConcurrentManyKeys(t *testing.T, h *harness) {
	// The same, each goroutine in its own order, so that writes of
	// different keys interleave.
	for k, n := range sweep(t, h, func(g, i int) int { return (i*7 + g*131) % sweepKeys }) {
		if n != 1 {
			t.Fatalf("key %d: %d first uses; want exactly 1", k, n)
		}
	}
}

// sweep releases sweepers goroutines at once; goroutine g uses key number
// order(g, i) for i in [0, sweepKeys). It returns how many first uses each
// key had.
func sweep(t *testing.T, h *harness, order func(g, i int) int) []int {
	t.Helper()
	firsts := make([]atomic.Int32, sweepKeys)
	names := make([]string, sweepKeys)
	for i := range names {
		names[i] = "jti:sweep" + strconv.Itoa(i)
	}
	var wg, ready sync.WaitGroup
	var start atomic.Bool
	errs := make(chan error, sweepers)
	ready.Add(sweepers)
	for g := range sweepers {
		wg.Go(func() {
			ready.Done()
			for !start.Load() {
				// Spin: a channel wake-up would stagger the starts.
			}
			// A minute, measured once the race starts: the records must
			// outlive it even in real time on a busy machine.
			until := h.now().Add(time.Minute)
			for i := range sweepKeys {
				k := order(g, i)
				first, err := h.c.Use(context.Background(), names[k], until)
				if err != nil {
					errs <- err
					return
				}
				if first {
					firsts[k].Add(1)
				}
			}
		})
	}
	ready.Wait()
	start.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Use: %v", err)
	}
	out := make([]int, sweepKeys)
	for i := range firsts {
		out[i] = int(firsts[i].Load())
	}
	return out
}

// testUntilNotInTheFuture: a use whose until has already passed guards
// nothing and is refused as an argument error; it records nothing.
func testUntilNotInTheFuture(t *testing.T, h *harness) {
	ctx := context.Background()
	now := h.now()
	for _, until := range []time.Time{now, now.Add(-time.Millisecond), now.Add(-time.Hour), {}} {
		first, err := h.c.Use(ctx, "jti:late", until)
		if !errors.Is(err, replay.ErrInvalid) || first {
			t.Fatalf("Use(until %v before now) = %v, %v; want false and ErrInvalid", now.Sub(until), first, err)
		}
	}
	h.wantFirst("valid use after the refused ones", "jti:late", h.now().Add(h.life))
}

func testInvalidArguments(t *testing.T, h *harness) {
	ctx := context.Background()
	until := h.now().Add(h.life)
	tests := []struct {
		name  string
		key   string
		until time.Time
	}{
		{"empty key", "", until},
		{"key too long", strings.Repeat("k", replay.MaxKeyLen+1), until},
		{"until beyond MaxLifetime", "jti:far", h.now().Add(replay.MaxLifetime + time.Minute)},
		{"until at the end of time", "jti:far", time.Unix(1<<62, 0)},
	}
	for _, tc := range tests {
		first, err := h.c.Use(ctx, tc.key, tc.until)
		if !errors.Is(err, replay.ErrInvalid) || first {
			t.Errorf("%s: Use = %v, %v; want false and ErrInvalid", tc.name, first, err)
		}
	}
	h.wantFirst("a refused key is not recorded", "jti:far", until)
}

// quote shortens long keys in failure messages.
func quote(s string) string {
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return strconv.Quote(s)
}
