package redis_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authd/authd/internal/replay/redis"
)

// parallelism × GOMAXPROCS goroutines share the connection, as concurrent
// requests do in a replica (64 on a 2-core machine, like wrk -c64): the load
// under which rueidis's auto-pipelining batches commands.
const parallelism = 32

func BenchmarkUse(b *testing.B) {
	// first: every call a fresh key (SET NX succeeds, a write); records
	// live a second so that the test's keys stay few.
	b.Run("first", func(b *testing.B) {
		c := open(b, redis.Options{Timeout: time.Second})
		ctx := context.Background()
		var seq atomic.Uint64
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := "dpop:" + strconv.FormatUint(seq.Add(1), 36)
				if first, err := c.Use(ctx, key, time.Now().Add(time.Second)); err != nil || !first {
					b.Fatalf("Use = %v, %v", first, err)
				}
			}
		})
	})
	// replay: every call a held key (SET NX finds it, writes nothing).
	b.Run("replay", func(b *testing.B) {
		c := open(b, redis.Options{Timeout: time.Second})
		ctx := context.Background()
		until := time.Now().Add(time.Minute)
		if _, err := c.Use(ctx, "dpop:held", until); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetParallelism(parallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if first, err := c.Use(ctx, "dpop:held", until); err != nil || first {
					b.Fatalf("Use = %v, %v", first, err)
				}
			}
		})
	})
}

// BenchmarkUseBreakerOpen is the cost of a call while Redis is down.
func BenchmarkUseBreakerOpen(b *testing.B) {
	c := open(b, redis.Options{URL: "redis://127.0.0.1:1", TripAfter: 1, OpenFor: time.Hour})
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	_, _ = c.Use(ctx, "k", until)
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = c.Use(ctx, "k", until)
		}
	})
}
