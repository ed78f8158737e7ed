package batch_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/batch"
	"github.com/authd/authd/internal/store"
)

// recorder is a fake transactional flush: a batch holding a bad item fails as
// a whole and writes nothing, as a real transaction would.
type recorder struct {
	mu      sync.Mutex
	calls   [][]int // the items of every flush call, in call order
	written []int
	fail    func(items []int) error // nil: never fails
}

func (r *recorder) flush(_ context.Context, items []int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, slices.Clone(items))
	if r.fail != nil {
		if err := r.fail(items); err != nil {
			return err
		}
	}
	r.written = append(r.written, items...)
	return nil
}

func (r *recorder) snapshot() (calls [][]int, written []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls), slices.Sorted(slices.Values(r.written))
}

// failIfContains fails any batch that holds one of bad with err.
func failIfContains(err error, bad ...int) func([]int) error {
	return func(items []int) error {
		for _, it := range items {
			if slices.Contains(bad, it) {
				return fmt.Errorf("item %d: %w", it, err)
			}
		}
		return nil
	}
}

// writeAll writes items 0..n-1 concurrently and returns each one's error.
func writeAll(ctx context.Context, w *batch.Writer[int], n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = w.Write(ctx, i) })
	}
	wg.Wait()
	return errs
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

var errBoom = errors.New("boom")

func TestWriteResults(t *testing.T) {
	const n = 20
	// Every case sends exactly one full batch: MaxBatch = n and a delay that
	// never fires, so the retry paths are exercised deterministically.
	tests := []struct {
		name        string
		fail        func(items []int) error
		wantErr     func(item int) error // expected errors.Is target; nil = success
		wantWritten []int
		wantAcked   int // checked instead of wantErr and wantWritten when wantErr is nil
		wantCalls   int
	}{
		{
			name:        "all succeed in one transaction",
			wantErr:     func(int) error { return nil },
			wantWritten: seq(0, n),
			wantCalls:   1,
		},
		{
			name:        "a bad row fails only its caller",
			fail:        failIfContains(store.ErrConflict, 7),
			wantErr:     func(i int) error { return map[bool]error{true: store.ErrConflict}[i == 7] },
			wantWritten: slices.DeleteFunc(seq(0, n), func(i int) bool { return i == 7 }),
			wantCalls:   1 + n,
		},
		{
			name:        "several bad rows",
			fail:        failIfContains(store.ErrConflict, 0, 19, 3),
			wantErr:     func(i int) error { return map[bool]error{true: store.ErrConflict}[i == 0 || i == 3 || i == 19] },
			wantWritten: slices.DeleteFunc(seq(0, n), func(i int) bool { return i == 0 || i == 3 || i == 19 }),
			wantCalls:   1 + n,
		},
		{
			name:      "outage fails all without retries",
			fail:      func([]int) error { return fmt.Errorf("dial: %w", store.ErrUnavailable) },
			wantErr:   func(int) error { return store.ErrUnavailable },
			wantCalls: 1,
		},
		{
			// Batch order is arrival order, so which items get in before the
			// outage is not fixed: only how many.
			name:      "outage during the retries fails the rest without more calls",
			fail:      succeedRetries(5, store.ErrUnavailable),
			wantAcked: 5,
			wantCalls: 1 + 6,
		},
		{
			name: "each caller gets its own error",
			fail: func(items []int) error {
				if len(items) > 1 {
					return errBoom
				}
				if items[0]%2 == 1 {
					return itemError(items[0])
				}
				return nil
			},
			wantErr: func(i int) error {
				if i%2 == 1 {
					return itemError(i)
				}
				return nil
			},
			wantWritten: []int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18},
			wantCalls:   1 + n,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{fail: tc.fail}
			w := batch.New(rec.flush, batch.Options{MaxBatch: n, MaxDelay: time.Hour})
			errs := writeAll(t.Context(), w, n)
			if err := w.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			calls, written := rec.snapshot()
			if tc.wantErr == nil {
				var acked []int
				for i, err := range errs {
					switch {
					case err == nil:
						acked = append(acked, i)
					case !errors.Is(err, store.ErrUnavailable):
						t.Errorf("Write(%d) = %v, want nil or ErrUnavailable", i, err)
					}
				}
				if len(acked) != tc.wantAcked || !slices.Equal(acked, written) {
					t.Errorf("acknowledged %v, wrote %v; want %d of them, the same", acked, written, tc.wantAcked)
				}
			} else {
				for i, err := range errs {
					want := tc.wantErr(i)
					if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
						t.Errorf("Write(%d) = %v, want %v", i, err, want)
					}
				}
				if !slices.Equal(written, tc.wantWritten) {
					t.Errorf("written = %v, want %v", written, tc.wantWritten)
				}
			}
			if len(calls) != tc.wantCalls {
				t.Errorf("flush calls = %d, want %d: %v", len(calls), tc.wantCalls, calls)
			}
			if len(calls) > 0 && len(calls[0]) != n {
				t.Errorf("first flush had %d items, want one batch of %d", len(calls[0]), n)
			}
		})
	}
}

// succeedRetries fails every batch with errBoom and lets the first n
// single-item retries through; later ones fail with err.
func succeedRetries(n int, err error) func([]int) error {
	retries := 0
	return func(items []int) error {
		if len(items) > 1 {
			return errBoom
		}
		retries++
		if retries <= n {
			return nil
		}
		return err
	}
}

// itemError is an error that only item i may receive.
type itemError int

func (e itemError) Error() string { return fmt.Sprintf("item %d failed", int(e)) }

// gate is a flush that blocks until released, so a test controls when a
// flush is in progress.
type gate struct {
	started chan []int // receives each call's items as it starts
	release chan error // each receive ends one call with that error
	rec     recorder
}

func newGate() *gate {
	return &gate{started: make(chan []int, 100), release: make(chan error)}
}

func (g *gate) flush(ctx context.Context, items []int) error {
	g.started <- slices.Clone(items)
	select {
	case err := <-g.release:
		if err != nil {
			return err
		}
		return g.rec.flush(ctx, items)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func waitStarted(t *testing.T, g *gate) []int {
	t.Helper()
	select {
	case items := <-g.started:
		return items
	case <-time.After(5 * time.Second):
		t.Fatal("flush did not start")
		return nil
	}
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("Write did not return")
		return nil
	}
}

func TestCancelWhileQueued(t *testing.T) {
	g := newGate()
	w := batch.New(g.flush, batch.Options{Flushers: 1})
	first := make(chan error, 1)
	go func() { first <- w.Write(t.Context(), 1) }()
	waitStarted(t, g) // the only flusher is now busy with item 1

	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() { queued <- w.Write(ctx, 2) }()
	cancel()
	if err := waitErr(t, queued); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Write = %v, want context.Canceled", err)
	}

	g.release <- nil
	if err := waitErr(t, first); err != nil {
		t.Fatalf("first Write = %v", err)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, written := g.rec.snapshot(); !slices.Equal(written, []int{1}) {
		t.Errorf("written = %v, want only [1]: a canceled item must not be written", written)
	}
}

func TestCancelAfterFlushStarted(t *testing.T) {
	tests := []struct {
		name     string
		flushErr error
	}{
		{"committed", nil},
		{"failed", errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := newGate()
				w := batch.New(g.flush, batch.Options{})
				ctx, cancel := context.WithCancel(t.Context())
				res := make(chan error, 1)
				go func() { res <- w.Write(ctx, 1) }()
				waitStarted(t, g)
				cancel()
				synctest.Wait() // Write has seen the cancellation: it must still wait for its flush
				select {
				case err := <-res:
					t.Fatalf("Write returned %v while its flush was still running", err)
				default:
				}
				g.release <- tc.flushErr
				if err := waitErr(t, res); !errors.Is(err, tc.flushErr) {
					t.Errorf("Write = %v, want the flush's result %v", err, tc.flushErr)
				}
				if err := w.Close(t.Context()); err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
		})
	}
}

func TestCloseFlushesQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		rec := &recorder{}
		// Without Close these writes would wait an hour for company.
		w := batch.New(rec.flush, batch.Options{MaxBatch: 1000, MaxDelay: time.Hour})
		errs := make([]error, n)
		var finished sync.WaitGroup
		for i := range n {
			finished.Go(func() { errs[i] = w.Write(t.Context(), i) })
		}
		synctest.Wait() // every write is queued, and the batch waits for its delay

		start := time.Now()
		if err := w.Close(t.Context()); err != nil {
			t.Fatalf("Close: %v", err)
		}
		finished.Wait()
		// The bubble's clock moves only when everything waits: had Close
		// waited for the batch's delay, an hour would have passed.
		if d := time.Since(start); d > 0 {
			t.Errorf("Close took %v, want no wait for MaxDelay", d)
		}
		_, written := rec.snapshot()
		var acked []int
		for i, err := range errs {
			if err != nil {
				t.Errorf("Write(%d) = %v, want nil: it was queued before Close", i, err)
				continue
			}
			acked = append(acked, i)
		}
		if !slices.Equal(acked, written) {
			t.Errorf("acknowledged %v but wrote %v", acked, written)
		}
		if len(acked) != n {
			t.Errorf("Close flushed %d of the %d queued writes", len(acked), n)
		}
	})
}

func TestWriteAfterClose(t *testing.T) {
	rec := &recorder{}
	w := batch.New(rec.flush, batch.Options{})
	if err := w.Write(t.Context(), 1); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for i := range 2 { // a second Close is harmless
		if err := w.Close(t.Context()); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if err := w.Write(t.Context(), 2); !errors.Is(err, batch.ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if _, written := rec.snapshot(); !slices.Equal(written, []int{1}) {
		t.Errorf("written = %v, want [1]", written)
	}
}

func TestCloseGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate()
		w := batch.New(g.flush, batch.Options{Flushers: 1})
		inFlight := make(chan error, 1)
		go func() { inFlight <- w.Write(t.Context(), 1) }()
		waitStarted(t, g)
		queued := make(chan error, 1)
		go func() { queued <- w.Write(t.Context(), 2) }()
		synctest.Wait() // item 2 is queued behind the stuck flush

		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close = %v, want DeadlineExceeded", err)
		}
		// The stuck flush sees its context canceled and reports that, truthfully.
		if err := waitErr(t, inFlight); !errors.Is(err, context.Canceled) {
			t.Errorf("in-flight Write = %v, want context.Canceled", err)
		}
		// Its flush never started: it was not written, and says so.
		if err := waitErr(t, queued); !errors.Is(err, batch.ErrClosed) {
			t.Errorf("queued Write = %v, want ErrClosed", err)
		}
		if _, written := g.rec.snapshot(); len(written) != 0 {
			t.Errorf("written = %v, want none", written)
		}
	})
}

func TestFlushTimeout(t *testing.T) {
	g := newGate()
	w := batch.New(g.flush, batch.Options{FlushTimeout: 10 * time.Millisecond})
	defer w.Close(t.Context())
	err := w.Write(t.Context(), 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Write with a stuck flush = %v, want DeadlineExceeded", err)
	}
	<-g.started
}

func TestConcurrentWriters(t *testing.T) {
	const (
		goroutines = 200
		perG       = 20
	)
	isBad := func(i int) bool { return i%97 == 13 }
	tests := []struct {
		name string
		opts batch.Options
	}{
		{"no delay, one flusher", batch.Options{}},
		{"delay, three flushers", batch.Options{MaxDelay: 200 * time.Microsecond, Flushers: 3, MaxBatch: 50}},
		{"tiny queue", batch.Options{QueueSize: 1, MaxBatch: 7, Flushers: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{fail: func(items []int) error {
				if slices.ContainsFunc(items, isBad) {
					return store.ErrConflict
				}
				return nil
			}}
			w := batch.New(rec.flush, tc.opts)
			var (
				mu    sync.Mutex
				acked []int
				wg    sync.WaitGroup
			)
			for g := range goroutines {
				wg.Go(func() {
					for j := range perG {
						i := g*perG + j
						err := w.Write(t.Context(), i)
						switch {
						case isBad(i) && !errors.Is(err, store.ErrConflict):
							t.Errorf("Write(%d) = %v, want ErrConflict", i, err)
						case !isBad(i) && err != nil:
							t.Errorf("Write(%d) = %v", i, err)
						case err == nil:
							mu.Lock()
							acked = append(acked, i)
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if err := w.Close(t.Context()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			calls, written := rec.snapshot()
			slices.Sort(acked)
			if !slices.Equal(acked, written) {
				t.Errorf("acknowledged %d items, wrote %d", len(acked), len(written))
			}
			if want := goroutines * perG; len(acked)+countBad(want, isBad) != want {
				t.Errorf("acknowledged %d of %d good items", len(acked), want-countBad(want, isBad))
			}
			maxBatch := 0
			for _, c := range calls {
				maxBatch = max(maxBatch, len(c))
			}
			if limit := cmp.Or(tc.opts.MaxBatch, batch.DefaultMaxBatch); maxBatch > limit {
				t.Errorf("a batch had %d items, above MaxBatch %d", maxBatch, limit)
			}
			t.Logf("%d flush calls, largest batch %d", len(calls), maxBatch)
		})
	}
}

func countBad(n int, isBad func(int) bool) int {
	c := 0
	for i := range n {
		if isBad(i) {
			c++
		}
	}
	return c
}
