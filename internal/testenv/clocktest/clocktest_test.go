package clocktest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/authd/authd/internal/testenv/clocktest"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktest.New(start)
	steps := []struct {
		name    string
		advance time.Duration
		want    time.Time
	}{
		{"starts at start", 0, start},
		{"forward", time.Hour, start.Add(time.Hour)},
		{"by a nanosecond", time.Nanosecond, start.Add(time.Hour + time.Nanosecond)},
		{"back", -time.Hour - time.Nanosecond, start},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		got := clk.Now()
		if !got.Equal(s.want) || got.Location() != s.want.Location() {
			t.Fatalf("%s: Now = %v, want %v", s.name, got, s.want)
		}
		// The clock does not move by itself.
		if again := clk.Now(); !again.Equal(got) {
			t.Fatalf("%s: Now moved from %v to %v without Advance", s.name, got, again)
		}
	}
}

// TestClockConcurrent advances and reads the clock from many goroutines, as a
// cache's maintenance goroutine and a test do; run under -race it proves the
// clock needs no locking by its users. Every step must count, and no reader
// may see time go back.
func TestClockConcurrent(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	clk := clocktest.New(start)
	const writers, readers, steps = 8, 8, 1000
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range steps {
				clk.Advance(time.Millisecond)
			}
		})
	}
	backwards := make(chan time.Duration, readers)
	for range readers {
		wg.Go(func() {
			prev := clk.Now()
			for range steps {
				now := clk.Now()
				if now.Before(prev) {
					backwards <- prev.Sub(now)
					return
				}
				prev = now
			}
		})
	}
	wg.Wait()
	close(backwards)
	for d := range backwards {
		t.Errorf("a reader saw the clock go back by %v", d)
	}
	if got, want := clk.Now().Sub(start), writers*steps*time.Millisecond; got != want {
		t.Fatalf("clock advanced by %v after %d steps of 1ms, want %v", got, writers*steps, want)
	}
}
