package secevent_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/authd/authd/internal/secevent"
	"github.com/authd/authd/internal/store"
)

// flakySink fails its first `failures` calls with err, then stores.
func flakySink(failures int, err error) *memorySink {
	return &memorySink{fail: func(call int) error {
		if call <= failures {
			return fmt.Errorf("append audit: %w", err)
		}
		return nil
	}}
}

// TestStoreBlipLosesNothing: the attack run cut PostgreSQL's connections and
// lost the events of every batch written meanwhile. A failure that may pass
// is retried with backoff, for up to RetryFor.
func TestStoreBlipLosesNothing(t *testing.T) {
	errBusted := errors.New("busted")
	tests := []struct {
		name                         string
		failures                     int
		err                          error
		retryFor                     time.Duration
		wantWritten, wantLost        uint64
		wantRetries, wantWriteErrors uint64
		wantLog                      []string
	}{
		{name: "a blip of a few failed calls", failures: 5, err: store.ErrUnavailable,
			wantWritten: 20, wantRetries: 5,
			wantLog: []string{"audit write failed; retrying", "succeeded after retries"}},
		{name: "a write that timed out", failures: 1, err: context.DeadlineExceeded,
			wantWritten: 20, wantRetries: 1},
		{name: "an outage longer than RetryFor", failures: 1000, err: store.ErrUnavailable, retryFor: 10 * time.Second,
			// Each batch waits 0.1+0.2+0.4+0.8+1.6+3.2 s and then the 3.7 s
			// left of its budget: 7 retries, 8 calls, and it is lost.
			wantLost: 20, wantWriteErrors: 2, wantRetries: 2 * 7,
			wantLog: []string{"audit write failed; events lost"}},
		{name: "a rejection is not retried", failures: 1, err: errBusted,
			wantWritten: 10, wantLost: 10, wantWriteErrors: 1,
			wantLog: []string{"audit write failed; events lost", "busted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sink := flakySink(tc.failures, tc.err)
				var logs logBuffer
				p := secevent.New(sink, secevent.Options{MaxBatch: 10, FlushEvery: time.Hour, RetryFor: tc.retryFor,
					Logger: logger(&logs)})
				start(t, p)
				for i := range 20 {
					p.Emit(event(i))
				}
				closeWithin(t, p, time.Hour)
				if p.Written() != tc.wantWritten || p.Lost() != tc.wantLost || p.WriteRetries() != tc.wantRetries ||
					p.WriteErrors() != tc.wantWriteErrors {
					t.Errorf("Written %d Lost %d WriteRetries %d WriteErrors %d, want %d, %d, %d, %d",
						p.Written(), p.Lost(), p.WriteRetries(), p.WriteErrors(),
						tc.wantWritten, tc.wantLost, tc.wantRetries, tc.wantWriteErrors)
				}
				if got := uint64(len(sink.snapshot())); got != tc.wantWritten {
					t.Errorf("the sink holds %d events, want %d", got, tc.wantWritten)
				}
				for _, want := range tc.wantLog {
					if !strings.Contains(logs.String(), want) {
						t.Errorf("the log lacks %q:\n%s", want, logs.String())
					}
				}
			})
		})
	}
}

// TestBackoffDoubles: the waits between attempts double from 100 ms up to
// 5 s, so a long outage costs the store an attempt every few seconds, not a
// storm of them.
func TestBackoffDoubles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []time.Duration
		begin := time.Now()
		sink := &memorySink{fail: func(call int) error {
			calls = append(calls, time.Since(begin))
			if call <= 9 {
				return store.ErrUnavailable
			}
			return nil
		}}
		p := secevent.New(sink, secevent.Options{MaxBatch: 1})
		p.Emit(event(1))
		closeWithin(t, p, time.Minute)
		var gaps []string
		for i := 1; i < len(calls); i++ {
			gaps = append(gaps, (calls[i] - calls[i-1]).String())
		}
		want := "100ms 200ms 400ms 800ms 1.6s 3.2s 5s 5s 5s"
		if got := strings.Join(gaps, " "); got != want {
			t.Errorf("waits between attempts: %s, want %s", got, want)
		}
		if p.Written() != 1 {
			t.Errorf("Written = %d, want 1", p.Written())
		}
	})
}

// TestEmitDuringBlip: while a batch is retried the queue is not read, so it
// fills and Emit drops, counted, without blocking; once the store is back,
// everything accepted is written.
func TestEmitDuringBlip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := flakySink(4, store.ErrUnavailable) // ≈ 1.5 s of waits
		p := secevent.New(sink, secevent.Options{QueueSize: 50, MaxBatch: 10, FlushEvery: 10 * time.Millisecond})
		start(t, p)
		for i := range 300 {
			p.Emit(event(i)) // returns at once, or this loop would never end in the bubble
			time.Sleep(10 * time.Millisecond)
		}
		closeWithin(t, p, time.Minute)
		if p.Dropped() == 0 {
			t.Error("Dropped = 0, want drops while the queue was full")
		}
		if p.Emitted()+p.Dropped() != 300 || p.Written() != p.Emitted() || p.Lost() != 0 {
			t.Errorf("Emitted %d Dropped %d Written %d Lost %d: accepted events were lost",
				p.Emitted(), p.Dropped(), p.Written(), p.Lost())
		}
		if uint64(len(sink.snapshot())) != p.Emitted() {
			t.Errorf("the sink holds %d events, want %d", len(sink.snapshot()), p.Emitted())
		}
	})
}

// TestCloseDeadlineEndsRetries: shutdown waits for a store that is down no
// longer than its deadline, and what it could not write is counted as lost.
func TestCloseDeadlineEndsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := flakySink(1<<30, store.ErrUnavailable)
		var logs logBuffer
		p := secevent.New(sink, secevent.Options{Logger: logger(&logs)})
		start(t, p)
		for i := range 5 {
			p.Emit(event(i))
			p.Emit(secevent.Event{Type: secevent.LoginFailed, IP: "192.0.2.7"})
		}
		begin := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close with the store down = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(begin); d != 2*time.Second {
			t.Errorf("Close took %v, want its deadline, 2s", d)
		}
		synctest.Wait() // the writer gives up
		// 5 events, the first refusal, and the row counting the other 4.
		if p.Lost() != 7 || p.Written() != 0 {
			t.Errorf("Lost %d Written %d, want 7, 0", p.Lost(), p.Written())
		}
		if !strings.Contains(logs.String(), "gave up retrying") {
			t.Errorf("the log does not say the retries were cut short:\n%s", logs.String())
		}
	})
}
