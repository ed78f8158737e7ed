package memory_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/authd/authd/internal/replay"
	"github.com/authd/authd/internal/replay/memory"
	"github.com/authd/authd/internal/replay/replaytest"
	"github.com/authd/authd/internal/testenv/clocktest"
)

func newCache(t *testing.T, opts memory.Options) *memory.Cache {
	c := memory.New(opts)
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T, now func() time.Time) replay.Cache {
		return newCache(t, memory.Options{Now: now})
	})
}

// TestConformanceRealClock runs the suite on the real clock, as authd does.
func TestConformanceRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time suite takes seconds")
	}
	replaytest.Run(t, func(t *testing.T, _ func() time.Time) replay.Cache {
		return newCache(t, memory.Options{})
	})
}

// TestFullFailsClosed: a cache full of live records refuses new keys with
// ErrFull (an outage to the caller, who refuses the use) and never makes
// room by forgetting a live record: a flood of fresh keys cannot turn a
// replay into a first use.
func TestFullFailsClosed(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	const maxKeys = 100
	c := newCache(t, memory.Options{MaxKeys: maxKeys, Now: clk.Now})
	ctx := context.Background()
	until := clk.Now().Add(time.Minute)
	for i := range maxKeys {
		if first, err := c.Use(ctx, "live:"+strconv.Itoa(i), until); err != nil || !first {
			t.Fatalf("Use %d = %v, %v; want a first use", i, first, err)
		}
	}
	// The flood: 100 times as many fresh keys as fit.
	for i := range 100 * maxKeys {
		first, err := c.Use(ctx, "flood:"+strconv.Itoa(i), until)
		if !errors.Is(err, memory.ErrFull) || !errors.Is(err, replay.ErrUnavailable) || first {
			t.Fatalf("flood use %d = %v, %v; want false and ErrFull", i, first, err)
		}
	}
	// Every live record survived it: each replay is refused as a replay
	// (false, no error), full or not.
	for i := range maxKeys {
		if first, err := c.Use(ctx, "live:"+strconv.Itoa(i), until); err != nil || first {
			t.Fatalf("replay %d after the flood = %v, %v; want false, nil", i, first, err)
		}
	}
	if n := c.Len(); n != maxKeys {
		t.Fatalf("Len = %d; want %d", n, maxKeys)
	}
}

// TestFullDropsExpiredFirst: at the bound, expired records make room, with
// no periodic clean-up needed (the fake clock has none).
func TestFullDropsExpiredFirst(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	const maxKeys = 100
	c := newCache(t, memory.Options{MaxKeys: maxKeys, Now: clk.Now})
	ctx := context.Background()
	// Half the records end in a second, half in an hour.
	for i := range maxKeys {
		life := time.Second
		if i%2 == 1 {
			life = time.Hour
		}
		if first, err := c.Use(ctx, "k:"+strconv.Itoa(i), clk.Now().Add(life)); err != nil || !first {
			t.Fatalf("Use %d = %v, %v", i, first, err)
		}
	}
	if _, err := c.Use(ctx, "new:0", clk.Now().Add(time.Minute)); !errors.Is(err, memory.ErrFull) {
		t.Fatalf("Use while full = %v; want ErrFull", err)
	}
	clk.Advance(time.Second)
	// The 50 expired records make room for exactly 50 new ones.
	for i := range maxKeys / 2 {
		if first, err := c.Use(ctx, "new:"+strconv.Itoa(i), clk.Now().Add(time.Minute)); err != nil || !first {
			t.Fatalf("new use %d after half expired = %v, %v; want a first use", i, first, err)
		}
	}
	if _, err := c.Use(ctx, "new:extra", clk.Now().Add(time.Minute)); !errors.Is(err, memory.ErrFull) {
		t.Fatalf("Use past the bound = %v; want ErrFull", err)
	}
	// The hour-long records are all still there.
	for i := 1; i < maxKeys; i += 2 {
		if first, err := c.Use(ctx, "k:"+strconv.Itoa(i), clk.Now().Add(time.Minute)); err != nil || first {
			t.Fatalf("replay of live record %d = %v, %v; want false, nil", i, first, err)
		}
	}
}

// TestRecordsLeave: the count follows records out, whether otter's
// maintenance drops an expired one or a new use replaces it.
func TestRecordsLeave(t *testing.T) {
	clk := clocktest.New(time.Unix(1_900_000_000, 0))
	c := newCache(t, memory.Options{Now: clk.Now})
	ctx := context.Background()
	for i := range 1000 {
		if _, err := c.Use(ctx, "k:"+strconv.Itoa(i), clk.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n != 1000 {
		t.Fatalf("Len = %d; want 1000", n)
	}
	clk.Advance(time.Second)
	// Reusing a tenth of the keys replaces their expired records.
	for i := range 100 {
		if first, err := c.Use(ctx, "k:"+strconv.Itoa(i), clk.Now().Add(time.Second)); err != nil || !first {
			t.Fatalf("reuse %d = %v, %v; want a first use", i, first, err)
		}
	}
	if n := c.Len(); n != 100 {
		t.Fatalf("Len = %d after 900 records expired; want 100", n)
	}
	clk.Advance(time.Second)
	if n := c.Len(); n != 0 {
		t.Fatalf("Len = %d after every record expired; want 0", n)
	}
}

// TestConcurrentAtTheBound: racing first uses never take the cache past
// MaxKeys, and none is lost: exactly MaxKeys of them succeed.
func TestConcurrentAtTheBound(t *testing.T) {
	const maxKeys, goroutines, perG = 500, 20, 100
	c := newCache(t, memory.Options{MaxKeys: maxKeys})
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	results := make(chan int, goroutines)
	start := make(chan struct{})
	for g := range goroutines {
		go func() {
			<-start
			n := 0
			for i := range perG {
				first, err := c.Use(ctx, "k:"+strconv.Itoa(g)+":"+strconv.Itoa(i), until)
				switch {
				case first:
					n++
				case !errors.Is(err, memory.ErrFull):
					t.Errorf("Use = %v, %v; want a first use or ErrFull", first, err)
				}
			}
			results <- n
		}()
	}
	close(start)
	total := 0
	for range goroutines {
		total += <-results
	}
	if total != maxKeys {
		t.Fatalf("%d first uses at a bound of %d", total, maxKeys)
	}
	if n := c.Len(); n != maxKeys {
		t.Fatalf("Len = %d; want %d", n, maxKeys)
	}
}
